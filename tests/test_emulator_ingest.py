"""Logs Ingestion through LogsIngestionClient: routing, limits, RBAC, mapping (azure-contract.md §7, §8)."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provision.emulator import seed
from tests.emulator_helpers import RG, create_dcr, create_table, dcr_body, deploy, grant_sender

SUB_SCOPE = f"/subscriptions/{seed.SUBSCRIPTION_ID}"
ROW = {"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "hello"}


def _upload(azure, rule, logs, stream="Custom-MyApp", who="sender", **kwargs):
    azure.ingestion(rule.endpoints.logs_ingestion, who).upload(rule_id=rule.immutable_id, stream_name=stream, logs=logs, **kwargs)


def _raw_post(azure, rule, body: bytes, headers: dict, stream="Custom-MyApp"):
    """POST through the ingestion client's pipeline (auth, TLS) with a hand-made body."""
    from azure.core.rest import HttpRequest

    client = azure.ingestion(rule.endpoints.logs_ingestion)
    url = f"{rule.endpoints.logs_ingestion}/dataCollectionRules/{rule.immutable_id}/streams/{stream}?api-version=2023-01-01"
    return client.send_request(HttpRequest("POST", url, content=body, headers={"Content-Type": "application/json", **headers}))


def test_sender_without_role_gets_403_with_service_message(azure):
    rule = deploy(azure, grant=False)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, [ROW])
    assert raised.value.status_code == 403 and raised.value.error.code == "OperationFailed"
    assert f"immutable Id '{rule.immutable_id}'" in raised.value.error.message
    assert seed.SENDER_OBJECT_ID in raised.value.error.message


@pytest.mark.parametrize("scope", ["rule", "group", "subscription"])
def test_role_inherited_from_parent_scopes(azure, emu, scope):
    rule = deploy(azure, grant=False)
    grant_sender(azure, {"rule": rule.id, "group": f"{SUB_SCOPE}/resourceGroups/{RG}", "subscription": SUB_SCOPE}[scope])
    _upload(azure, rule, [ROW])
    assert emu.rows("MyApp_CL") == [ROW]


def test_role_on_another_rule_does_not_count(azure):
    rule = deploy(azure, grant=False)
    other = create_dcr(azure, "dcr-other")
    grant_sender(azure, other.id)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, [ROW])
    assert raised.value.status_code == 403


def test_role_propagation_delay(azure, emu):
    emu.set_role_propagation_seconds(60)
    rule = deploy(azure)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, [ROW])
    assert raised.value.status_code == 403  # assigned, not yet propagated
    emu.set_role_propagation_seconds(0.2)  # the knob applies to existing assignments: propagated 0.2 s after creation
    time.sleep(0.2)
    _upload(azure, rule, [ROW])
    assert len(emu.rows("MyApp_CL")) == 1


def test_deployer_rights_at_arm_do_not_grant_ingestion(azure):
    rule = deploy(azure, grant=False)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, [ROW], who="deployer")  # Owner has actions, not the Telemetry/Write data action
    assert raised.value.status_code == 403


def test_unknown_rule_and_stream_are_404(azure):
    rule = deploy(azure)
    client = azure.ingestion(rule.endpoints.logs_ingestion)
    with pytest.raises(ResourceNotFoundError):
        client.upload(rule_id="dcr-" + "0" * 32, stream_name="Custom-MyApp", logs=[ROW])
    with pytest.raises(ResourceNotFoundError) as raised:
        _upload(azure, rule, [ROW], stream="Custom-Nope")
    assert "Custom-Nope" in raised.value.error.message


def test_rule_endpoint_serves_only_its_rule(azure):
    rule = deploy(azure)
    other = create_dcr(azure, "dcr-other")
    client = azure.ingestion(other.endpoints.logs_ingestion)
    with pytest.raises(ResourceNotFoundError):
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])


def test_dce_endpoint_ingests(azure, emu):
    create_table(azure)
    mon = azure.monitor()
    dce = mon.data_collection_endpoints.create(RG, "dce-a", json.dumps({"location": "westeurope"}).encode())
    rule = create_dcr(azure, "dcr-dce", dcr_body(kind="Linux", dataCollectionEndpointId=dce.id))
    grant_sender(azure, rule.id)
    azure.ingestion(dce.logs_ingestion.endpoint).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert emu.rows("MyApp_CL") == [ROW]


