"""The rehearsal of a move off the Data Collector API, end to end on the emulator, and `provision migrate`'s errors.

An old sender signs and posts as the documented samples do (tests/datacollector_client.py); `provision migrate`
reads the classic table and writes a scenario; `provision apply` migrates the table in place and creates the DCR;
the same JSON, posted unchanged through the official LogsIngestionClient, lands in the same table under the same
column names; the rows from before are still there; a second apply changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import seed
from tests.datacollector_client import post_data
from tests.emulator_helpers import RG, WS


def invoke(emu, *args):
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local"})


def old_json(when: datetime) -> list[dict]:
    """What the old sender posts: plain field names, the Data Collector API infers the suffixes."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"Computer": "web-1", "Count": 42, "Ok": True, "When": stamp, "Id": "9909ed01-a74c-4874-8abf-d2678e3ae23d"},
            {"Computer": "web-2", "Count": 1.5, "Ok": False, "When": stamp, "Id": "8809ed01-a74c-4874-8abf-d2678e3ae23d"}]


SUFFIXED = {"TimeGenerated", "Computer_s", "Count_d", "Ok_b", "When_t", "Id_g"}


@pytest.fixture
def key(azure) -> str:
    return azure.loganalytics().shared_keys.get_shared_keys(RG, WS).primary_shared_key


