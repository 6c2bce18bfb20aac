"""Live state read with ARM lists (issue 13): the same bodies as one GET per resource, a number of reads that does
not grow with the scenario, and the GETs again when a list fails. Official SDK clients over HTTPS, the emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from provision import ids
from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import seed
from provision.errors import AzureError
from provision.live import get_resource, raw_json, read_assignments, read_resources
from provision.pipeline import plan_scenario
from provision.resources import Kind, ResourceId
from provision.scenario import require_valid
from tests.emulator_helpers import grant_sender

TABLES, RULES = 12, 4
NOT_LISTED = 10**9  # list_min no group reaches: one GET per resource, the reference


def scenario_text(tables: int = TABLES, rules: int = RULES) -> str:
    names = [f"Wide{i:02d}_CL" for i in range(tables)]
    lines = ["name: wide", "location: westeurope", f"workspace: {seed.WORKSPACE_ID}",
             f"resource_group: {seed.RESOURCE_GROUP}", "tables:"]
    for name in names:
        lines += [f"  {name}:", "    columns:", "      TimeGenerated: datetime", "      Message: string"]
    lines.append("rules:")
    per_rule = -(-tables // rules)
    for r in range(rules):
        lines += [f"  dcr-wide-{r}:", "    flows:"] + [f"      - table: {n}" for n in names[r * per_rule:(r + 1) * per_rule]]
    lines += ["publishers:", f"  - app_id: {seed.SENDER_APP_ID}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


@pytest.fixture
def deployed(session, tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(scenario_text())
    sc = require_valid(str(path), environ=session.environ)
    apply_plan(session, plan_scenario(session, sc)[2])
    return sc


def reads(emu) -> list[str]:
    return [c.operation for c in emu.calls if c.method == "GET" and c.operation not in ("Token", "OpenIdConfiguration")]


def both_ways(session, sc):
    """(listed, one GET each) live bodies of the scenario's resources and of its role assignments."""
    resources = plan_scenario(session, sc)[0]
    deployables = [r for r in resources if r.kind != Kind.ROLE_ASSIGNMENT]
    assignments = [r for r in resources if r.kind == Kind.ROLE_ASSIGNMENT]
    with ThreadPoolExecutor(8) as pool:
        listed, ws_listed = read_resources(session, sc, deployables, pool)
        got, ws_got = read_resources(session, sc, deployables, pool, list_min=NOT_LISTED)
        listed.update(read_assignments(session, assignments, listed, pool))
        got.update(read_assignments(session, assignments, got, pool, list_min=NOT_LISTED))
    assert ws_listed == ws_got
    return listed, got


def test_lists_read_exactly_what_the_gets_read(session, emu, deployed):
    listed, got = both_ways(session, deployed)
    assert listed == got
    assert len(listed) == TABLES + RULES + RULES and all(body is not None for body in listed.values())


def test_an_assignment_made_by_hand_under_another_name_is_found_in_the_list(session, azure, deployed):
    dcr = ids.dcr_id(deployed.subscription, deployed.resource_group, "dcr-wide-0")
    auth = azure.authorization()
    (ours,) = [a for a in auth.role_assignments.list_for_scope(dcr) if a.scope.lower() == dcr.lower()]
    auth.role_assignments.delete(dcr, ours.name)
    grant_sender(azure, dcr)
    listed, got = both_ways(session, deployed)
    assert listed == got
    assert listed[ours.id.lower()] is not None and "id" not in listed[ours.id.lower()]  # reported as ours
    assert not plan_scenario(session, deployed)[2].has_changes


def test_a_no_op_plan_reads_once_per_kind_and_scope(session, emu, deployed):
    emu.calls.clear()
    plan = plan_scenario(session, deployed)[2]
    assert not plan.has_changes
    made = reads(emu)
    assert sorted(made) == ["DataCollectionRules_List", "RoleAssignments_List", "ServicePrincipals_GetByAppId",
                            "Tables_ListByWorkspace", "Workspaces_Get"]


def test_reads_stay_the_gets_when_lists_fail(session, emu, deployed):
    listed_ops = ("Tables_ListByWorkspace", "DataCollectionRules_List", "RoleAssignments_List")
    for operation in listed_ops:
        emu.inject_fault("500", match=operation, times=1)
    emu.calls.clear()
    assert not plan_scenario(session, deployed)[2].has_changes
    made = reads(emu)
    assert [made.count(op) for op in listed_ops] == [1, 1, 1]  # each list was tried, once (retry_total=0)
    assert made.count("Tables_Get") == TABLES and made.count("DataCollectionRules_Get") == RULES
    assert made.count("RoleAssignments_Get") == RULES


def test_a_denied_list_falls_back_to_gets_that_say_what_is_missing(emu, deployed):
    # 'nobody' may neither list nor GET: the fallback GETs report the 403 exactly as the GET path did
    with connect("local", emulator=emu, identity=(seed.NOBODY_APP_ID, seed.NOBODY_SECRET), polling_interval=0,
                 retry_total=0) as nobody, pytest.raises(AzureError) as info:
        plan_scenario(nobody, deployed)
    assert "HTTP 403" in info.value.format() and "lacks permission" in info.value.format()


def test_raw_reads_return_the_sdk_gets_body(session, azure, deployed):
    table_id = ids.table_id(deployed.workspace, "Wide00_CL")
    table = ResourceId.parse(table_id)
    rule = ids.dcr_id(deployed.subscription, deployed.resource_group, "dcr-wide-0")
    la, monitor = azure.loganalytics(), azure.monitor()
    assert get_resource(session, Kind.TABLE, table_id) == la.tables.get(
        table.resource_group, table.parent, table.name, cls=raw_json)
    assert get_resource(session, Kind.RULE, rule) == monitor.data_collection_rules.get(
        deployed.resource_group, "dcr-wide-0", cls=raw_json)
    ws = ResourceId.parse(deployed.workspace)
    assert get_resource(session, Kind.WORKSPACE, deployed.workspace) == la.workspaces.get(
        ws.resource_group, ws.name, cls=raw_json)
    (assignment,) = [a for a in azure.authorization().role_assignments.list_for_scope(rule)
                     if a.scope.lower() == rule.lower()]
    assert get_resource(session, Kind.ROLE_ASSIGNMENT, assignment.id) == azure.authorization().role_assignments.get(
        rule, assignment.name, cls=raw_json)