def test_dce_endpoint_needs_the_rule_bound_to_it(azure):
    """The 403 names IsDcrDceBindingValid (azure-contract.md §7): a rule is sent through the DCE it names."""
    rule = deploy(azure)  # a Direct rule without dataCollectionEndpointId
    dce = azure.monitor().data_collection_endpoints.create(RG, "dce-a", json.dumps({"location": "westeurope"}).encode())
    with pytest.raises(HttpResponseError) as raised:
        azure.ingestion(dce.logs_ingestion.endpoint).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 403 and "IsDcrDceBindingValid: False" in raised.value.error.message
    assert "IsRbacPresent: True" in raised.value.error.message


def test_rule_without_own_endpoint_is_not_served_there(azure, emu):
    create_table(azure)
    rule = create_dcr(azure, "dcr-linux", dcr_body(kind="Linux"))
    grant_sender(azure, rule.id)
    client = azure.ingestion(f"{emu.url}/ingest/dcr/{rule.immutable_id}")
    with pytest.raises(ResourceNotFoundError):
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])


def test_body_over_1mb_is_413(azure):
    rule = deploy(azure)
    big = json.dumps([{"Message": "x" * 1000} for _ in range(1100)]).encode()
    response = _raw_post(azure, rule, big, {})
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("The message is too large")
    assert response.headers["x-ms-error-code"] == response.json()["error"]["code"]


def test_sdk_chunks_of_1mb_are_accepted(azure, emu):
    rule = deploy(azure)
    rows = [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "m" * 200 + str(i)} for i in range(12000)]
    _upload(azure, rule, rows)
    assert len(emu.rows("MyApp_CL")) == 12000
    assert emu.count(operation="Ingest_Upload", status=204) >= 3


def test_plain_json_accepted_and_bad_bodies_400(azure, emu):
    rule = deploy(azure)
    assert _raw_post(azure, rule, json.dumps([ROW]).encode(), {}).status_code == 204
    assert _raw_post(azure, rule, gzip.compress(json.dumps([ROW]).encode()), {"Content-Encoding": "gzip"}).status_code == 204
    assert emu.rows("MyApp_CL") == [ROW, ROW]
    too_deep = b"[" * 100_000 + b"]" * 100_000  # valid JSON nested deeper than any parser recurses
    for body, headers in ((b"{not json", {}), (b'{"a": 1}', {}), (b"plain", {"Content-Encoding": "gzip"}), (too_deep, {})):
        response = _raw_post(azure, rule, body, headers)
        assert response.status_code == 400, body


def test_long_fields_truncated_to_64kb(azure, emu):
    rule = deploy(azure)
    _upload(azure, rule, [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "y" * 70000}])
    assert len(emu.rows("MyApp_CL")[0]["Message"]) == 64 * 1024