def test_rehearsal_classic_table_migrate_apply_and_the_same_json_through_logs_ingestion(emu, azure, key, tmp_path):
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    before = old_json(when)
    assert post_data(emu, key, json.dumps(before), time_field="When").status_code == 200
    old_rows = emu.rows("AppEvents_CL")
    assert {k for r in old_rows for k in r} == SUFFIXED

    scenario = tmp_path / "migrate.yaml"
    result = invoke(emu, "migrate", "--table", "AppEvents_CL", "--time-field", "When", "--out", scenario)
    assert result.exit_code == 0, result.output
    assert "Sender guide" in result.output and "monitor.azure.com" in result.output
    text = scenario.read_text()
    assert "migrate: true" in text and "Computer: string" in text and "Count: real" in text and "Id: string" in text
    # The new sender signs in as the seeded sender app: add it, as the file's comment says.
    scenario.write_text(text + f"publishers:\n  - app_id: {seed.SENDER_APP_ID}\n")
    assert invoke(emu, "validate", scenario).exit_code == 0

    plan = invoke(emu, "plan", scenario)
    assert plan.exit_code == 0, plan.output
    assert "> migrate table AppEvents_CL (classic -> DCR-based)  [irreversible]" in plan.output and "1 to migrate" in plan.output
    assert "1 change(s) cannot be undone (irreversible)" in plan.output
    applied = invoke(emu, "apply", scenario, "--yes")
    assert applied.exit_code == 0, applied.output
    # No table is deleted or re-created (the columns already match: no table PUT either).
    assert [c.operation for c in emu.write_calls()] == ["DataCollectionRules_Create", "RoleAssignments_Create"]
    migrate_call = next(i for i, c in enumerate(emu.calls) if c.operation == "Tables_Migrate")
    dcr_call = next(i for i, c in enumerate(emu.calls) if c.operation == "DataCollectionRules_Create")
    assert migrate_call < dcr_call  # the migration runs before the DCR that writes to the table
    table = azure.loganalytics().tables.get(RG, WS, "AppEvents_CL")
    assert table.properties.schema.table_sub_type == "DataCollectionRuleBased"

    rule = azure.monitor().data_collection_rules.get(RG, "dcr-appevents-migrated")
    later = when + timedelta(minutes=5)
    azure.ingestion(rule.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-AppEvents",
                                                          logs=old_json(later))
    rows = emu.rows("AppEvents_CL")
    assert rows[:2] == old_rows  # the rows from before the migration are still there
    new_rows = rows[2:]
    assert [sorted(r) for r in new_rows] == [sorted(r) for r in old_rows]  # the same column names
    assert [r["Computer_s"] for r in new_rows] == ["web-1", "web-2"] and new_rows[0]["Ok_b"] is True
    assert new_rows[1]["Count_d"] == 1.5 and new_rows[0]["Id_g"] == "9909ed01-a74c-4874-8abf-d2678e3ae23d"
    assert datetime.fromisoformat(new_rows[0]["TimeGenerated"]) == later  # from the --time-field, as before

    # The old sender may keep posting during the cut-over (existing columns only).
    assert post_data(emu, key, json.dumps(before), time_field="When").status_code == 200
    assert len(emu.rows("AppEvents_CL")) == 6

    again = invoke(emu, "plan", scenario, "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # a second apply is a no-op
    writes = len(emu.write_calls())
    assert invoke(emu, "apply", scenario, "--yes").exit_code == 0
    assert len(emu.write_calls()) == writes and emu.count(operation="Tables_Migrate") == 1


def test_without_time_field_the_scenario_says_what_changed(emu, key, tmp_path):
    assert post_data(emu, key, json.dumps([{"Computer": "a", "Count": 1}])).status_code == 200
    result = invoke(emu, "migrate", "--table", "AppEvents_CL")
    assert result.exit_code == 0, result.output
    assert "TimeGenerated = now()" in result.stdout and "--time-field" in result.stdout  # the note in the file
    path = tmp_path / "s.yaml"
    path.write_text(result.stdout)
    assert invoke(emu, "validate", path).exit_code == 0


def test_migrate_refuses_missing_dcr_based_and_azure_tables(emu, azure, key):
    missing = invoke(emu, "migrate", "--table", "Nope_CL")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    azure_table = invoke(emu, "migrate", "--table", "Syslog")
    assert azure_table.exit_code == 1 and "is an Azure table" in azure_table.output
    assert post_data(emu, key, json.dumps([{"Computer": "a"}])).status_code == 200
    azure.loganalytics().tables.migrate(RG, WS, "AppEvents_CL")
    done = invoke(emu, "migrate", "--table", "AppEvents_CL")
    assert done.exit_code == 1 and "not a classic table" in done.output and "DataCollectionRuleBased" in done.output
    bad_field = invoke(emu, "migrate", "--table", "AppEvents_CL", "--time-field", "When")
    assert bad_field.exit_code == 1 and "Traceback" not in bad_field.output


def test_time_field_that_is_no_column_is_an_error(emu, key):
    assert post_data(emu, key, json.dumps([{"Computer": "a"}])).status_code == 200
    result = invoke(emu, "migrate", "--table", "AppEvents_CL", "--time-field", "When")
    assert result.exit_code == 1 and "no column for that field" in result.output and "Computer" in result.output


def test_classic_table_without_migrate_keeps_its_error_naming_provision_migrate(emu, tmp_path):
    emu.create_classic_table("AppEvents_CL", {"TimeGenerated": "dateTime", "Message_s": "string"})
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: t
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {RG}
tables:
  AppEvents_CL:
    columns: {{TimeGenerated: datetime, Message_s: string}}
""")
    result = invoke(emu, "plan", path)
    assert result.exit_code == 1 and "ClassicTable" in result.output and "provision migrate --table AppEvents_CL" in result.output
    path.write_text(path.read_text().replace("    columns:", "    migrate: true\n    columns:"))
    result = invoke(emu, "plan", path)
    assert result.exit_code == 0 and "ClassicTable" not in result.output and "[irreversible]" in result.output


def test_migrate_key_is_checked_by_validate(emu, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: t
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {RG}
tables:
  Syslog:
    migrate: true
    columns: {{Extra_CF: string}}
  App_CL:
    migrate: "yes please"
    columns: {{TimeGenerated: datetime}}
""")
    result = invoke(emu, "validate", path)
    assert result.exit_code == 1 and "MigrateNotCustom" in result.output and "must be true or false" in result.output


def test_plan_table_maps_suffixes_keeps_unsuffixed_columns_and_reports_what_it_cannot_feed():
    from provision.migrate import plan_table

    schema = {"columns": [{"name": "TimeGenerated", "type": "dateTime"}, {"name": "Count_d", "type": "real"},
                          {"name": "Count_s", "type": "string"}, {"name": "Id_g", "type": "string"},
                          {"name": "Message", "type": "string"}, {"name": "Bag", "type": "dynamic"}]}
    plan = plan_table("App_CL", schema, None)
    assert [(f.name, f.stream_type, f.column) for f in plan.fields] == [
        ("Count", "real", "Count_d"), ("Id", "string", "Id_g"), ("Message", "string", "Message"), ("Bag", "dynamic", "Bag")]
    # Id_g stored as a string (real workspaces): copied, not toguid(); Message and Bag arrive under their own names.
    assert plan.transform == "source | extend TimeGenerated = now(), Count_d = Count, Id_g = Id | project-away Count, Id"
    assert any("Count_s" in w for w in plan.warnings) and any("now()" in w for w in plan.warnings)
    assert plan.columns[2] == ("Count_s", "string")  # every column stays in the scenario: the plan drops nothing


