"""Unit tests of the pure plan: tables of (desired body, live body) -> action, class, diff paths. No network."""

from __future__ import annotations

import copy

import pytest

from provision import ids
from provision.plan import (
    CREATE,
    DATA,
    DELETE,
    IDENTITY,
    IMPOSSIBLE,
    NOOP,
    REPLACE,
    SAFE,
    UPDATE,
    LiveState,
    build_plan,
)
from provision.resources import Resource

SUB, RG = "11111111-1111-4111-8111-111111111111", "rg-local"
WS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/law-local"
WORKSPACE = {"id": WS, "location": "westeurope", "properties": {"customerId": "3333"}}


def res(kind, name, body, rid=None, **extra):
    rid = rid or {
        "table": ids.table_id(WS, name),
        "rule": ids.dcr_id(SUB, RG, name),
        "endpoint": ids.dce_id(SUB, RG, name),
    }.get(kind, f"/x/{name}")
    fields = {"kind": kind, "name": name, "id": rid, "body": body, "api_version": "x", "depends_on": ()}
    fields.update(extra)
    return Resource(**fields)


def table_body(columns, plan="Analytics", retention=None, total=None):
    props = {"plan": plan, "schema": {"name": "Orders_CL", "columns": [{"name": n, "type": t} for n, t in columns]}}
    if retention is not None:
        props["retentionInDays"] = retention
    if total is not None:
        props["totalRetentionInDays"] = total
    return {"properties": props}


def live_table(columns, plan="Analytics", retention=30, total=30, sub_type="DataCollectionRuleBased"):
    """What the service answers: our fields plus read-only ones."""
    body = table_body(columns, plan, retention, total)
    body["id"] = ids.table_id(WS, "Orders_CL").replace("resourceGroups", "resourcegroups")
    body["name"] = "Orders_CL"
    props = body["properties"]
    props.update(provisioningState="Succeeded", archiveRetentionInDays=0, retentionInDaysAsDefault=False)
    props["schema"].update(tableSubType=sub_type, tableType="CustomLog",
                           standardColumns=[{"name": "TenantId", "type": "guid"}], solutions=["LogManagement"])
    for col in props["schema"]["columns"]:
        col.update(isHidden=False, isDefaultDisplay=False)
    return body


BASE_COLS = [("TimeGenerated", "dateTime"), ("OrderId", "guid"), ("Amount", "real")]

TABLE_CASES = [
    # id, desired, live, action, class, diff paths
    ("same", table_body(BASE_COLS, retention=30), live_table(BASE_COLS), NOOP, SAFE, []),
    ("type case differs only", table_body([("TimeGenerated", "datetime")] + BASE_COLS[1:]), live_table(BASE_COLS),
     NOOP, SAFE, []),
    ("column order differs", table_body(list(reversed(BASE_COLS))), live_table(BASE_COLS), NOOP, SAFE, []),
    ("add column", table_body(BASE_COLS + [("Note", "string")]), live_table(BASE_COLS), UPDATE, SAFE,
     ["properties.schema.columns[Note]"]),
    ("drop column", table_body(BASE_COLS[:2]), live_table(BASE_COLS), UPDATE, DATA,
     ["properties.schema.columns[Amount]"]),
    ("column type change", table_body(BASE_COLS[:2] + [("Amount", "long")]), live_table(BASE_COLS), UPDATE,
     IMPOSSIBLE, ["properties.schema.columns[Amount].type"]),
    ("retention longer", table_body(BASE_COLS, retention=60), live_table(BASE_COLS), UPDATE, SAFE,
     ["properties.retentionInDays"]),
    ("retention shorter", table_body(BASE_COLS, retention=10), live_table(BASE_COLS), UPDATE, DATA,
     ["properties.retentionInDays"]),
    ("analytics to basic", table_body(BASE_COLS, plan="Basic"), live_table(BASE_COLS), UPDATE, SAFE,
     ["properties.plan"]),
    ("to auxiliary", table_body(BASE_COLS, plan="Auxiliary"), live_table(BASE_COLS), UPDATE, IMPOSSIBLE,
     ["properties.plan"]),
    ("plan case only", table_body(BASE_COLS, plan="analytics"), live_table(BASE_COLS), NOOP, SAFE, []),
]


