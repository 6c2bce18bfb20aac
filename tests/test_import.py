"""`provision import` on the emulator: resources made with the official SDK clients (not our apply) are read back
into a scenario that validates clean and plans empty; real public definitions round-trip; bad input is refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from provision.apply import apply_plan
from provision.azure import connect
from provision.cli import app
from provision.emulator import seed
from provision.errors import ProvisionError
from provision.importer import import_live
from provision.live import raw_json
from provision.pipeline import plan_scenario
from provision.plan import writable
from provision.render import render_deployables
from provision.scenario import require_valid, validate_scenario
from tests.adopt_samples import SAMPLES
from tests.emulator_helpers import dcr_body, deploy, grant_sender

RG = seed.RESOURCE_GROUP
GROUP = "c4c4c4c4-0000-4000-8000-000000000004"


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def run(emu, *args):
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local"})


def deploy_sample(azure, sample: dict) -> None:
    """PUT the sample's bodies verbatim through the official SDK clients."""
    la, monitor = azure.loganalytics(), azure.monitor()
    for name, body in sample["tables"].items():
        la.tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, name, body).result()
    dce_name, dce = sample["dce"]
    monitor.data_collection_endpoints.create(RG, dce_name, json.dumps(dce).encode())
    for name, body in sample["dcrs"].items():
        rule = monitor.data_collection_rules.create(RG, name, json.dumps(body).encode())
        grant_sender(azure, rule.id)


def load(path, session):
    return require_valid(str(path), environ=session.environ)