def test_long_field_with_escaped_quotes_is_truncated_too(azure, emu):
    # Escaped quotes split the JSON text into short quote-free runs: the check must look at the values.
    rule = deploy(azure)
    message = ('x' * 1000 + '"') * 80  # 80,080 characters, a quote every 1,001
    _upload(azure, rule, [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": message}])
    stored = emu.rows("MyApp_CL")[0]["Message"]
    assert len(stored.encode()) == 64 * 1024 and message.startswith(stored)


def test_columns_not_in_table_are_dropped_after_transform(azure, emu):
    create_table(azure)
    body = dcr_body(columns=(("TimeGenerated", "datetime"), ("Message", "string"), ("Extra", "string")))
    rule = create_dcr(azure, "dcr-extra", body)
    grant_sender(azure, rule.id)
    _upload(azure, rule, [{**ROW, "Extra": "declared but not in the table"}])
    assert emu.rows("MyApp_CL") == [ROW]


def test_transform_runs_and_filters(azure, emu):
    create_table(azure, "MyApp_CL", ("Message", "string"), ("Level", "int"))
    body = dcr_body(columns=(("TimeGenerated", "datetime"), ("Message", "string"), ("Level", "int")),
                    transform="source | where Level >= 2 | extend Message = toupper(Message)")
    rule = create_dcr(azure, "dcr-t", body)
    grant_sender(azure, rule.id)
    _upload(azure, rule, [{**ROW, "Level": 1}, {**ROW, "Level": 3}])
    rows = emu.rows("MyApp_CL")
    assert [r["Message"] for r in rows] == ["HELLO"] and rows[0]["Level"] == 3
    assert emu.ingestion_stats(rule.immutable_id)["filtered"] == 1


def test_azure_table_output_with_cf_column(azure, emu):
    la = azure.loganalytics()
    la.tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "Syslog", {"properties": {"schema": {
        "columns": [{"name": "OrderRef_CF", "type": "string"}]}}}).result()
    body = dcr_body(stream="Custom-Sys", columns=(("TimeGenerated", "datetime"), ("SyslogMessage", "string"),
                                                  ("OrderRef_CF", "string"), ("Junk", "string")))
    body["properties"]["dataFlows"][0]["outputStream"] = "Microsoft-Syslog"
    rule = create_dcr(azure, "dcr-sys", body)
    grant_sender(azure, rule.id)
    _upload(azure, rule, [{"TimeGenerated": "2026-01-01T00:00:00Z", "SyslogMessage": "m", "OrderRef_CF": "o", "Junk": "j"}],
            stream="Custom-Sys")
    assert emu.rows("Syslog") == [{"TimeGenerated": "2026-01-01T00:00:00Z", "SyslogMessage": "m", "OrderRef_CF": "o"}]


def test_deleting_a_table_drops_its_rows(azure, emu):
    rule = deploy(azure)
    _upload(azure, rule, [ROW])
    azure.loganalytics().tables.begin_delete(RG, seed.WORKSPACE_NAME, "MyApp_CL").result()
    assert emu.rows("MyApp_CL") == []


def test_unsupported_api_version(azure):
    from azure.monitor.ingestion import LogsIngestionClient

    rule = deploy(azure)
    client = LogsIngestionClient(rule.endpoints.logs_ingestion, azure.credential("sender"), connection_verify=azure.ca,
                                 retry_total=0, api_version="2020-01-01")
    with pytest.raises(HttpResponseError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 400


def test_auxiliary_table_30_minute_window_without_transform(azure, emu):
    """azure-contract.md §8: Auxiliary tables, no transformation: one call's TimeGenerated range under 30 minutes."""
    azure.loganalytics().tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "MyApp_CL", {"properties": {
        "plan": "Auxiliary", "schema": {"columns": [{"name": "TimeGenerated", "type": "dateTime"},
                                                    {"name": "Message", "type": "string"}]}}}).result()
    rule = create_dcr(azure)
    grant_sender(azure, rule.id)
    within = [{"TimeGenerated": "2026-01-01T00:00:00.000000Z", "Message": "a"},
              {"TimeGenerated": "2026-01-01T00:29:00.000000Z", "Message": "b"}]
    _upload(azure, rule, within)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, within + [{"TimeGenerated": "2026-01-01T00:31:00.000000Z", "Message": "c"}])
    assert raised.value.status_code == 400 and "30 minutes" in raised.value.error.message
    assert len(emu.rows("MyApp_CL")) == 2


@pytest.mark.parametrize("transform, limited", [
    ("source | where Message != 'skip'", True),  # transformed, but TimeGenerated left as sent: the limit stays
    ("source | extend TimeGenerated = todatetime(TimeGenerated)", False),  # TimeGenerated transformed: lifted
])
def test_auxiliary_window_applies_while_timegenerated_is_not_transformed(azure, emu, transform, limited):
    """azure-contract.md §8 [DOC-LIMITS-LIA]: the 30-minute range per call applies "when TimeGenerated is not
    transformed"; any other transform keeps it ([DOC-TRANSFORM]: Auxiliary tables take transformations)."""
    azure.loganalytics().tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "MyApp_CL", {"properties": {
        "plan": "Auxiliary", "schema": {"columns": [{"name": "TimeGenerated", "type": "dateTime"},
                                                    {"name": "Message", "type": "string"}]}}}).result()
    rule = create_dcr(azure, body=dcr_body(transform=transform))
    grant_sender(azure, rule.id)
    wide = [{"TimeGenerated": "2026-01-01T00:00:00.000000Z", "Message": "a"},
            {"TimeGenerated": "2026-01-01T01:00:00.000000Z", "Message": "b"}]
    if limited:
        with pytest.raises(HttpResponseError) as raised:
            _upload(azure, rule, wide)
        assert raised.value.status_code == 400 and "30 minutes" in raised.value.error.message
        assert emu.rows("MyApp_CL") == []
    else:
        _upload(azure, rule, wide)
        assert len(emu.rows("MyApp_CL")) == 2


def test_chunked_gzip_upload_is_read(azure, emu):
    """sdk-notes.md: an IO body of unknown length goes out with Transfer-Encoding: chunked."""
    rule = deploy(azure)
    payload = gzip.compress(json.dumps([ROW, ROW]).encode())
    parts = (payload[i:i + 7] for i in range(0, len(payload), 7))
    response = _raw_post(azure, rule, parts, {"Content-Encoding": "gzip"})
    assert response.status_code == 204
    assert emu.rows("MyApp_CL") == [ROW, ROW]
