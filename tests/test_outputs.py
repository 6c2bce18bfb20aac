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


HOSTILE = "Custom-In\n##vso[task.setvariable variable=EVIL]1\r\nevil=1 $(touch MARKER) %AZP25"


def hostile_outputs():
    props = {"streamDeclarations": {HOSTILE: {"columns": []}}}
    rule = Resource("rule", "dcr-orders", DCR_ID, {"properties": props}, "v")
    return outputs_from_live([rule], bodies(False), "https://monitor.azure.com")


def _github_entries(text: str) -> dict:
    """$GITHUB_OUTPUT read as the runner reads it (actions/runner: line by line, CR LF, CR or LF ending a
    line; the lines of a block joined with LF): name=value lines and name<<DELIMITER blocks."""
    import re

    entries, lines = {}, iter(re.split(r"\r\n|\r|\n", text))
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            entries[name] = "\n".join(value)
        elif line:
            name, value = line.split("=", 1)
            entries[name] = value
    return entries


def test_a_value_with_line_breaks_stays_one_value_in_every_ci_format(tmp_path):
    # Validation refuses such names (test_scenario_names.py); the formats escape them even so (issue 12 item 4).
    outputs = hostile_outputs()
    url = outputs.rules["dcr-orders"]["streams"][HOSTILE]["url"]
    devops = format_outputs(outputs, "azure-devops").splitlines()
    assert all(line.startswith("##vso[task.setvariable variable=") and "variable=EVIL" not in line.split("]", 1)[0] for line in devops)
    assert len(devops) == len(_pairs(outputs))
    assert any("%0A##vso" in line and "%0D%0A" in line and "%AZP25AZP25" in line for line in devops)

    target = tmp_path / "out.txt"
    format_outputs(outputs, "github", environ={"GITHUB_OUTPUT": str(target)})
    entries = _github_entries(target.read_text())
    assert entries[next(k for k in entries if k.endswith("_url"))] == url.replace("\r\n", "\n")
    assert "evil" not in entries and set(entries) == {k.lower() for k, _ in _pairs(outputs)}

    # KEY=VALUE lines have no one-line form for a line break: refused, naming the key, nothing printed
    with pytest.raises(ProvisionError, match=r"_URL holds a line break .*Custom-In\\n##vso"):
        format_outputs(outputs, "env")


def test_env_values_that_need_quotes_are_quoted_for_sh(tmp_path):
    import subprocess

    props = {"streamDeclarations": {"Custom-In $(touch MARKER) 'x'": {"columns": []}}}
    rule = Resource("rule", "dcr-orders", DCR_ID, {"properties": props}, "v")
    outputs = outputs_from_live([rule], bodies(False), "https://monitor.azure.com")
    url = next(iter(outputs.rules["dcr-orders"]["streams"].values()))["url"]
    env_file = tmp_path / "outputs.env"
    env_file.write_text(format_outputs(outputs, "env") + "\n")
    key = next(k for k, _ in _pairs(outputs) if k.endswith("_URL"))
    shown = subprocess.run(["sh", "-c", f'set -a; . "{env_file}"; set +a; printf %s "${key}"'], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert shown == url and not (tmp_path / "MARKER").exists()


def _pairs(outputs):
    from provision.outputs import variables

    return variables(outputs)