@pytest.mark.parametrize("desired,live,action,cls,paths", [c[1:] for c in TABLE_CASES], ids=[c[0] for c in TABLE_CASES])
def test_table_cases(desired, live, action, cls, paths):
    r = res("table", "Orders_CL", desired)
    plan = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live}))
    (change,) = plan.changes
    assert (change.action, change.cls) == (action, cls)
    assert [d.path for d in change.diffs] == paths


def test_table_timegenerated_listed_as_standard_column_is_not_a_change():
    live = live_table(BASE_COLS[1:])
    live["properties"]["schema"]["standardColumns"].append({"name": "TimeGenerated", "type": "datetime"})
    r = res("table", "Orders_CL", table_body(BASE_COLS))
    assert build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live})).changes[0].action == NOOP


def test_azure_table_builtin_columns_are_never_dropped():
    live = {"properties": {"schema": {"name": "Syslog", "columns": [{"name": "Computer", "type": "string"},
                                                                    {"name": "Old_CF", "type": "string"}]}}}
    desired = {"properties": {"schema": {"name": "Syslog", "columns": [{"name": "New_CF", "type": "string"}]}}}
    r = res("table", "Syslog", desired)
    change = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live})).changes[0]
    assert {(d.path, d.cls) for d in change.diffs} == {
        ("properties.schema.columns[New_CF]", SAFE), ("properties.schema.columns[Old_CF]", DATA)}


def dcr_body(columns=(("Time", "datetime"), ("Amount", "real")), transform="source | extend TimeGenerated = Time",
             location="westeurope", kind="Direct", streams=None, dce=None):
    props = {
        "streamDeclarations": streams or {"Custom-Orders": {"columns": [{"name": n, "type": t} for n, t in columns]}},
        "destinations": {"logAnalytics": [{"workspaceResourceId": WS, "name": "law"}]},
        "dataFlows": [{"streams": ["Custom-Orders"], "destinations": ["law"], "transformKql": transform,
                       "outputStream": "Custom-Orders_CL"}],
    }
    if dce:
        props["dataCollectionEndpointId"] = dce
    return {"location": location, "kind": kind, "properties": props}


def live_dcr(**kw):
    body = copy.deepcopy(dcr_body(**kw))
    body.update(id=ids.dcr_id(SUB, RG, "dcr-orders"), name="dcr-orders", etag='"1"',
                type="Microsoft.Insights/dataCollectionRules")
    props = body["properties"]
    props.update(immutableId="dcr-" + "a" * 32, provisioningState="Succeeded",
                 endpoints={"logsIngestion": "https://x.ingest"})
    props["destinations"]["logAnalytics"][0]["workspaceId"] = "3333"
    props["destinations"]["logAnalytics"][0]["workspaceResourceId"] = WS.lower()
    return body


RULE_CASES = [
    ("same (ids in other case, read-only fields)", dcr_body(), live_dcr(), NOOP, SAFE, []),
    ("datetime spelled dateTime live", dcr_body(), live_dcr(columns=(("Time", "dateTime"), ("Amount", "real"))),
     NOOP, SAFE, []),
    ("transform changed", dcr_body(transform="source | extend TimeGenerated = now()"), live_dcr(), UPDATE, SAFE,
     ["properties.dataFlows[0].transformKql"]),
    ("stream column added", dcr_body(columns=(("Time", "datetime"), ("Amount", "real"), ("Note", "string"))),
     live_dcr(), UPDATE, SAFE, ["properties.streamDeclarations[Custom-Orders].columns[Note]"]),
    ("stream column removed", dcr_body(columns=(("Time", "datetime"),)), live_dcr(), UPDATE, DATA,
     ["properties.streamDeclarations[Custom-Orders].columns[Amount]"]),
    ("location changed", dcr_body(location="eastus"), live_dcr(), REPLACE, IDENTITY, ["location"]),
    ("location spelled differently", dcr_body(location="West Europe"), live_dcr(), NOOP, SAFE, []),
    ("kind changed", dcr_body(kind="Linux"), live_dcr(), REPLACE, IDENTITY, ["kind"]),
    ("endpoint added", dcr_body(dce=ids.dce_id(SUB, RG, "dce")), live_dcr(), UPDATE, SAFE,
     ["properties.dataCollectionEndpointId"]),
    ("endpoint removed (DCE ensure: absent)", dcr_body(), live_dcr(dce=ids.dce_id(SUB, RG, "dce")), UPDATE, DATA,
     ["properties.dataCollectionEndpointId"]),
]


