"""apply against the emulator: failure paths, faults, interruption, ordering. Official SDK clients over HTTPS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provision import ids
from provision.apply import _steps, apply_plan
from provision.azure import connect
from provision.emulator import seed
from provision.errors import ApplyError, AzureError, PlanError
from provision.pipeline import plan_scenario
from provision.scenario import require_valid

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
WITH_DCE = REPO / "scenarios" / "with-dce.yaml"
MULTI = REPO / "scenarios" / "multi-env.yaml"


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def scenario(path, session, env=None, **variables):
    return require_valid(str(path), env=env, variables=variables, environ=session.environ)


def assignments_on(azure, scope):
    return [a for a in azure.authorization().role_assignments.list_for_scope(scope)
            if a.scope.lower() == scope.lower()]


def test_order_follows_dependencies_not_waves(session):
    _, _, plan = plan_scenario(session, scenario(WITH_DCE, session))
    steps = _steps(plan)
    by_kind = {s.change.kind: s for s in steps.values()}
    table, dce, rule, _role = (by_kind[k].key for k in ("table", "endpoint", "rule", "role_assignment"))
    assert by_kind["table"].deps == set() and by_kind["endpoint"].deps == set()
    assert by_kind["rule"].deps == {table, dce}
    assert by_kind["role_assignment"].deps == {rule}


def test_missing_workspace_is_reported_before_any_write(session, emu):
    missing = seed.WORKSPACE_ID.replace(seed.WORKSPACE_NAME, "law-missing")
    plan = plan_scenario(session, scenario(QUICKSTART, session, WORKSPACE_ID=missing))[2]
    assert [p.code for p in plan.problems] == ["WorkspaceNotFound"]
    assert "law-missing" in plan.problems[0].message
    with pytest.raises(PlanError, match="nothing was changed"):
        apply_plan(session, plan)
    assert emu.write_calls() == []


def test_live_problems_are_reported_all_at_once(session, emu):
    unknown_app = "a9a9a9a9-0000-4000-8000-000000000009"
    plan = plan_scenario(session, scenario(QUICKSTART, session, LOCATION="eastus", SENDER_APP_ID=unknown_app))[2]
    assert sorted(p.code for p in plan.problems) == ["LocationMismatch", "PublisherNotFound"]
    assert any(unknown_app in p.message for p in plan.problems)
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    assert emu.write_calls() == []


def test_subscription_without_rights_is_a_clear_error(session, emu):
    # multi-env's prod environment names a subscription the local deployer has no role in.
    with pytest.raises(AzureError) as info:
        plan_scenario(session, scenario(MULTI, session, env="prod"))
    assert "HTTP 403" in info.value.format() and "lacks permission" in info.value.format()
    assert emu.write_calls() == []


def test_identity_without_rights_gets_a_clear_error(emu):
    with connect("local", emulator=emu, identity=(seed.NOBODY_APP_ID, seed.NOBODY_SECRET),
                 polling_interval=0, retry_total=0) as nobody, pytest.raises(AzureError) as info:
        plan_scenario(nobody, scenario(QUICKSTART, nobody))
    text = info.value.format()
    assert "HTTP 403" in text and "AuthorizationFailed" in text and "lacks permission" in text
    assert emu.write_calls() == []


def test_dcr_rejected_by_the_service_shows_its_message(session, emu, tmp_path):
    # Templates that send a DCR the service refuses: its output stream names a table that does not exist.
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    dcr = templates / "dcr.json.j2"
    dcr.write_text(dcr.read_text().replace('"outputStream": {{ flow.output_stream | tojson }}',
                                           '"outputStream": "Custom-Missing_CL"'))
    _, _, plan = plan_scenario(session, scenario(QUICKSTART, session), templates_dir=templates)
    with pytest.raises(ApplyError) as info:
        apply_plan(session, plan)
    text = info.value.format()
    assert "creating rule dcr-quickstart failed (HTTP 400, InvalidPayload)" in text
    assert "InvalidOutputTable" in text  # the service's own detail (azure-contract.md §5.3)
    assert "1 step(s) finished and stay in place" in text  # the table
    assert "not started: role assignment" in text
    assert [c.operation for c in emu.write_calls()].count("DataCollectionRules_Create") == 1
    # what finished stays: the table exists
    assert emu.count("PUT", "Tables_CreateOrUpdate", 202) == 1


def test_faults_converge_without_duplicate_role_assignments(emu, azure):
    emu.inject_fault("503", match="RoleAssignments_Create", times=2)
    emu.inject_fault("429", match="DataCollectionRules_Create", times=1, retry_after=0)
    emu.inject_fault("reset", match="Tables_CreateOrUpdate", times=1)
    emu.inject_fault("500", match="Tables_Get", times=1)
    with connect("local", emulator=emu, polling_interval=0, retry_total=4, retry_backoff_factor=0.01) as s:
        sc = scenario(QUICKSTART, s)
        apply_plan(s, plan_scenario(s, sc)[2])
        assert not plan_scenario(s, sc)[2].has_changes
        dcr = ids.dcr_id(sc.subscription, sc.resource_group, "dcr-quickstart")
        assert len(assignments_on(azure, dcr)) == 1
        assert emu.count("PUT", "RoleAssignments_Create", 503) == 2  # the faults really fired
        assert emu.count("PUT", "DataCollectionRules_Create", 429) == 1
        # a failed table operation stops its dependants; the re-run converges
        emu.reset()
        emu.inject_fault("lro-failed", match="Tables", times=1)
        with pytest.raises(ApplyError, match="creating table AppEvents_CL failed"):
            apply_plan(s, plan_scenario(s, sc)[2])
        apply_plan(s, plan_scenario(s, sc)[2])
        assert not plan_scenario(s, sc)[2].has_changes
        assert len(assignments_on(azure, dcr)) == 1


def test_interrupted_apply_completes_on_rerun(session, emu, azure):
    sc = scenario(WITH_DCE, session)
    seen = []

    def interrupt_after_first(event, change, detail):
        if event == "done":
            seen.append(change.kind)
            raise KeyboardInterrupt  # Ctrl-C arrives in the main thread, as a signal would

    with pytest.raises(KeyboardInterrupt):
        apply_plan(session, plan_scenario(session, sc)[2], progress=interrupt_after_first)
    assert len(seen) == 1
    remaining = plan_scenario(session, sc)[2]
    assert remaining.has_changes and len(remaining.pending) < 4
    apply_plan(session, remaining)
    assert not plan_scenario(session, sc)[2].has_changes
    dcr = ids.dcr_id(sc.subscription, sc.resource_group, "dcr-inventory")
    assert len(assignments_on(azure, dcr)) == 1


def test_existing_assignment_under_another_name_is_success(session, emu, azure):
    sc = scenario(QUICKSTART, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    dcr = ids.dcr_id(sc.subscription, sc.resource_group, "dcr-quickstart")
    (existing,) = assignments_on(azure, dcr)
    auth = azure.authorization()
    auth.role_assignments.delete(dcr, existing.name)
    # someone assigns the same role by hand, under a random name
    import uuid

    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    auth.role_assignments.create(dcr, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=ids.role_definition_id(sc.subscription), principal_id=seed.SENDER_OBJECT_ID,
        principal_type="ServicePrincipal"))
    plan = plan_scenario(session, sc)[2]
    assert not plan.has_changes  # found by listing the scope: no duplicate will be made
    assert len(assignments_on(azure, dcr)) == 1


def test_destructive_changes_need_the_flag(session, emu, tmp_path):
    sc = scenario(QUICKSTART, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    text = QUICKSTART.read_text().replace("      DurationMs: real\n", "", 1)
    smaller = tmp_path / "quickstart.yaml"
    smaller.write_text(text)
    sc2 = scenario(smaller, session)
    plan = plan_scenario(session, sc2)[2]
    dropped = [d for c in plan.pending for d in c.diffs if d.op == "remove"]
    assert {d.cls for d in dropped} == {"data-affecting"}
    writes = len(emu.write_calls())
    with pytest.raises(PlanError) as info:
        apply_plan(session, plan)
    assert "dropping column 'DurationMs'" in info.value.format() and "--allow-destructive" in info.value.format()
    assert len(emu.write_calls()) == writes
    apply_plan(session, plan, allow_destructive=True)
    assert not plan_scenario(session, sc2)[2].has_changes


def test_impossible_change_is_refused_with_options(session, emu, tmp_path):
    sc = scenario(QUICKSTART, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    changed = tmp_path / "quickstart.yaml"
    changed.write_text(QUICKSTART.read_text().replace("      DurationMs: real\n", "      DurationMs: long\n", 1)
                       .replace("        DurationMs: real\n", "        DurationMs: long\n", 1))
    plan = plan_scenario(session, scenario(changed, session))[2]
    assert [c.cls for c in plan.impossible] == ["impossible"]
    writes = len(emu.write_calls())
    with pytest.raises(PlanError) as info:
        apply_plan(session, plan, allow_destructive=True)
    assert "cannot be changed" in info.value.format() and "new column" in info.value.format()
    assert len(emu.write_calls()) == writes


def test_ensure_absent_deletes_only_with_the_flag(session, emu, tmp_path):
    extra = "  Extra_CL:\n    columns:\n      TimeGenerated: datetime\n      Note: string\n"
    text = QUICKSTART.read_text().replace("rules:\n", extra + "\nrules:\n", 1)
    present, absent = tmp_path / "present.yaml", tmp_path / "absent.yaml"
    present.write_text(text)
    absent.write_text(text.replace(extra, "  Extra_CL:\n    ensure: absent\n"))
    apply_plan(session, plan_scenario(session, scenario(present, session))[2])
    plan = plan_scenario(session, scenario(absent, session))[2]
    assert [(c.action, c.kind, c.name, c.cls) for c in plan.pending] == [("delete", "table", "Extra_CL", "data-affecting")]
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    apply_plan(session, plan, allow_destructive=True)
    assert emu.count("DELETE", "Tables_Delete") == 1
    assert not plan_scenario(session, scenario(absent, session))[2].has_changes


def test_unknown_object_id_is_a_live_problem_when_graph_can_tell(session, emu):
    # Graph GET servicePrincipals/{id}: 404 Request_ResourceNotFound -> reported before any write.
    unknown = "b9b9b9b9-0000-4000-8000-000000000009"
    plan = plan_scenario(session, scenario(WITH_DCE, session, SENDER_OBJECT_ID=unknown))[2]
    (problem,) = plan.problems
    assert problem.code == "PublisherNotFound" and f"object_id {unknown}" in problem.message
    assert "service principal" in problem.fix and problem.line is not None
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    assert emu.write_calls() == []


def test_unknown_object_id_shows_the_services_principal_message(emu):
    # Without Graph access the object id cannot be checked (giving object_id is how to do without Graph):
    # apply meets the service's PrincipalNotFound, keeps what it finished and says so.
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ())
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        sc = scenario(WITH_DCE, s, SENDER_OBJECT_ID="b9b9b9b9-0000-4000-8000-000000000009")
        plan = plan_scenario(s, sc)[2]
        assert not plan.problems
        events = []
        with pytest.raises(ApplyError) as info:
            apply_plan(s, plan, principal_retry_seconds=0.5, progress=lambda *e: events.append(e))
    text = info.value.format()
    assert "PrincipalNotFound" in text and "b9b9b9b90000400080000000000000009"[:8] in text
    waits = [d for event, change, d in events if event == "waiting" and change.kind == "role_assignment"]
    assert waits == ["principal not found yet: retrying for up to 0.5 s while it replicates"]  # said once
    assert emu.count("PUT", "RoleAssignments_Create", 400) == 2  # retried once, then gave up
    assert "3 step(s) finished and stay in place" in text  # table, DCE, DCR
    assert emu.count(operation="ServicePrincipals_Get", status=403) == 1


def test_absent_rule_takes_its_role_assignments_with_it(session, emu, azure, tmp_path):
    sc = scenario(QUICKSTART, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    text = QUICKSTART.read_text()
    start, end = text.index("rules:\n"), text.index("publishers:")
    gone = tmp_path / "gone.yaml"
    gone.write_text(text[:start] + "rules:\n  dcr-quickstart:\n    ensure: absent\n\n" + text[end:])
    plan = plan_scenario(session, scenario(gone, session))[2]
    assert sorted((c.action, c.kind) for c in plan.pending) == [("delete", "role_assignment"), ("delete", "rule")]
    apply_plan(session, plan, allow_destructive=True)
    deletes = [c.operation for c in emu.write_calls() if c.method == "DELETE"]
    assert deletes == ["RoleAssignments_Delete", "DataCollectionRules_Delete"]  # the assignment first
    dcr = ids.dcr_id(sc.subscription, sc.resource_group, "dcr-quickstart")
    assert assignments_on(azure, dcr) == []
    assert not plan_scenario(session, scenario(gone, session))[2].has_changes


def test_moving_region_recreates_the_dcr_with_a_new_immutable_id(session, emu, azure):
    sc = scenario(QUICKSTART, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    before = azure.monitor().data_collection_rules.get(sc.resource_group, "dcr-quickstart").immutable_id
    east = seed.WORKSPACE_ID.replace(seed.WORKSPACE_NAME, seed.OTHER_WORKSPACE_NAME)
    moved = scenario(QUICKSTART, session, WORKSPACE_ID=east, LOCATION=seed.OTHER_WORKSPACE_LOCATION)
    plan = plan_scenario(session, moved)[2]
    assert not plan.problems
    rule = next(c for c in plan.pending if c.kind == "rule")
    assert (rule.action, rule.cls) == ("replace", "identity-rotating")
    assert any("immutable ID" in e for e in rule.explanations)
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    apply_plan(session, plan, allow_destructive=True)
    after = azure.monitor().data_collection_rules.get(sc.resource_group, "dcr-quickstart")
    assert after.immutable_id != before and after.location == seed.OTHER_WORKSPACE_LOCATION
    assert not plan_scenario(session, moved)[2].has_changes
    dcr = ids.dcr_id(sc.subscription, sc.resource_group, "dcr-quickstart")
    assert len(assignments_on(azure, dcr)) == 1


def test_missing_resource_group_is_a_live_problem(session, emu):
    plan = plan_scenario(session, scenario(WITH_DCE, session, RESOURCE_GROUP="rg-missing"))[2]
    assert [p.code for p in plan.problems] == ["ResourceGroupNotFound"]
    assert "rg-missing" in plan.problems[0].message and "az group create" in plan.problems[0].fix
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    assert emu.write_calls() == []


def test_rerun_after_interrupted_table_operation_waits_for_it(emu):
    emu.set_lro_seconds(0.6)
    with connect("local", emulator=emu, polling_interval=0.1, retry_total=0) as s:
        sc = scenario(QUICKSTART, s)

        def interrupt_while_provisioning(event, change, detail):
            if event == "waiting":
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            apply_plan(s, plan_scenario(s, sc)[2], progress=interrupt_while_provisioning)
        plan = plan_scenario(s, sc)[2]
        table = next(c for c in plan.changes if c.kind == "table")
        assert table.action == "no-op" and table.live["properties"]["provisioningState"] == "InProgress"
        apply_plan(s, plan)  # the DCR waits for the table to report Succeeded first
        assert not plan_scenario(s, sc)[2].has_changes
    assert emu.count("PUT", "Tables_CreateOrUpdate") == 1


def test_deployer_without_graph_permission_is_told_to_give_object_id(emu, tmp_path):
    # Graph answers 403 Authorization_RequestDenied to an app without Application.Read.All (the emulator's
    # knob removes the deployer's); plan stops before any write and says how to do without Graph.
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ())
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        with pytest.raises(AzureError) as info:
            plan_scenario(s, scenario(QUICKSTART, s))
        text = info.value.format()
        assert "Microsoft Graph failed (HTTP 403, Authorization_RequestDenied)" in text
        assert "Insufficient privileges to complete the operation." in text
        assert f"publisher {seed.SENDER_APP_ID}" in text
        assert "Application.Read.All" in text and "`object_id:`" in text
        assert emu.write_calls() == []
        # Following the advice works: with object_id no Graph call is made.
        by_object = tmp_path / "quickstart.yaml"
        by_object.write_text(QUICKSTART.read_text().replace(
            "app_id: ${SENDER_APP_ID:-a2a2a2a2-0000-4000-8000-000000000002}", f"object_id: {seed.SENDER_OBJECT_ID}"))
        graph_calls = emu.count(operation="ServicePrincipals_GetByAppId")
        apply_plan(s, plan_scenario(s, scenario(by_object, s))[2])
        assert not plan_scenario(s, scenario(by_object, s))[2].has_changes
        assert emu.count(operation="ServicePrincipals_GetByAppId") == graph_calls


def test_unknown_app_id_is_a_publisher_not_found_problem(session, emu):
    # Graph 404 Request_ResourceNotFound: reported with the other live problems, nothing written.
    unknown_app = "a9a9a9a9-0000-4000-8000-000000000009"
    plan = plan_scenario(session, scenario(QUICKSTART, session, SENDER_APP_ID=unknown_app))[2]
    (problem,) = plan.problems
    assert problem.code == "PublisherNotFound" and unknown_app in problem.message
    assert "object_id" in problem.fix and problem.line is not None
    assert emu.count(operation="ServicePrincipals_GetByAppId", status=404) == 1
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    assert emu.write_calls() == []


def test_classic_table_is_a_live_problem_before_any_write(session, emu, azure):
    # A table left by the Data Collector API (tableSubType Classic) must be migrated before a DCR can write to
    # it (azure-contract.md §3: POST .../tables/{name}/migrate); plan says so with the other problems, at once.
    emu.create_classic_table("AppEvents_CL", {"TimeGenerated": "dateTime", "Message": "string", "Level_s": "string"})
    unknown_app = "a9a9a9a9-0000-4000-8000-000000000009"
    plan = plan_scenario(session, scenario(QUICKSTART, session, LOCATION="eastus", SENDER_APP_ID=unknown_app))[2]
    assert sorted(p.code for p in plan.problems) == ["ClassicTable", "LocationMismatch", "PublisherNotFound"]
    classic = next(p for p in plan.problems if p.code == "ClassicTable")
    assert "AppEvents_CL" in classic.message and "classic" in classic.message
    assert "/tables/AppEvents_CL/migrate" in classic.fix and "new table name" in classic.fix
    assert classic.line is not None and classic.file.endswith("quickstart.yaml")
    with pytest.raises(PlanError, match="3 problem"):
        apply_plan(session, plan, allow_destructive=True)
    assert emu.write_calls() == []
    # Doing what the problem says: migrate, then the plan proceeds (dropping the classic-only column is destructive).
    azure.loganalytics().tables.migrate(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME, "AppEvents_CL")
    sc = scenario(QUICKSTART, session)
    plan = plan_scenario(session, sc)[2]
    assert not plan.problems
    table = next(c for c in plan.pending if c.kind == "table")
    assert (table.action, table.cls) == ("update", "data-affecting")
    apply_plan(session, plan, allow_destructive=True)
    assert not plan_scenario(session, sc)[2].has_changes


def test_absent_endpoint_unbinds_its_rules_first(session, emu, azure, tmp_path):
    # A DCE marked `ensure: absent`: the DCR is re-sent without dataCollectionEndpointId (a change the plan
    # shows, data-affecting: senders on the DCE are refused), then the DCE is deleted.
    sc = scenario(WITH_DCE, session)
    apply_plan(session, plan_scenario(session, sc)[2])
    no_dce = tmp_path / "no-dce.yaml"
    no_dce.write_text(WITH_DCE.read_text().replace("  public_network_access: Enabled\n", "  ensure: absent\n"))
    plan = plan_scenario(session, scenario(no_dce, session))[2]
    pending = {(c.kind, c.action): c for c in plan.pending}
    assert set(pending) == {("rule", "update"), ("endpoint", "delete")}
    rule = pending[("rule", "update")]
    assert rule.cls == "data-affecting" and [d.op for d in rule.diffs] == ["remove"]
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    apply_plan(session, plan, allow_destructive=True)
    writes = [c.operation for c in emu.write_calls()][-2:]
    assert writes == ["DataCollectionRules_Create", "DataCollectionEndpoints_Delete"]  # unbind, then delete
    dcr = azure.monitor().data_collection_rules.get(sc.resource_group, "dcr-inventory")
    assert dcr.data_collection_endpoint_id is None and dcr.endpoints.logs_ingestion
    assert not plan_scenario(session, scenario(no_dce, session))[2].has_changes


def test_a_dependency_cycle_is_an_error_not_a_silent_success(session, emu):
    # A rule update that writes to a table being deleted: neither can go first. Validation normally stops this;
    # apply must not report success for steps it never started.
    from provision.plan import Change, Plan
    from provision.resources import Resource

    table_id = ids.table_id(seed.WORKSPACE_ID, "Gone_CL")
    rule_id = ids.dcr_id(seed.SUBSCRIPTION_ID, seed.RESOURCE_GROUP, "dcr-uses-gone")
    body = {"location": seed.LOCATION, "properties": {
        "destinations": {"logAnalytics": [{"workspaceResourceId": seed.WORKSPACE_ID, "name": "law"}]},
        "dataFlows": [{"streams": ["Custom-X"], "destinations": ["law"], "outputStream": "Custom-Gone_CL"}]}}
    table = Resource("table", "Gone_CL", table_id, {}, "2025-07-01", ensure="absent")
    rule = Resource("rule", "dcr-uses-gone", rule_id, body, "2023-03-11", depends_on=(table_id,))
    plan = Plan([Change("delete", "table", "Gone_CL", table_id, "data-affecting", resource=table, live={}),
                 Change("update", "rule", "dcr-uses-gone", rule_id, resource=rule, live={})])
    with pytest.raises(ApplyError, match="cannot order these changes"):
        apply_plan(session, plan, allow_destructive=True)
    assert emu.write_calls() == []


def test_a_table_busy_with_another_operation_is_waited_for_not_a_failure(emu, azure, tmp_path):
    # issue 12 item 12: a concurrent apply (or a lost response's operation) holds the table: 409 Conflict
    with connect("local", emulator=emu, polling_interval=0.1, retry_total=0) as s:
        apply_plan(s, plan_scenario(s, scenario(QUICKSTART, s))[2])
        wider = tmp_path / "wider.yaml"
        wider.write_text(QUICKSTART.read_text().replace("      Level: string\n", "      Level: string\n      Region: string\n", 1))
        sc = scenario(wider, s)
        plan = plan_scenario(s, sc)[2]
        assert [c.kind for c in plan.changes if c.action == "update"][:1] == ["table"]
        # another client starts an operation on the table (re-PUTting what is there), then our apply runs
        emu.set_lro_seconds(1.0)
        live = azure.loganalytics().tables.get(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME, "AppEvents_CL")
        same = {"properties": {"schema": {"name": "AppEvents_CL", "columns": [
            {"name": c.name, "type": c.type} for c in live.schema.columns]}}}
        azure.loganalytics().tables.begin_create_or_update(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME, "AppEvents_CL", same)
        waited: list[str] = []
        apply_plan(s, plan, progress=lambda event, change, detail=None: waited.append(str(detail or "")))
        assert any("409 Conflict" in w for w in waited), waited
        assert emu.count("PUT", "Tables_CreateOrUpdate", 409) >= 1
        assert not plan_scenario(s, sc)[2].has_changes
