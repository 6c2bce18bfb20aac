"""Rendering: exact bodies, dependency order, principals, ensure: absent, user templates, ARM template, CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision import ids
from provision.cli import app
from provision.errors import RenderError
from provision.render import DESTINATION_NAME, render_arm, render_resources
from provision.scenario import require_valid

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
SUB = "11111111-1111-4111-8111-111111111111"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-local/providers/Microsoft.OperationalInsights/workspaces/law-local"
SENDER_APP = "a2a2a2a2-0000-4000-8000-000000000002"
SENDER_OBJECT = "b2b2b2b2-0000-4000-8000-000000000002"
runner = CliRunner()


def scenario(name, **kwargs):
    return require_valid(REPO / "scenarios" / f"{name}.yaml", environ={}, **kwargs)


def by_kind(resources, kind):
    return [r for r in resources if r.kind == kind]


def test_quickstart_bodies_are_exactly_what_is_put():
    resources = render_resources(scenario("quickstart"), principals={SENDER_APP: SENDER_OBJECT})
    assert [r.kind for r in resources] == ["table", "rule", "role_assignment"]
    table, rule, role = resources
    assert table.id == f"{WS}/tables/AppEvents_CL" and table.api_version == "2025-07-01"
    assert table.body == {"properties": {
        "schema": {"name": "AppEvents_CL", "description": "Events posted by the quickstart sender", "columns": [
            {"name": "TimeGenerated", "type": "dateTime"}, {"name": "EventId", "type": "guid"}, {"name": "Level", "type": "string"},
            {"name": "Message", "type": "string"}, {"name": "DurationMs", "type": "real"},
            {"name": "Properties", "type": "dynamic", "description": "Free-form event properties"}]},
        "plan": "Analytics", "retentionInDays": 30}}
    dcr_id = f"/subscriptions/{SUB}/resourceGroups/rg-local/providers/Microsoft.Insights/dataCollectionRules/dcr-quickstart"
    assert rule.id == dcr_id and rule.depends_on == (table.id,)
    assert rule.body == {
        "location": "westeurope",
        "kind": "Direct",
        "properties": {
            "description": "Quickstart events into AppEvents_CL",
            "streamDeclarations": {"Custom-AppEventsRaw": {"columns": [
                {"name": "Time", "type": "datetime"}, {"name": "EventId", "type": "string"}, {"name": "Level", "type": "string"},
                {"name": "Message", "type": "string"}, {"name": "DurationMs", "type": "real"}, {"name": "Properties", "type": "dynamic"}]}},
            "destinations": {"logAnalytics": [{"workspaceResourceId": WS, "name": DESTINATION_NAME}]},
            "dataFlows": [{"streams": ["Custom-AppEventsRaw"], "destinations": [DESTINATION_NAME],
                           "transformKql": "source | extend TimeGenerated = Time, EventId = toguid(EventId) | project-away Time",
                           "outputStream": "Custom-AppEvents_CL"}],
        },
    }
    # azure-contract.md §6.1: Monitoring Metrics Publisher, ServicePrincipal, deterministic name on the DCR scope
    name = ids.role_assignment_name(dcr_id, SENDER_OBJECT)
    assert (role.name, role.id, role.unresolved, role.depends_on) == (name, f"{dcr_id}/providers/Microsoft.Authorization/roleAssignments/{name}", False, (dcr_id,))
    assert role.body == {"properties": {
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb",
        "principalId": SENDER_OBJECT, "principalType": "ServicePrincipal"}}


def test_app_id_without_principals_is_marked_unresolved():
    role = by_kind(render_resources(scenario("quickstart")), "role_assignment")[0]
    assert role.unresolved and SENDER_APP in role.body["properties"]["principalId"]


def test_object_id_publisher_needs_no_lookup():
    role = by_kind(render_resources(scenario("with-dce")), "role_assignment")[0]
    assert not role.unresolved and role.body["properties"]["principalId"] == SENDER_OBJECT


def test_dce_is_referenced_and_ordered_before_the_rules():
    resources = render_resources(scenario("with-dce"))
    assert [r.kind for r in resources] == ["table", "endpoint", "rule", "role_assignment"]
    endpoint, rule = by_kind(resources, "endpoint")[0], by_kind(resources, "rule")[0]
    assert endpoint.body == {"location": "westeurope", "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}}}
    assert rule.body["properties"]["dataCollectionEndpointId"] == endpoint.id
    assert endpoint.id in rule.depends_on
    # the derived stream and the toguid() the tool added (issue #2: derived streams)
    assert rule.body["properties"]["streamDeclarations"]["Custom-Inventory"]["columns"][1] == {"name": "AssetId", "type": "string"}
    assert rule.body["properties"]["dataFlows"][0]["transformKql"] == "source | extend AssetId = toguid(AssetId)"
    table = by_kind(resources, "table")[0]
    assert table.body["properties"]["plan"] == "Basic" and table.body["properties"]["totalRetentionInDays"] == 365
    assert "retentionInDays" not in table.body["properties"]


def test_azure_table_carries_only_its_cf_columns_and_microsoft_output_stream():
    resources = render_resources(scenario("syslog-cf"))
    table, rule = by_kind(resources, "table")[0], by_kind(resources, "rule")[0]
    assert table.body == {"properties": {"schema": {"name": "Syslog", "columns": [
        {"name": "AppName_CF", "type": "string", "description": "Name of the sending application"}]}}}
    assert rule.body["properties"]["dataFlows"][0]["outputStream"] == "Microsoft-Syslog"


def test_ensure_absent_resources_are_listed_for_removal_without_bodies(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        f"location: westeurope\nworkspace: {WS}\nresource_group: rg-local\n"
        "endpoint: {name: dce-old, ensure: absent}\n"
        "tables:\n  Old_CL: {ensure: absent}\n  New_CL: {columns: {TimeGenerated: datetime}}\n"
        "rules:\n  dcr-old: {ensure: absent}\n  dcr-new: {flows: [{table: New_CL}]}\n"
        f"publishers: [{{object_id: {SENDER_OBJECT}}}]\n"
    )
    resources = render_resources(require_valid(path))
    summary = [(r.kind, r.name if r.kind != "role_assignment" else "ra", r.ensure) for r in resources]
    assert summary == [("table", "Old_CL", "absent"), ("table", "New_CL", "present"), ("endpoint", "dce-old", "absent"),
                       ("rule", "dcr-old", "absent"), ("rule", "dcr-new", "present"), ("role_assignment", "ra", "present")]
    assert all(r.body == {} for r in resources if r.ensure == "absent")
    assert "dataCollectionEndpointId" not in by_kind(resources, "rule")[1].body["properties"]


def test_environment_changes_what_is_rendered():
    prod = render_resources(scenario("multi-env", env="prod"))
    rule = by_kind(prod, "rule")[0]
    assert rule.body["location"] == "northeurope"
    assert rule.id.startswith("/subscriptions/44444444-4444-4444-8444-444444444444/resourceGroups/rg-ingest-prod/")
    assert rule.body["properties"]["description"] == "Orders from the shop backend (prod)"
    assert len(by_kind(prod, "role_assignment")) == 2
    assert by_kind(prod, "table")[0].body["properties"]["totalRetentionInDays"] == 730


# -- templates ------------------------------------------------------------------------------------

def test_user_templates_win_over_the_defaults(tmp_path):
    default = (REPO / "templates" / "dcr.json.j2").read_text()
    (tmp_path / "dcr.json.j2").write_text(default.replace('"kind": "Direct",', '"kind": "Direct",\n  "tags": {"team": {{ rule.name | tojson }}},'))
    resources = render_resources(scenario("quickstart"), templates_dir=tmp_path)
    assert by_kind(resources, "rule")[0].body["tags"] == {"team": "dcr-quickstart"}
    assert "tags" not in by_kind(resources, "table")[0].body  # other templates stay the defaults


@pytest.mark.parametrize("template,text,expected", [
    ("table.json.j2", '{"properties": {{ table.nope }} }', "undefined"),
    ("table.json.j2", '{"properties": {"a": 1,}}', "did not produce valid JSON"),
    ("table.json.j2", '{% for %}', "table.json.j2"),
    ("dce.json.j2", '["not", "an", "object"]', "must produce a JSON object"),
])
def test_broken_user_templates_raise_render_error_naming_the_template(tmp_path, template, text, expected):
    (tmp_path / template).write_text(text)
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("with-dce"), templates_dir=tmp_path)
    assert expected in caught.value.format() and template in caught.value.format()


def test_missing_templates_dir_is_a_render_error(tmp_path):
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("quickstart"), templates_dir=tmp_path / "nope")
    assert "does not exist" in caught.value.message
    (tmp_path / "file").write_text("")
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("quickstart"), templates_dir=tmp_path / "file")
    assert "is a file, not a folder" in caught.value.message


def test_template_errors_say_which_file_and_line_and_show_the_rendered_json(tmp_path):
    (tmp_path / "table.json.j2").write_text('{\n  "a": 1,\n  "b": {{ nope.x }}\n}\n')
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("quickstart"), templates_dir=tmp_path)
    assert f"{tmp_path / 'table.json.j2'}' line 3 uses an undefined value" in caught.value.message
    (tmp_path / "table.json.j2").write_text('{\n  "name": {{ table.name | tojson }} "x": 1\n}\n')
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("quickstart"), templates_dir=tmp_path)
    shown = caught.value.hint.splitlines()
    assert shown[-2].strip() == '"name": "AppEvents_CL" "x": 1' and shown[-1].index("^") == shown[-2].index('"x"')
    (tmp_path / "table.json.j2").write_text('{"name": {{ table.name | tojson }},')
    with pytest.raises(RenderError) as caught:
        render_resources(scenario("quickstart"), templates_dir=tmp_path)
    assert "ends early" in caught.value.hint


# -- ARM --------------------------------------------------------------------------------------------

def test_arm_template_orders_with_depends_on_and_outputs_each_rule():
    template = render_arm(scenario("quickstart"))
    assert template["$schema"].endswith("deploymentTemplate.json#")
    types = [r["type"] for r in template["resources"]]
    assert types == ["Microsoft.OperationalInsights/workspaces/tables", "Microsoft.Insights/dataCollectionRules", "Microsoft.Authorization/roleAssignments"]
    table, rule, role = template["resources"]
    assert table["name"] == "law-local/AppEvents_CL"
    assert rule["dependsOn"] == ["[resourceId('Microsoft.OperationalInsights/workspaces/tables', 'law-local', 'AppEvents_CL')]"]
    assert rule["kind"] == "Direct" and rule["properties"]["dataFlows"][0]["outputStream"] == "Custom-AppEvents_CL"
    assert role["dependsOn"] == ["[resourceId('Microsoft.Insights/dataCollectionRules', 'dcr-quickstart')]"]
    assert role["properties"]["principalId"] == "[parameters('publisher1ObjectId')]"  # app id: Graph lookup left to the deployer
    assert "publisher1ObjectId" in template["parameters"]
    assert template["outputs"]["dcrQuickstartImmutableId"]["value"].endswith(".immutableId]")
    assert template["outputs"]["dcrQuickstartLogsIngestion"]["value"].endswith(".endpoints.logsIngestion]")


def test_arm_template_with_a_dce_uses_its_endpoint():
    template = render_arm(scenario("with-dce"))
    types = [r["type"] for r in template["resources"]]
    assert types.index("Microsoft.Insights/dataCollectionEndpoints") < types.index("Microsoft.Insights/dataCollectionRules")
    rule = template["resources"][types.index("Microsoft.Insights/dataCollectionRules")]
    dce_ref = "[resourceId('Microsoft.Insights/dataCollectionEndpoints', 'dce-inventory')]"
    assert rule["properties"]["dataCollectionEndpointId"] == dce_ref and dce_ref in rule["dependsOn"]
    assert template["outputs"]["dcrInventoryLogsIngestion"]["value"].endswith(".logsIngestion.endpoint]")
    role = template["resources"][-1]
    assert role["properties"]["principalId"] == SENDER_OBJECT and template["parameters"] == {}


def test_arm_template_puts_tables_of_a_workspace_in_another_group_in_a_nested_deployment():
    template = render_arm(scenario("multi-env", env="prod"))
    nested = template["resources"][0]
    assert nested["type"] == "Microsoft.Resources/deployments"
    assert (nested["subscriptionId"], nested["resourceGroup"]) == ("44444444-4444-4444-8444-444444444444", "rg-logs-prod")
    assert nested["properties"]["template"]["resources"][0]["name"] == "law-prod/Orders_CL"
    rule = next(r for r in template["resources"] if r["type"] == "Microsoft.Insights/dataCollectionRules")
    assert rule["dependsOn"] == [f"[resourceId('Microsoft.Resources/deployments', '{nested['name']}')]"]


# -- CLI ------------------------------------------------------------------------------------------------

def test_cli_render_prints_json_and_writes_one_file_per_resource(tmp_path):
    printed = runner.invoke(app, ["render", str(REPO / "scenarios" / "with-dce.yaml")])
    assert printed.exit_code == 0, printed.output
    listing = json.loads(printed.stdout)
    assert [r["kind"] for r in listing] == ["table", "endpoint", "rule", "role_assignment"]
    written = runner.invoke(app, ["render", str(REPO / "scenarios" / "with-dce.yaml"), "--out", str(tmp_path / "out")])
    assert written.exit_code == 0, written.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 4 and files[0].startswith("endpoint-dce-inventory")
    for path, item in zip(sorted((tmp_path / "out").iterdir(), key=lambda p: ["tab", "end", "rul", "rol"].index(p.name[:3])), listing):
        assert json.loads(path.read_text()) == item["body"]


def test_cli_render_arm_and_templates_option(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "dce.json.j2").write_text('{"location": {{ scenario.location | tojson }}, "properties": {"description": "mine"}}')
    result = runner.invoke(app, ["render", str(REPO / "scenarios" / "with-dce.yaml"), "--format", "arm", "--templates", str(tmp_path / "tpl"), "--out", str(tmp_path / "arm")])
    assert result.exit_code == 0, result.output
    template = json.loads((tmp_path / "arm" / "with-dce.deployment.json").read_text())
    dce = next(r for r in template["resources"] if r["type"].endswith("dataCollectionEndpoints"))
    assert dce["properties"] == {"description": "mine"}


def test_cli_render_with_a_broken_template_exits_1_with_a_clear_message(tmp_path):
    (tmp_path / "dcr.json.j2").write_text("{ oops }")
    result = runner.invoke(app, ["render", str(REPO / "scenarios" / "quickstart.yaml"), "--templates", str(tmp_path)])
    assert result.exit_code == 1
    assert "dcr.json.j2" in result.output and "valid JSON" in result.output and "Traceback" not in result.output


# -- the shipped scenarios ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_validates_clean_and_renders_with_no_variables_set(path):
    from provision.scenario import validate_scenario

    text = path.read_text()
    assert text.startswith("#"), "each scenario starts with a comment header saying what it shows"
    loaded, diagnostics = validate_scenario(path, environ={})
    assert loaded is not None and [d.format() for d in diagnostics] == []
    assert render_resources(loaded) and render_arm(loaded)["resources"]


def test_scenario_set_covers_the_required_examples():
    names = {p.stem for p in SCENARIOS}
    assert {"quickstart", "syslog-cf", "with-dce", "multi-env"} <= names
    quick = scenario("quickstart")
    table = quick.tables["AppEvents_CL"]
    assert {"guid", "dynamic"} <= {c.type for c in table.columns}
    assert "TimeGenerated = " in quick.rules["dcr-quickstart"].flows[0].transform and quick.publishers
    assert quick.workspace.endswith("/workspaces/law-local") and quick.resource_group == "rg-local"


def test_quickstart_points_elsewhere_with_one_variable():
    other = "/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/rg-x/providers/Microsoft.OperationalInsights/workspaces/law-x"
    s = require_valid(REPO / "scenarios" / "quickstart.yaml", environ={"WORKSPACE_ID": other})
    assert s.workspace == other and s.subscription == "99999999-9999-4999-8999-999999999999"


def test_cli_render_into_a_file_instead_of_a_folder_is_a_clear_error(tmp_path):
    target = tmp_path / "afile"
    target.write_text("")
    result = runner.invoke(app, ["render", str(REPO / "scenarios" / "quickstart.yaml"), "--out", str(target)])
    assert result.exit_code == 1 and "is a file, not a folder" in result.output and "Traceback" not in result.output


def test_cli_render_arm_file_name_stays_inside_out(tmp_path):
    # the default name comes from the file name, made safe for a file name
    scenario_file = tmp_path / "my scenario.yaml"
    scenario_file.write_text((REPO / "scenarios" / "quickstart.yaml").read_text().replace("name: quickstart\n", ""))
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(scenario_file), "--format", "arm", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["my-scenario.deployment.json"]