@pytest.mark.parametrize("desired,live,action,cls,paths", [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_rule_cases(desired, live, action, cls, paths):
    r = res("rule", "dcr-orders", desired)
    change = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live})).changes[0]
    assert (change.action, change.cls) == (action, cls)
    assert [d.path for d in change.diffs] == paths
    if cls == IDENTITY:
        assert any("immutable ID" in e for e in change.explanations)


def test_missing_resources_are_creates_and_absent_ones_deletes():
    table = res("table", "Orders_CL", table_body(BASE_COLS))
    rule = res("rule", "dcr-orders", dcr_body())
    gone = res("table", "Old_CL", None, ensure="absent")
    gone_missing = res("table", "Never_CL", None, ensure="absent")
    live = LiveState(WS, WORKSPACE, {table.id.lower(): None, rule.id.lower(): None,
                                     gone.id.lower(): live_table(BASE_COLS), gone_missing.id.lower(): None})
    plan = build_plan([table, rule, gone, gone_missing], live)
    assert [(c.name, c.action) for c in plan.changes] == [
        ("Orders_CL", CREATE), ("dcr-orders", CREATE), ("Old_CL", DELETE), ("Never_CL", NOOP)]
    assert plan.changes[2].cls == DATA and plan.changes[2].needs_destructive
    assert plan.summary() == {"create": 2, "update": 0, "replace": 0, "delete": 1, "no-op": 1}


def test_role_assignment_in_tenant_form_is_no_op():
    scope = ids.dcr_id(SUB, RG, "dcr-orders")
    name = ids.role_assignment_name(scope, "b2b2")
    body = {"properties": {"roleDefinitionId": ids.role_definition_id(SUB), "principalId": "B2B2",
                           "principalType": "ServicePrincipal"}}
    live = {"properties": {"roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/"
                                               f"{ids.MONITORING_METRICS_PUBLISHER_ROLE_ID}",
                           "principalId": "b2b2", "principalType": "ServicePrincipal", "scope": scope}}
    r = res("role_assignment", name, body, rid=ids.role_assignment_id(scope, name))
    assert build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live})).changes[0].action == NOOP


def test_live_only_problems_reported_together():
    class Pub:
        app_id, line = "a9a9", 12

    rule = res("rule", "dcr-orders", dcr_body(location="eastus"))
    table = res("table", "Orders_CL", table_body(BASE_COLS))
    live = LiveState(WS, WORKSPACE, {rule.id.lower(): None, table.id.lower(): live_table(BASE_COLS, sub_type="Classic")},
                     missing_publishers=[Pub()])
    codes = [p.code for p in build_plan([table, rule], live).problems]
    assert sorted(codes) == ["ClassicTable", "LocationMismatch", "PublisherNotFound"]


def test_missing_workspace_is_a_problem():
    assert [p.code for p in build_plan([], LiveState(WS, None)).problems] == ["WorkspaceNotFound"]


def test_unresolved_role_assignment_is_not_planned():
    r = res("role_assignment", "x", {"properties": {}}, unresolved=True)
    assert build_plan([r], LiveState(WS, WORKSPACE)).changes == []


def test_changed_destination_names_the_field_and_shows_the_difference():
    from provision.planview import format_markdown, format_text

    east = WS.replace("law-local", "law-local-east")
    desired = dcr_body()
    desired["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"] = east
    r = res("rule", "dcr-orders", desired)
    plan = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live_dcr()}))
    (diff,) = plan.changes[0].diffs
    assert diff.path == "properties.destinations.logAnalytics[0].workspaceResourceId"
    assert (diff.before, diff.after) == (WS.lower(), east)
    # ARM ids are long: the shared prefix is elided so that the part that differs stays visible
    line = next(ln for ln in format_text(plan).splitlines() if "workspaceResourceId" in ln)
    assert line.strip().endswith('".../law-local" -> ".../law-local-east"'), line
    assert '`".../law-local"` → `".../law-local-east"`' in format_markdown(plan)


def test_short_values_are_shown_whole():
    from provision.planview import _change

    assert _change("Analytics", "Basic") == ('"Analytics"', '"Basic"')
    assert _change(30, 90) == ("30", "90")
    long_a, long_b = "x" * 200, "y" * 200
    before, after = _change(long_a, long_b)  # nothing in common: both shortened from the start
    assert before.startswith('"xxx') and before.endswith("...") and len(before) == 120 and after.startswith('"yyy')