def test_migrate_true_on_a_table_that_does_not_exist_yet_just_creates_it(emu, tmp_path):
    # Nothing to migrate: the plan has no migrate change, the table is created DCR-based, a second plan is empty.
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: t
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {RG}
tables:
  Fresh_CL:
    migrate: true
    columns: {{TimeGenerated: datetime, Message: string}}
""")
    plan = invoke(emu, "plan", path, "--format", "json")
    assert plan.exit_code == 0, plan.output
    body = json.loads(plan.stdout)
    assert body["summary"] == {"create": 1, "update": 0, "replace": 0, "delete": 0, "no-op": 1}  # no "migrate" key
    assert "irreversible" not in body["classes"]
    assert invoke(emu, "apply", path, "--yes").exit_code == 0
    assert emu.count(operation="Tables_Migrate") == 0
    assert invoke(emu, "plan", path, "--detailed-exitcode").exit_code == 0


def test_a_dcr_cannot_write_to_a_classic_table_until_it_is_migrated(azure, key, emu):
    from azure.core.exceptions import HttpResponseError

    from tests.emulator_helpers import create_dcr, dcr_body

    assert post_data(emu, key, json.dumps([{"Message": "old"}]), "MyApp").status_code == 200
    body = dcr_body(columns=(("TimeGenerated", "datetime"), ("Message_s", "string")))
    with pytest.raises(HttpResponseError) as refused:
        create_dcr(azure, body=body)
    assert refused.value.status_code == 400 and "InvalidOutputTable" in str(refused.value) and "classic" in str(refused.value)
    azure.loganalytics().tables.migrate(RG, WS, "MyApp_CL")
    assert create_dcr(azure, body=body).immutable_id


def test_fields_named_like_kusto_keywords_are_quoted_and_the_scenarios_validate(tmp_path):
    # 'date' and 'where' are Kusto keywords: the transform writes ['date'] and ['where']; two tables, two DCRs.
    from provision.migrate import plan_table, scenario_text

    plans = [plan_table("Odd_CL", {"columns": [{"name": "TimeGenerated", "type": "dateTime"},
                                               {"name": "date_t", "type": "dateTime"},
                                               {"name": "where_s", "type": "string"}]}, "date"),
             plan_table("Other_CL", {"columns": [{"name": "TimeGenerated", "type": "dateTime"},
                                                 {"name": "Id_g", "type": "guid"}]}, None)]
    assert plans[0].transform == ("source | extend TimeGenerated = ['date'], date_t = ['date'], where_s = ['where'] "
                                  "| project-away ['date'], ['where']")
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(plans, seed.WORKSPACE_ID, "westeurope", RG))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "dcr-odd-migrated" in path.read_text() and "dcr-other-migrated" in path.read_text()


def test_render_arm_of_a_migrating_scenario_says_the_template_cannot_migrate(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: t
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {RG}
tables:
  App_CL:
    migrate: true
    columns: {{TimeGenerated: datetime, Message_s: string}}
""")
    result = CliRunner().invoke(app, ["render", str(path), "--format", "arm"])
    assert result.exit_code == 0, result.output
    assert "migrate: true" in result.stderr and "an ARM template cannot" in result.stderr
    assert "/migrate" not in result.stdout  # the template PUTs the table only


def test_a_failed_migration_blocks_only_the_dcr_and_a_rerun_completes(emu, key, tmp_path):
    from provision.apply import apply_plan
    from provision.azure import connect
    from provision.errors import ApplyError
    from provision.pipeline import plan_scenario
    from provision.scenario import require_valid

    assert post_data(emu, key, json.dumps([{"Computer": "a"}])).status_code == 200
    path = tmp_path / "m.yaml"
    result = invoke(emu, "migrate", "--table", "AppEvents_CL", "--out", path)
    assert result.exit_code == 0, result.output
    emu.inject_fault("500", match="Tables_Migrate", times=1)
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as session:
        scenario = require_valid(str(path), environ=session.environ)
        with pytest.raises(ApplyError) as failed:
            apply_plan(session, plan_scenario(session, scenario)[2])
        assert "migrating table AppEvents_CL" in failed.value.message and "not started: rule dcr-appevents-migrated" in \
            failed.value.message
        assert emu.count(operation="DataCollectionRules_Create") == 0  # nothing wrote to the classic table
        apply_plan(session, plan_scenario(session, scenario)[2])  # the re-run migrates, then creates the DCR
        assert not plan_scenario(session, scenario)[2].has_changes
    assert emu.count(operation="Tables_Migrate", status=200) == 1 and emu.count(operation="DataCollectionRules_Create") == 1
