"""The plan sees every field: the whole desired body against the whole live body minus read-only fields. Pure."""

from __future__ import annotations

import copy

from provision.plan import DATA, IDENTITY, NOOP, REPLACE, SAFE, UPDATE, LiveState, build_plan, writable
from tests.test_plan import WORKSPACE, WS, dcr_body, live_dcr, res

OTHER_WS = WS.replace("law-local", "law-archive")


def plan_of(desired, live, kind="rule", name="dcr-orders"):
    r = res(kind, name, desired)
    return build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): live})).changes[0]


def test_tags_and_a_second_destination_set_outside_are_shown_with_their_class():
    live = live_dcr()
    live["tags"] = {"owner": "team-a"}
    live["properties"]["destinations"]["logAnalytics"].append(
        {"workspaceResourceId": OTHER_WS, "name": "archive", "workspaceId": "4444"})
    live["properties"]["dataFlows"][0]["destinations"].append("archive")
    change = plan_of(dcr_body(), live)
    found = {d.path: (d.op, d.cls) for d in change.diffs}
    assert found["tags"] == ("remove", SAFE)
    assert found["properties.destinations.logAnalytics[archive]"] == ("remove", DATA)
    assert found["properties.dataFlows[0].destinations"] == ("change", SAFE)
    assert (change.action, change.cls) == (UPDATE, DATA)
    # the removed destination is shown whole, not cut off inside a list
    removed = next(d for d in change.diffs if d.path == "properties.destinations.logAnalytics[archive]")
    assert removed.before == {"workspaceResourceId": OTHER_WS, "name": "archive"}
    assert any("tags" in e for e in (d.explanation for d in change.diffs))


def test_template_added_fields_are_planned_on_an_existing_rule():
    desired = dcr_body()
    desired["tags"] = {"cost-center": "42"}
    desired["properties"]["description"] = "from a template"
    change = plan_of(desired, live_dcr())
    assert [(d.path, d.op) for d in change.diffs] == [("tags", "add"), ("properties.description", "add")]
    assert (change.action, change.cls) == (UPDATE, SAFE)


def test_read_only_fields_are_not_changes():
    live = live_dcr()
    live["systemData"] = {"createdBy": "x"}
    live["properties"].update(metadata={"provisionedBy": "y"}, ingestionQuotas={"logs": {}})
    live["identity"] = {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}
    desired = dcr_body()
    desired["identity"] = {"type": "SystemAssigned"}
    assert plan_of(desired, live).action == NOOP
    assert writable("rule", live)["identity"] == {"type": "SystemAssigned"}


def test_removing_an_identity_or_agent_data_sources_is_data_affecting():
    live = live_dcr()
    live["identity"] = {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}
    live["properties"]["dataSources"] = {"syslog": [{"name": "s", "streams": ["Microsoft-Syslog"]}]}
    change = plan_of(dcr_body(), live)
    assert {d.path: d.cls for d in change.diffs} == {"identity": DATA, "properties.dataSources": DATA}


def test_a_rule_without_kind_cannot_replace_a_direct_rule_in_place():
    desired = dcr_body()
    del desired["kind"]
    change = plan_of(desired, live_dcr())
    assert (change.action, change.cls) == (REPLACE, IDENTITY)
    assert [d.path for d in change.diffs] == ["kind"]


def test_flow_fields_set_outside_are_shown_and_no_transform_is_source():
    live = live_dcr(transform="source")
    del live["properties"]["dataFlows"][0]["transformKql"]
    live["properties"]["dataFlows"][0]["captureOverflow"] = True
    change = plan_of(dcr_body(transform="source"), live)
    assert [(d.path, d.op) for d in change.diffs] == [("properties.dataFlows[0].captureOverflow", "remove")]


def test_endpoint_tags_and_network_acls_compare_whole():
    desired = {"location": "westeurope", "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}}}
    live = copy.deepcopy(desired)
    live.update(id="x", name="dce", etag="e", tags={"env": "prod"})
    live["properties"].update(immutableId="dce-1", logsIngestion={"endpoint": "https://x"},
                              configurationAccess={"endpoint": "https://y"}, provisioningState="Succeeded")
    change = plan_of(desired, live, kind="endpoint", name="dce")
    assert [(d.path, d.op, d.cls) for d in change.diffs] == [("tags", "remove", SAFE)]
    desired["tags"] = {"env": "prod"}
    assert plan_of(desired, live, kind="endpoint", name="dce").action == NOOP


def test_turning_public_access_off_on_a_dce_is_data_affecting():
    def dce(access):
        return {"location": "westeurope", "properties": {"networkAcls": {"publicNetworkAccess": access}}}

    change = plan_of(dce("Disabled"), dce("Enabled"), kind="endpoint", name="dce")
    (diff,) = change.diffs
    assert (diff.cls, change.cls) == (DATA, DATA) and "private link" in diff.explanation
    assert plan_of(dce("Enabled"), dce("Disabled"), kind="endpoint", name="dce").cls == SAFE


def test_a_flow_to_an_azure_table_the_workspace_lacks_is_a_live_problem():
    desired = dcr_body()
    desired["properties"]["dataFlows"][0]["outputStream"] = "Microsoft-CommonSecurityLog"
    r = res("rule", "dcr-orders", desired)
    table_id = f"{WS}/tables/CommonSecurityLog".lower()
    missing = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): None, table_id: None}))
    assert [p.code for p in missing.problems] == ["AzureTableMissing"]
    assert "Sentinel" in missing.problems[0].fix and missing.refusal(allow_destructive=True) is not None
    present = build_plan([r], LiveState(WS, WORKSPACE, {r.id.lower(): None, table_id: {"name": "CommonSecurityLog"}}))
    assert present.problems == []


def test_a_user_assigned_identity_id_in_another_case_is_the_same():
    uai = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a"
    desired = dcr_body()
    desired["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}
    live = live_dcr()
    live["identity"] = {"type": "userassigned", "userAssignedIdentities": {uai.lower(): {"principalId": "p", "clientId": "c"}}}
    assert plan_of(desired, live).action == NOOP
    other = copy.deepcopy(live)
    other["identity"]["userAssignedIdentities"] = {uai.replace("id-a", "id-b"): {"principalId": "p", "clientId": "c"}}
    assert plan_of(desired, other).action == UPDATE
