"""Outputs: the JSON shape senders and CI rely on, and the env / GitHub / Azure DevOps formats (pure)."""

from __future__ import annotations

import json

import pytest

from provision import ids
from provision.errors import ProvisionError
from provision.outputs import format_outputs, outputs_from_live, stream_url
from provision.resources import Resource

SUB, RG = "11111111-1111-4111-8111-111111111111", "rg-local"
WS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/law-local"
DCR_ID, DCE_ID = ids.dcr_id(SUB, RG, "dcr-orders"), ids.dce_id(SUB, RG, "dce-orders")
IMMUTABLE = "dcr-" + "0" * 32


def resources(with_dce: bool):
    props = {"streamDeclarations": {"Custom-OrdersRaw": {"columns": []}, "Custom-Other": {"columns": []}}}
    if with_dce:
        props["dataCollectionEndpointId"] = DCE_ID
    out = [Resource("table", "Orders_CL", ids.table_id(WS, "Orders_CL"), {"properties": {}}, "v")]
    if with_dce:
        out.append(Resource("endpoint", "dce-orders", DCE_ID, {"location": "westeurope"}, "v"))
    out.append(Resource("rule", "dcr-orders", DCR_ID, {"properties": props}, "v"))
    out.append(Resource("rule", "dcr-old", ids.dcr_id(SUB, RG, "dcr-old"), {}, "v", ensure="absent"))
    return out


def bodies(with_dce: bool):
    out = {
        DCR_ID.lower(): {"id": DCR_ID, "properties": {"immutableId": IMMUTABLE, "dataCollectionEndpointId":
                                                      DCE_ID if with_dce else None,
                                                      "endpoints": {"logsIngestion": "https://dcr.ingest/"}}},
        ids.table_id(WS, "Orders_CL").lower(): {"id": ids.table_id(WS, "Orders_CL")},
    }
    if with_dce:
        out[DCE_ID.lower()] = {"id": DCE_ID, "properties": {"logsIngestion": {"endpoint": "https://dce.ingest"}}}
    return out


def test_json_shape_with_the_dcrs_own_endpoint():
    outputs = outputs_from_live(resources(False), bodies(False), "https://monitor.azure.us")
    data = json.loads(format_outputs(outputs, "json"))
    assert data == {
        "rules": {"dcr-orders": {
            "id": DCR_ID, "immutable_id": IMMUTABLE, "logs_ingestion_endpoint": "https://dcr.ingest/",
            "streams": {
                "Custom-OrdersRaw": {"url": f"https://dcr.ingest/dataCollectionRules/{IMMUTABLE}/streams/"
                                            "Custom-OrdersRaw?api-version=2023-01-01"},
                "Custom-Other": {"url": stream_url("https://dcr.ingest", IMMUTABLE, "Custom-Other")},
            }}},
        "tables": {"Orders_CL": {"id": ids.table_id(WS, "Orders_CL")}},
        "endpoint": None,
        "audience": "https://monitor.azure.us",
    }


def test_a_declared_dce_is_the_ingestion_endpoint():
    outputs = outputs_from_live(resources(True), bodies(True), "https://monitor.azure.com")
    rule = outputs.rules["dcr-orders"]
    assert rule["logs_ingestion_endpoint"] == "https://dce.ingest"
    assert rule["streams"]["Custom-OrdersRaw"]["url"].startswith("https://dce.ingest/dataCollectionRules/")
    assert outputs.endpoint == {"name": "dce-orders", "id": DCE_ID, "logs_ingestion_endpoint": "https://dce.ingest"}


def test_env_and_azure_devops_lines():
    outputs = outputs_from_live(resources(True), bodies(True), "https://monitor.azure.com")
    env = dict(line.split("=", 1) for line in format_outputs(outputs, "env").splitlines())
    assert env["DCR_DCR_ORDERS_IMMUTABLE_ID"] == IMMUTABLE
    assert env["DCR_DCR_ORDERS_CUSTOM_ORDERSRAW_URL"].endswith("streams/Custom-OrdersRaw?api-version=2023-01-01")
    assert env["DCE_LOGS_INGESTION_ENDPOINT"] == "https://dce.ingest"
    assert env["PROVISION_AUDIENCE"] == "https://monitor.azure.com"
    devops = format_outputs(outputs, "azure-devops").splitlines()
    assert f"##vso[task.setvariable variable=DCR_DCR_ORDERS_IMMUTABLE_ID;isOutput=true]{IMMUTABLE}" in devops
    assert len(devops) == len(env)


def test_github_appends_to_github_output(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("earlier=1\n")
    outputs = outputs_from_live(resources(False), bodies(False), "https://monitor.azure.com")
    message = format_outputs(outputs, "github", environ={"GITHUB_OUTPUT": str(target)})
    lines = target.read_text().splitlines()
    assert lines[0] == "earlier=1"
    assert f"dcr_dcr_orders_immutable_id={IMMUTABLE}" in lines
    assert "GITHUB_OUTPUT" in message


def test_github_without_github_output_is_a_clear_error():
    outputs = outputs_from_live(resources(False), bodies(False), "https://monitor.azure.com")
    with pytest.raises(ProvisionError, match="GITHUB_OUTPUT"):
        format_outputs(outputs, "github", environ={})


def test_text_names_every_url():
    outputs = outputs_from_live(resources(False), bodies(False), "https://monitor.azure.com")
    text = format_outputs(outputs, "text")
    assert "immutable id: " + IMMUTABLE in text and "POST https://dcr.ingest/dataCollectionRules/" in text


def test_variable_names_two_resources_would_share_are_an_error_not_a_silent_overwrite():
    outputs = outputs_from_live(resources(False), bodies(False), "https://monitor.azure.com")
    outputs.rules["dcr_orders"] = dict(outputs.rules["dcr-orders"], streams={})  # 'dcr-orders' and 'dcr_orders': DCR_DCR_ORDERS_*
    for fmt in ("env", "azure-devops"):
        with pytest.raises(ProvisionError) as error:
            format_outputs(outputs, fmt)
        assert "DCR_DCR_ORDERS_ID" in error.value.message and "--format json" in error.value.hint
    assert set(json.loads(format_outputs(outputs, "json"))["rules"]) == {"dcr-orders", "dcr_orders"}