def _clean(value):
    """Empty values dropped (the service answers `tags: {}` where a body had none)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_real_definitions_round_trip(name, session, azure, tmp_path):
    sample = SAMPLES[name]()
    deploy_sample(azure, sample)
    imported = import_live(session, rules=list(sample["dcrs"]))
    assert imported.notes == [] and imported.skipped == []
    path = tmp_path / "imported.yaml"
    path.write_text(imported.text)
    _, diagnostics = validate_scenario(str(path), environ=session.environ)
    assert [d for d in diagnostics if d.is_error] == []
    sc = load(path, session)
    plan = plan_scenario(session, sc)[2]
    assert not plan.problems and not plan.has_changes, [c.to_dict() for c in plan.pending]
    rendered = {(r.kind.value, r.name): r.body for r in render_deployables(sc)}
    for rule, body in sample["dcrs"].items():
        live = azure.monitor().data_collection_rules.get(RG, rule, cls=raw_json)
        assert _clean(rendered[("rule", rule)]) == _clean(writable("rule", live)) == _clean(body)
    dce_name, dce = sample["dce"]
    assert _clean(rendered[("endpoint", dce_name)]) == _clean(dce)


def test_sdk_made_rule_round_trip_then_change_apply_and_plan_empty(session, azure, tmp_path):
    deploy(azure)  # table MyApp_CL, Direct DCR dcr-myapp (destination 'law'), publisher: the sender
    imported = import_live(session, rules=["dcr-myapp"])
    path = tmp_path / "imported.yaml"
    path.write_text(imported.text)
    assert "destinations:\n      law:" in imported.text  # the rule's own destination name is kept
    assert f"object_id: {seed.SENDER_OBJECT_ID}  # app_id {seed.SENDER_APP_ID}" in imported.text
    sc = load(path, session)
    assert not plan_scenario(session, sc)[2].has_changes
    # change the scenario: the plan shows exactly that, apply, plan empty
    path.write_text(imported.text.replace("      Message: string\n", "      Message: string\n      Level: string\n", 1))
    changed = load(path, session)
    plan = plan_scenario(session, changed)[2]
    assert sorted((c.kind, d.path) for c in plan.pending for d in c.diffs) == [
        ("rule", "properties.streamDeclarations[Custom-MyApp].columns[Level]"),
        ("table", "properties.schema.columns[Level]")]
    apply_plan(session, plan)
    assert not plan_scenario(session, changed)[2].has_changes


def test_a_stream_equal_to_the_derived_one_is_written_as_derived(session, azure, tmp_path):
    body = dcr_body(stream="Custom-MyApp")
    body["properties"]["destinations"]["logAnalytics"][0]["name"] = "workspace"
    body["properties"]["dataFlows"][0]["destinations"] = ["workspace"]
    deploy(azure, body=body, grant=False)
    imported = import_live(session, rules=["dcr-myapp"])
    assert "streams:" not in imported.text and "stream:" not in imported.text and "destinations" not in imported.text
    path = tmp_path / "imported.yaml"
    path.write_text(imported.text)
    assert not plan_scenario(session, load(path, session))[2].has_changes


def test_tags_identity_a_description_and_several_destinations_are_imported(session, azure, tmp_path):
    body = dcr_body()
    body["tags"] = {"owner": "team-a"}
    body["identity"] = {"type": "SystemAssigned"}
    body["properties"]["description"] = "made in the portal"
    body["properties"]["destinations"]["logAnalytics"].append({"workspaceResourceId": seed.WORKSPACE_ID, "name": "copy"})
    deploy(azure, body=body)
    rule_id = azure.monitor().data_collection_rules.get(RG, "dcr-myapp").id
    grant_sender(azure, rule_id, principal=seed.DEPLOYER_OBJECT_ID)
    imported = import_live(session, resource_group=RG)
    for text in ("tags: {owner: team-a}", "identity: SystemAssigned", "copy:", "destinations: [law]"):
        assert text in imported.text
    path = tmp_path / "imported.yaml"
    path.write_text(imported.text)
    assert not plan_scenario(session, load(path, session))[2].has_changes


def test_an_agent_rule_is_skipped_with_the_reason_and_alone_is_an_error(session, azure):
    body = dcr_body()
    body["kind"] = "Linux"
    body["properties"]["dataSources"] = {"syslog": [{"name": "s", "streams": ["Microsoft-Syslog"],
                                                     "facilityNames": ["auth"], "logLevels": ["Info"]}]}
    body["properties"]["dataFlows"] = [{"streams": ["Microsoft-Syslog"], "destinations": ["law"]}]
    del body["properties"]["streamDeclarations"]
    azure.monitor().data_collection_rules.create(RG, "dcr-agent", json.dumps(body).encode())
    with pytest.raises(ProvisionError) as info:
        import_live(session, rules=["dcr-agent"])
    assert "agent DCR (dataSources: syslog)" in info.value.format() and "nothing was written" in info.value.format()
    deploy(azure)
    imported = import_live(session, resource_group=RG)
    assert imported.rules == ["dcr-myapp"] and any("dcr-agent" in s for s in imported.skipped)


def test_cli_import_writes_refuses_to_overwrite_and_fails_cleanly(emu, azure, tmp_path):
    deploy(azure)
    out = tmp_path / "imported.yaml"
    first = run(emu, "import", "--rule", "dcr-myapp", "--out", out)
    assert first.exit_code == 0, first.output
    assert "wrote" in first.stderr and out.read_text().startswith("# Imported by `provision import`")
    again = run(emu, "import", "--rule", "dcr-myapp", "--out", out)
    assert again.exit_code == 1 and "exists" in again.stderr and "--force" in again.stderr
    forced = run(emu, "import", "--rule", "dcr-myapp", "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    plan = run(emu, "plan", out, "--detailed-exitcode")
    assert plan.exit_code == 0 and "No changes" in plan.stdout

    missing = tmp_path / "missing.yaml"
    for args, text in ((("--rule", "dcr-nope"), "does not exist"),
                       (("--resource-group", "rg-nope"), "does not exist"),
                       (("--rule", "dcr-myapp", "--resource-group", RG), "not both")):
        result = run(emu, "import", *args, "--out", missing)
        assert result.exit_code == 1 and text in result.stderr and "Traceback" not in result.output, result.output
        assert not missing.exists()


def test_an_empty_resource_group_is_a_clear_error(emu, azure):
    azure.monitor()  # the seeded resource group exists and holds nothing yet
    result = run(emu, "import", "--resource-group", RG)
    assert result.exit_code == 1 and "holds no data collection rules" in result.stderr


def test_an_auxiliary_rule_with_a_transform_is_importable_and_validates(session, azure, tmp_path):
    """[DOC-TRANSFORM]: custom tables with the Auxiliary plan take transformations (azure-contract.md §9)."""
    table = {"properties": {"plan": "Auxiliary", "schema": {"name": "Aux_CL", "columns": [
        {"name": "TimeGenerated", "type": "dateTime"}, {"name": "Message", "type": "string"}]}}}
    azure.loganalytics().tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "Aux_CL", table).result()
    body = dcr_body(table="Aux_CL", stream="Custom-AuxRaw", columns=(("Time", "datetime"), ("Message", "string")),
                    transform="source | extend TimeGenerated = Time | project-away Time")
    azure.monitor().data_collection_rules.create(RG, "dcr-aux", json.dumps(body).encode())
    imported = import_live(session, rules=["dcr-aux"])
    path = tmp_path / "aux.yaml"
    path.write_text(imported.text)
    _, diagnostics = validate_scenario(str(path), environ=session.environ)
    assert [d.code for d in diagnostics if d.severity != "info"] == []
    assert not plan_scenario(session, load(path, session))[2].has_changes
    # a transform that leaves TimeGenerated as sent is accepted too; the 30-minute limit is said as a warning
    text = imported.text.replace("Time: datetime", "TimeGenerated: datetime").replace(
        "source | extend TimeGenerated = Time | project-away Time", "source | where Message != ''")
    path.write_text(text)
    _, diagnostics = validate_scenario(str(path), environ=session.environ)
    assert [(d.code, d.severity) for d in diagnostics if d.severity != "info"] == [("AuxiliaryTransform", "warning")]


def test_a_rule_bound_to_a_dce_of_another_resource_group_is_skipped_with_the_reason(session, azure, emu):
    from azure.core.rest import HttpRequest

    # a resource group for the DCE, made through the SDK pipeline (ARM PUT .../resourcegroups/rg-dce)
    azure.loganalytics().send_request(HttpRequest(
        "PUT", f"{emu.url}/subscriptions/{seed.SUBSCRIPTION_ID}/resourcegroups/rg-dce?api-version=2021-04-01",
        content=json.dumps({"location": seed.LOCATION}).encode(), headers={"Content-Type": "application/json"}))
    dce = azure.monitor().data_collection_endpoints.create(
        "rg-dce", "dce-shared", json.dumps({"location": seed.LOCATION, "properties": {}}).encode())
    deploy(azure, body=dcr_body(dataCollectionEndpointId=dce.id), grant=False)
    with pytest.raises(ProvisionError) as info:
        import_live(session, rules=["dcr-myapp"])
    assert "resource group rg-dce" in info.value.format() and "nothing was written" in info.value.format()


def test_what_the_format_cannot_hold_is_named_on_stderr_and_in_the_file(emu, azure, tmp_path):
    body = dcr_body()
    body["properties"]["dataFlows"][0]["captureOverflow"] = True
    deploy(azure, body=body)
    out = tmp_path / "imported.yaml"
    result = run(emu, "import", "--rule", "dcr-myapp", "--out", out)
    assert result.exit_code == 0, result.output
    note = "rule dcr-myapp: properties.dataFlows[0].captureOverflow is not held by the format"
    assert f"not in the format: {note}" in result.stderr
    assert f"#   - {note}" in out.read_text()
    # the plan shows it, as every live field the scenario lacks: apply removes only what the plan shows
    plan = run(emu, "plan", out, "--format", "json")
    diffs = [d for c in json.loads(plan.stdout)["changes"] for d in c["diffs"]]
    assert [(d["path"], d["op"]) for d in diffs] == [("properties.dataFlows[0].captureOverflow", "remove")]


def test_table_adds_a_table_no_flow_writes_to(session, azure, tmp_path):
    from tests.emulator_helpers import create_table

    deploy(azure)
    create_table(azure, "Spare_CL", ("Note", "string"))
    imported = import_live(session, rules=["dcr-myapp"], tables=["Spare_CL"])
    assert "  Spare_CL:\n" in imported.text and "Note: string" in imported.text
    path = tmp_path / "imported.yaml"
    path.write_text(imported.text)
    assert not plan_scenario(session, load(path, session))[2].has_changes
