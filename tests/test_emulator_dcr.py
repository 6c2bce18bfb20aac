"""DCRs and DCEs through MonitorManagementClient: shapes and the service's validation (azure-contract.md §4, §5)."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from provision.emulator import seed
from tests.emulator_helpers import RG, create_table, dcr_body

OTHER_WS = (f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/"
            f"workspaces/{seed.OTHER_WORKSPACE_NAME}")


def _put(azure, name, body):
    return azure.monitor().data_collection_rules.create(RG, name, json.dumps(body).encode())


def _invalid(azure, body, name="dcr-bad"):
    with pytest.raises(HttpResponseError) as raised:
        _put(azure, name, body)
    error = raised.value.error
    assert raised.value.status_code == 400 and error.code == "InvalidPayload"
    assert error.message == "Data collection rule is invalid"
    return [d.code for d in error.details]


def test_create_update_get_list_delete(azure, emu):
    create_table(azure)
    mon = azure.monitor()
    created = _put(azure, "dcr-a", dcr_body())
    assert emu.calls[-1].status == 201
    assert created.provisioning_state == "Succeeded" and created.kind == "Direct"
    assert created.destinations.log_analytics[0].workspace_id == seed.WORKSPACE_CUSTOMER_ID
    assert created.endpoints.logs_ingestion == f"{emu.url}/ingest/dcr/{created.immutable_id}"
    assert created.etag.startswith('"')
    updated = _put(azure, "DCR-A", dcr_body(description="changed"))  # same rule: names are case-insensitive
    assert emu.calls[-1].status == 200
    assert updated.immutable_id == created.immutable_id and updated.etag != created.etag
    assert updated.name == "dcr-a"
    assert mon.data_collection_rules.get(RG, "dcr-a").description == "changed"
    assert [r.name for r in mon.data_collection_rules.list_by_resource_group(RG)] == ["dcr-a"]
    assert [r.name for r in mon.data_collection_rules.list_by_subscription()] == ["dcr-a"]
    patched = mon.data_collection_rules.update(RG, "dcr-a", {"tags": {"team": "a"}})
    assert patched.tags == {"team": "a"}
    mon.data_collection_rules.delete(RG, "dcr-a")
    assert emu.calls[-1].status == 200
    mon.data_collection_rules.delete(RG, "dcr-a")
    assert emu.calls[-1].status == 204
    with pytest.raises(ResourceNotFoundError) as raised:
        mon.data_collection_rules.get(RG, "dcr-a")
    assert raised.value.error.code == "ResourceNotFound"


def test_non_direct_rule_has_no_endpoints(azure):
    create_table(azure)
    rule = _put(azure, "dcr-linux", dcr_body(kind="Linux"))
    assert rule.endpoints is None


def test_kind_is_immutable(azure):
    create_table(azure)
    _put(azure, "dcr-k", dcr_body())
    assert "InvalidProperty" in _invalid(azure, dcr_body(kind="Linux"), "dcr-k")


def test_location_is_create_only(azure):
    create_table(azure)
    _put(azure, "dcr-l", dcr_body())
    with pytest.raises(ResourceExistsError) as raised:
        _put(azure, "dcr-l", dcr_body(location="eastus", workspace=OTHER_WS))
    assert raised.value.error.code == "InvalidResourceLocation"


def test_location_required(azure):
    body = dcr_body()
    del body["location"]
    with pytest.raises(HttpResponseError) as raised:
        _put(azure, "dcr-noloc", body)
    assert raised.value.error.code == "LocationRequired"


def test_output_table_must_exist(azure):
    assert _invalid(azure, dcr_body(table="Missing_CL")) == ["InvalidOutputTable"]


def test_output_table_in_the_destination_workspace(azure):
    create_table(azure)  # exists in law-local only
    codes = _invalid(azure, dcr_body(location="eastus", workspace=OTHER_WS))
    assert codes == ["InvalidOutputTable"]


def test_region_must_match_workspace(azure):
    create_table(azure)
    assert _invalid(azure, dcr_body(location="eastus")) == ["InvalidDestination"]


def test_unknown_workspace(azure):
    codes = _invalid(azure, dcr_body(workspace=seed.WORKSPACE_ID.replace("law-local", "law-nowhere")))
    assert codes == ["InvalidDestination"]


def test_stream_not_declared(azure):
    create_table(azure)
    body = dcr_body()
    body["properties"]["dataFlows"][0]["streams"] = ["Custom-Other"]
    assert "InvalidStream" in _invalid(azure, body)


def test_flow_destination_not_defined(azure):
    create_table(azure)
    body = dcr_body()
    body["properties"]["dataFlows"][0]["destinations"] = ["nowhere"]
    assert _invalid(azure, body) == ["InvalidDataFlow"]


def test_stream_column_types(azure):
    create_table(azure)
    assert _invalid(azure, dcr_body(columns=(("TimeGenerated", "datetime"), ("Id", "guid")))) == ["InvalidStreamDeclaration"]
    # stream types are case-insensitive: Learn samples send 'dateTime' (azure-contract.md §5.2)
    _put(azure, "dcr-case", dcr_body(columns=(("TimeGenerated", "dateTime"), ("Message", "string"))))


def test_limits(azure):
    create_table(azure)
    body = dcr_body()
    body["properties"]["dataFlows"] = body["properties"]["dataFlows"] * 11
    assert "TooManyDataFlows" in _invalid(azure, body)
    body = dcr_body()
    body["properties"]["streamDeclarations"].update(
        {f"Custom-S{i}": {"columns": [{"name": "A", "type": "string"}]} for i in range(10)})
    assert "TooManyStreams" in _invalid(azure, body)
    assert "TransformTooLong" in _invalid(azure, dcr_body(transform="source" + " " * 15360))
    assert "InvalidProperty" in _invalid(azure, dcr_body(description="d" * 257))


def test_transform_checked_against_stream_and_table(azure):
    create_table(azure)
    assert _invalid(azure, dcr_body(transform="source | extend Message = NoSuchColumn")) == ["InvalidTransformQuery"]
    # output that does not fit the table (azure-contract.md §5.3 InvalidTransformOutput)
    assert _invalid(azure, dcr_body(transform="source | extend Message = 1")) == ["InvalidTransformOutput"]
    assert _invalid(azure, dcr_body(transform="source | project-away TimeGenerated")) == ["InvalidTransformOutput"]


def test_dce_create_get_and_rule_binding(azure, emu):
    create_table(azure)
    mon = azure.monitor()
    dce = mon.data_collection_endpoints.create(RG, "dce-a", json.dumps({"location": "westeurope", "properties": {}}).encode())
    assert dce.immutable_id.startswith("dce-") and len(dce.immutable_id) == 36
    assert dce.logs_ingestion.endpoint == f"{emu.url}/ingest/dce/{dce.immutable_id}"
    assert dce.network_acls.public_network_access == "Enabled"
    assert mon.data_collection_endpoints.get(RG, "dce-a").immutable_id == dce.immutable_id
    assert [d.name for d in mon.data_collection_endpoints.list_by_resource_group(RG)] == ["dce-a"]
    rule = _put(azure, "dcr-with-dce", dcr_body(dataCollectionEndpointId=dce.id))
    assert rule.data_collection_endpoint_id == dce.id
    east = mon.data_collection_endpoints.create(RG, "dce-east", json.dumps({"location": "eastus"}).encode())
    assert _invalid(azure, dcr_body(dataCollectionEndpointId=east.id)) == ["InvalidDataCollectionEndpoint"]
    assert _invalid(azure, dcr_body(dataCollectionEndpointId=east.id + "x")) == ["InvalidDataCollectionEndpoint"]
    mon.data_collection_endpoints.delete(RG, "dce-east")
    assert emu.calls[-1].status == 200


def test_etag_preconditions(azure):
    create_table(azure)
    rule = _put(azure, "dcr-e", dcr_body())
    mon = azure.monitor()
    with pytest.raises(HttpResponseError) as raised:
        mon.data_collection_rules.create(RG, "dcr-e", json.dumps(dcr_body()).encode(), headers={"If-None-Match": "*"})
    assert raised.value.status_code == 412
    mon.data_collection_rules.create(RG, "dcr-e", json.dumps(dcr_body()).encode(), headers={"If-Match": rule.etag})
    with pytest.raises(HttpResponseError) as raised:
        mon.data_collection_rules.create(RG, "dcr-e", json.dumps(dcr_body()).encode(), headers={"If-Match": rule.etag})
    assert raised.value.status_code == 412


def test_resource_group_missing(azure):
    with pytest.raises(ResourceNotFoundError) as raised:
        azure.monitor().data_collection_rules.create("rg-missing", "dcr-x", json.dumps(dcr_body()).encode())
    assert raised.value.error.code == "ResourceGroupNotFound"


def test_unsupported_api_version(azure):
    with pytest.raises(HttpResponseError) as raised:
        azure.monitor().data_collection_rules.get(RG, "dcr-x", api_version="2019-11-01-preview")
    assert raised.value.error.code == "NoRegisteredProviderFound"
    with pytest.raises(ResourceNotFoundError):
        azure.monitor().data_collection_rules.get(RG, "dcr-x", api_version="2024-03-11")
