"""The HTTP Data Collector API on the emulator, driven as the documented samples drive it.

The sender (tests/datacollector_client.py) is written from the algorithm in learn.microsoft.com/azure/azure-monitor/logs/data-collector-api
("Authorization", and its Python sample): it does not use the emulator's own signing code. Keys come from ARM
(``POST .../sharedKeys`` through azure-mgmt-loganalytics), tables are read back through the Tables API.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from provision.emulator import seed
from tests.datacollector_client import WORKSPACE, build_signature, post_data, rfc1123
from tests.emulator_helpers import RG, WS
from tests.specs import SPECS, needs_specs


@pytest.fixture
def key(azure) -> str:
    return azure.loganalytics().shared_keys.get_shared_keys(RG, WS).primary_shared_key


def columns_of(azure, table: str) -> dict[str, str]:
    got = azure.loganalytics().tables.get(RG, WS, table)
    assert got.properties.schema.table_sub_type == "Classic"
    return {c.name: c.type for c in got.properties.schema.columns}


RECORDS = [
    {"Computer": "web-1", "Count": 42, "Ok": True, "When": "2026-01-02T03:04:05Z",
     "Id": "9909ED01-A74C-4874-8ABF-D2678E3AE23D", "Detail": {"a": [1, 2]}, "Gone": None},
    {"Computer": "web-2", "Count": 1.5, "Ok": False, "When": "2026-01-02T03:04:06.5+01:00",
     "Id": "8809ed01a74c48748abfd2678e3ae23d", "Detail": "text"},
]


def test_first_post_creates_a_classic_table_with_suffixed_columns(emu, azure, key):
    response = post_data(emu, key, json.dumps(RECORDS), resource_id="/subscriptions/x/resourceGroups/r/providers/A/b/c")
    assert response.status_code == 200, response.text
    assert columns_of(azure, "AppEvents_CL") == {
        "TimeGenerated": "dateTime", "Computer_s": "string", "Count_d": "real", "Ok_b": "boolean", "When_t": "dateTime",
        "Id_g": "guid", "Detail_s": "string"}
    rows = emu.rows("AppEvents_CL")
    assert [r["Computer_s"] for r in rows] == ["web-1", "web-2"]
    assert rows[0]["Count_d"] == 42.0 and rows[1]["Ok_b"] is False
    assert rows[0]["Detail_s"] == '{"a":[1,2]}' and rows[1]["Detail_s"] == "text"  # nested objects are stored as text
    assert rows[1]["When_t"] == "2026-01-02T02:04:06.5Z"
    assert rows[1]["Id_g"] == "8809ed01-a74c-4874-8abf-d2678e3ae23d"  # dashes inserted (the documented note)
    assert "Gone_s" not in rows[0]  # nulls are not included
    assert rows[0]["_ResourceId"] == "/subscriptions/x/resourcegroups/r/providers/a/b/c"
    arrival = datetime.fromisoformat(rows[0]["TimeGenerated"])
    assert abs(arrival - datetime.now(UTC)) < timedelta(minutes=1)  # no time-generated-field: the arrival time


def test_new_fields_add_columns_and_values_convert_to_existing_ones(emu, azure, key):
    assert post_data(emu, key, json.dumps([{"Count": 1, "Ok": True, "Name": "a"}])).status_code == 200
    # All as strings: they convert to the existing columns ("42" -> Count_d), as the documented example says.
    assert post_data(emu, key, json.dumps([{"Count": "42", "Ok": "false", "Name": "b"}])).status_code == 200
    assert columns_of(azure, "AppEvents_CL") == {"TimeGenerated": "dateTime", "Count_d": "real", "Ok_b": "boolean",
                                                 "Name_s": "string"}
    # Values that do not convert get new suffixed columns (Ok: 42 -> Ok_d; Name: 42 -> Name_d); a new field adds one.
    assert post_data(emu, key, json.dumps([{"Count": 2, "Ok": 42, "Name": 42, "Extra": "x"}])).status_code == 200
    assert columns_of(azure, "AppEvents_CL") == {"TimeGenerated": "dateTime", "Count_d": "real", "Ok_b": "boolean",
                                                 "Name_s": "string", "Ok_d": "real", "Name_d": "real", "Extra_s": "string"}
    rows = emu.rows("AppEvents_CL")
    assert rows[1] == {**rows[1], "Count_d": 42.0, "Ok_b": False, "Name_s": "b"}
    assert rows[2]["Ok_d"] == 42.0 and "Ok_b" not in rows[2]


def test_time_generated_field_sets_time_generated_within_the_documented_window(emu, key):
    recent = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps([{"At": recent, "N": 1}, {"At": stale, "N": 2}, {"N": 3}])
    assert post_data(emu, key, body, "Timed", time_field="At").status_code == 200
    rows = emu.rows("Timed_CL")
    assert rows[0]["TimeGenerated"] == recent and rows[0]["At_t"] == recent
    for row in rows[1:]:  # older than 2 days, or missing: the received time
        assert abs(datetime.fromisoformat(row["TimeGenerated"]) - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_secondary_key_signs_too_and_regenerating_retires_the_old_keys(emu, azure):
    la = azure.loganalytics()
    keys = la.shared_keys.get_shared_keys(RG, WS)
    assert len(base64.b64decode(keys.primary_shared_key)) == 64 and keys.primary_shared_key != keys.secondary_shared_key
    assert post_data(emu, keys.secondary_shared_key, "[]").status_code == 200
    fresh = la.shared_keys.regenerate(RG, WS)
    assert fresh.primary_shared_key not in (keys.primary_shared_key, keys.secondary_shared_key)
    assert post_data(emu, keys.primary_shared_key, "[]").status_code == 403
    assert post_data(emu, fresh.primary_shared_key, "[]").status_code == 200


def test_shared_keys_need_the_action_on_the_workspace(azure):
    # The sender holds no role on the workspace: ARM refuses to hand it the keys (AuthorizationFailed, 403).
    with pytest.raises(HttpResponseError) as refused:
        azure.loganalytics("sender").shared_keys.get_shared_keys(RG, WS)
    assert refused.value.status_code == 403 and "sharedKeys/action" in str(refused.value)


def _refused(response: requests.Response, status: int, code: str | None) -> str:
    assert response.status_code == status, response.text
    if code is None:
        return response.text
    body = response.json()
    assert body["Error"] == code, body
    return body["Message"]


def test_wrong_key_stale_date_and_bad_headers_get_the_documented_codes(emu, key):
    wrong = base64.b64encode(b"k" * 64).decode()
    assert "signature" in _refused(post_data(emu, wrong, "[]"), 403, "InvalidAuthorization")
    stale = rfc1123(datetime.now(UTC) - timedelta(hours=1))
    assert "x-ms-date" in _refused(post_data(emu, key, "[]", date=stale), 403, "InvalidAuthorization")
    assert _refused(post_data(emu, key, "[]", date="2026-01-01T00:00:00Z"), 403, "InvalidAuthorization") == \
        "An invalid date format used in the x-ms-date header."
    assert "scheme" in _refused(post_data(emu, key, "[]", headers={"Authorization": "Bearer x"}), 403, "InvalidAuthorization")
    other = post_data(emu, key, "[]", headers={"Authorization": build_signature(seed.OTHER_WORKSPACE_CUSTOMER_ID, key,
                                                                                  rfc1123(), 2)})
    _refused(other, 403, "InvalidAuthorization")  # signed for another workspace id
    _refused(post_data(emu, key, "[]", "Bad-Type"), 400, "InvalidLogType")
    _refused(post_data(emu, key, "[]", "x" * 101), 400, "InvalidLogType")
    assert post_data(emu, key, "[]", "x" * 100).status_code == 200
    _refused(post_data(emu, key, "[]", headers={"Log-Type": ""}), 400, "MissingLogType")
    _refused(post_data(emu, key, "[]", api_version="2023-01-01"), 400, "InvalidApiVersion")
    _refused(post_data(emu, key, "[]", headers={"content-type": "text/plain"}), 400, "UnsupportedContentType")
    _refused(post_data(emu, key, "[]", customer_id="44444444-4444-4444-8444-444444444444"), 400, "InvalidCustomerId")


def test_bad_bodies_are_invalid_data_format_and_store_nothing(emu, azure, key):
    _refused(post_data(emu, key, "[{"), 400, "InvalidDataFormat")
    _refused(post_data(emu, key, "[1, 2]"), 400, "InvalidDataFormat")
    assert "reserved" in _refused(post_data(emu, key, json.dumps([{"TimeGenerated": "x"}])), 400, "InvalidDataFormat")
    assert emu.rows("AppEvents_CL") == []
    with pytest.raises(HttpResponseError):  # nothing was created either
        azure.loganalytics().tables.get(RG, WS, "AppEvents_CL")


def test_oversize_post_is_refused_and_oversize_field_truncated(emu, key):
    # A post declaring more than 30 MB is answered from its headers ("...or the request is too large": 404), so
    # the client below sends only them and reads the answer.
    size = 30 * 1024 * 1024 + 1
    date = rfc1123()
    connection = http.client.HTTPSConnection("127.0.0.1", emu.port, context=ssl.create_default_context(cafile=str(emu.ca_path)),
                                             timeout=30)
    try:
        connection.putrequest("POST", f"/datacollector/{WORKSPACE}/api/logs?api-version=2016-04-01")
        for name, value in {"Content-Type": "application/json", "Content-Length": str(size), "Log-Type": "AppEvents",
                            "x-ms-date": date, "Authorization": build_signature(WORKSPACE, key, date, size)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 404 and json.loads(response.read())["Error"] == "RequestTooLarge"
    finally:
        connection.close()
    long_text = "é" * 20_000  # 40,000 UTF-8 bytes
    assert post_data(emu, key, json.dumps([{"Big": long_text}])).status_code == 200
    stored = emu.rows("AppEvents_CL")[0]["Big_s"]
    assert len(stored.encode("utf-8")) == 32 * 1024 and long_text.startswith(stored)


def test_column_limit_leaves_out_properties_beyond_500_columns(emu, azure, key):
    record = {f"F{i}": "v" for i in range(505)}
    assert post_data(emu, key, json.dumps([record])).status_code == 200
    assert len(columns_of(azure, "AppEvents_CL")) == 500
    assert any("500 columns" in w for w in emu.warnings)


def test_after_migration_the_api_writes_existing_columns_only(emu, azure, key):
    assert post_data(emu, key, json.dumps([{"Computer": "a"}])).status_code == 200
    azure.loganalytics().tables.migrate(RG, WS, "AppEvents_CL")
    assert post_data(emu, key, json.dumps([{"Computer": "b", "New": "n"}])).status_code == 200
    table = azure.loganalytics().tables.get(RG, WS, "AppEvents_CL")
    assert table.properties.schema.table_sub_type == "DataCollectionRuleBased"
    assert [c.name for c in table.properties.schema.columns] == ["TimeGenerated", "Computer_s"]
    assert [r["Computer_s"] for r in emu.rows("AppEvents_CL")] == ["a", "b"]
    assert "New_s" not in emu.rows("AppEvents_CL")[1]
    assert any("'New'" in w and "migrated" in w for w in emu.warnings)


@needs_specs
def test_shared_keys_responses_validate_against_the_official_spec(azure, emu):
    # SharedKeys.json (2025-07-01): both operations answer 200 with the SharedKeys schema; the official example's
    # request (WorkspacesGetSharedKeys.json: POST, no body) replays.
    from tests.test_emulator_conformance import _call, validate

    spec = ("operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2025-07-01/"
            "SharedKeys.json")
    example = json.loads((SPECS / spec).parent.joinpath("examples", "WorkspacesGetSharedKeys.json").read_text())
    version = example["parameters"]["api-version"]
    la = azure.loganalytics()
    for operation, action in (("SharedKeys_GetSharedKeys", "sharedKeys"), ("SharedKeys_Regenerate", "regenerateSharedKey")):
        status, body, _ = _call(la, emu, "POST", f"{seed.WORKSPACE_ID}/{action}?api-version={version}")
        assert status == 200 and set(body) == set(example["responses"]["200"]["body"])
        validate(spec, operation, status, body)


def test_serve_prints_the_data_collector_url_of_the_seeded_workspace(tmp_path):
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading

    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(tmp_path / "state")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()  # read on a thread, so a missing line fails the test instead of hanging it
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        env: dict[str, str] = {}
        while "PROVISION_LOCAL_DATA_COLLECTOR_URL" not in env:
            key, _, value = lines.get(timeout=20).strip().partition("=")
            env[key] = value
        base = env["PROVISION_LOCAL_DATA_COLLECTOR_URL"]
        assert base == f"{env['PROVISION_LOCAL_URL']}/datacollector/{WORKSPACE}"
        # It is the Data Collector API: a post signed with a key that is not the workspace's gets its 403.
        date = rfc1123()
        response = requests.post(f"{base}/api/logs?api-version=2016-04-01", data=b"[]", verify=env["REQUESTS_CA_BUNDLE"],
                                 headers={"Content-Type": "application/json", "Log-Type": "Probe", "x-ms-date": date,
                                          "Authorization": build_signature(WORKSPACE, base64.b64encode(b"k" * 64).decode(),
                                                                           date, 2)}, timeout=30)
        assert response.status_code == 403 and response.json()["Error"] == "InvalidAuthorization"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_charset_in_content_type_and_the_other_workspace(emu, azure):
    # A sender that sends 'application/json; charset=utf-8' but signs 'application/json' (the documented string)
    # is accepted; the second seeded workspace has keys and tables of its own.
    other = seed.OTHER_WORKSPACE_CUSTOMER_ID
    key = azure.loganalytics().shared_keys.get_shared_keys(RG, seed.OTHER_WORKSPACE_NAME).primary_shared_key
    assert key != azure.loganalytics().shared_keys.get_shared_keys(RG, WS).primary_shared_key
    response = post_data(emu, key, json.dumps([{"Where": "east"}]), customer_id=other,
                         headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200, response.text
    assert emu.rows("AppEvents_CL", workspace=other) == [{**emu.rows("AppEvents_CL")[0], "Where_s": "east"}]
    assert emu.rows("AppEvents_CL", workspace=WS) == []
