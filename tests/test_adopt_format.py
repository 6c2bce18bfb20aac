"""The scenario format covers what real rules use: tags, kind none (through a DCE), named and several Log Analytics
destinations, a managed identity, publishers per rule and group publishers. Validate, render, plan, apply and the
emulator agree (official SDK clients over HTTPS for the end-to-end parts)."""

from __future__ import annotations

import textwrap

import pytest

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import seed
from provision.live import raw_json
from provision.pipeline import collect_outputs, plan_scenario
from provision.render import render_resources
from provision.scenario import require_valid, validate_scenario

WS = seed.WORKSPACE_ID
EAST = WS.replace(seed.WORKSPACE_NAME, seed.OTHER_WORKSPACE_NAME)
GROUP = "c4c4c4c4-0000-4000-8000-000000000004"

ADOPTED = f"""
name: adopted
location: westeurope
workspace: {WS}
resource_group: rg-local
tables:
  Orders_CL:
    columns: {{TimeGenerated: datetime, OrderId: string}}
  Audit_CL:
    columns: {{TimeGenerated: datetime, Action: string}}
endpoint:
  name: dce-adopted
  tags: {{env: prod}}
rules:
  dcr-adopted:
    kind: none
    tags: {{owner: team-a, cost-center: 42}}
    identity: SystemAssigned
    destinations:
      clv2ws1: {WS}
      audit: {{workspace: {WS}}}
    flows:
      - table: Orders_CL
        destinations: [clv2ws1]
      - table: Audit_CL
        destinations: [audit]
publishers:
  - object_id: {seed.SENDER_OBJECT_ID}
    rules: [dcr-adopted]
"""


def write(tmp_path, text, name="adopted.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def codes(path):
    return [d.code for d in validate_scenario(str(path), environ={})[1] if d.is_error]


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def test_render_carries_tags_kind_destinations_identity_and_publisher_rules(tmp_path):
    sc = require_valid(str(write(tmp_path, ADOPTED)), environ={})
    resources = {r.kind.value: r for r in render_resources(sc)}
    rule = resources["rule"].body
    assert "kind" not in rule and rule["tags"] == {"owner": "team-a", "cost-center": "42"}
    assert rule["identity"] == {"type": "SystemAssigned"}
    assert [d["name"] for d in rule["properties"]["destinations"]["logAnalytics"]] == ["clv2ws1", "audit"]
    assert [f["destinations"] for f in rule["properties"]["dataFlows"]] == [["clv2ws1"], ["audit"]]
    assert rule["properties"]["dataCollectionEndpointId"].endswith("/dce-adopted")
    assert resources["endpoint"].body["tags"] == {"env": "prod"}
    assert resources["role_assignment"].body["properties"]["principalType"] == "ServicePrincipal"


def test_group_publishers_are_assigned_as_groups_and_rules_limit_where(tmp_path):
    head = ADOPTED[:ADOPTED.index("publishers:")]
    text = head + "  dcr-other:\n    flows: [{table: Orders_CL}]\n" + textwrap.dedent(f"""\
        publishers:
          - group_id: {GROUP}
          - object_id: {seed.SENDER_OBJECT_ID}
            rules: [dcr-other]
        """)
    sc = require_valid(str(write(tmp_path, text)), environ={})
    assignments = [r for r in render_resources(sc) if r.kind == "role_assignment"]
    pairs = sorted((r.rule, r.body["properties"]["principalType"], r.body["properties"]["principalId"]) for r in assignments)
    assert pairs == [("dcr-adopted", "Group", GROUP), ("dcr-other", "Group", GROUP),
                     ("dcr-other", "ServicePrincipal", seed.SENDER_OBJECT_ID)]


@pytest.mark.parametrize("change,code", [
    (("endpoint:\n  name: dce-adopted\n  tags: {env: prod}\n", ""), "RuleNeedsEndpoint"),
    (("destinations: [audit]", "destinations: [nowhere]"), "UnknownDestination"),
    (("        destinations: [clv2ws1]\n", ""), "FlowDestination"),
    (("rules: [dcr-adopted]", "rules: [dcr-missing]"), "PublisherRuleUnknown"),
    (("kind: none", "kind: Linux"), "RuleKind"),
    (("identity: SystemAssigned", "identity: {type: UserAssigned}"), "IdentityType"),
    (("tags: {env: prod}", "tags: {'a/b': x}"), "TagName"),
    (("  Audit_CL:\n", f"  Audit_CL:\n    workspace: {EAST}\n"), "FlowTableWorkspace"),
    ((f"  - object_id: {seed.SENDER_OBJECT_ID}", f"  - object_id: {seed.SENDER_OBJECT_ID}\n    group_id: {GROUP}"),
     "PublisherIdentity"),
])
def test_bad_feature_input_is_a_clear_error(tmp_path, change, code):
    text = ADOPTED.replace(*change)
    assert text != ADOPTED
    assert code in codes(write(tmp_path, text))


def test_the_adopted_format_is_valid(tmp_path):
    assert codes(write(tmp_path, ADOPTED)) == []


def test_apply_of_the_adopted_format_then_plan_is_empty(session, azure, tmp_path):
    sc = require_valid(str(write(tmp_path, ADOPTED)), environ=session.environ)
    plan = plan_scenario(session, sc)[2]
    assert not plan.problems
    apply_plan(session, plan)
    assert not plan_scenario(session, sc)[2].has_changes
    live = azure.monitor().data_collection_rules.get(seed.RESOURCE_GROUP, "dcr-adopted", cls=raw_json)
    assert "kind" not in live and "endpoints" not in live["properties"]
    assert live["identity"]["type"] == "SystemAssigned" and live["identity"]["principalId"]
    assert live["tags"] == {"owner": "team-a", "cost-center": "42"}
    dce = azure.monitor().data_collection_endpoints.get(seed.RESOURCE_GROUP, "dce-adopted", cls=raw_json)
    assert dce["tags"] == {"env": "prod"}
    # no endpoint of its own: senders are told the DCE's
    outputs = collect_outputs(session, sc)
    assert outputs.rules["dcr-adopted"]["logs_ingestion_endpoint"] == dce["properties"]["logsIngestion"]["endpoint"]


def test_a_destination_workspace_in_another_region_is_a_live_problem(session, tmp_path):
    text = ADOPTED.replace(f"      audit: {{workspace: {WS}}}", f"      audit: {{workspace: {EAST}}}")
    text = text.replace("  Audit_CL:\n", f"  Audit_CL:\n    workspace: {EAST}\n")
    sc = require_valid(str(write(tmp_path, text)), environ=session.environ)
    problems = plan_scenario(session, sc)[2].problems
    assert [p.code for p in problems] == ["LocationMismatch"]
    assert "audit" in problems[0].message and seed.OTHER_WORKSPACE_NAME in problems[0].message


def test_arm_template_puts_each_table_in_its_own_workspace(tmp_path):
    from provision.render import render_arm

    other = WS.replace("/resourceGroups/rg-local/", "/resourceGroups/rg-audit/").replace(seed.WORKSPACE_NAME, "law-audit")
    text = ADOPTED.replace("  Audit_CL:\n", f"  Audit_CL:\n    workspace: {other}\n").replace(
        f"      audit: {{workspace: {WS}}}", f"      audit: {{workspace: {other}}}")
    template = render_arm(require_valid(str(write(tmp_path, text)), environ={}))
    names = [r["name"] for r in template["resources"] if r["type"].endswith("/tables")]
    nested = [r for r in template["resources"] if r["type"] == "Microsoft.Resources/deployments"]
    assert names == [f"{seed.WORKSPACE_NAME}/Orders_CL"]
    assert [(n["resourceGroup"], [t["name"] for t in n["properties"]["template"]["resources"]]) for n in nested] == [
        ("rg-audit", ["law-audit/Audit_CL"])]


def test_import_of_the_adopted_format_gives_a_scenario_that_plans_empty(session, tmp_path):
    from provision.importer import import_live

    sc = require_valid(str(write(tmp_path, ADOPTED)), environ=session.environ)
    apply_plan(session, plan_scenario(session, sc)[2])
    imported = import_live(session, resource_group=seed.RESOURCE_GROUP)
    assert imported.notes == [] and imported.rules == ["dcr-adopted"]
    for text in ("kind: none", "identity: SystemAssigned", "clv2ws1:", "audit:", "destinations: [audit]", "env: prod"):
        assert text in imported.text
    path = write(tmp_path, imported.text, "imported.yaml")
    assert not plan_scenario(session, require_valid(str(path), environ=session.environ))[2].has_changes


def test_one_stream_to_two_workspaces_is_an_error(tmp_path):
    text = ADOPTED.replace(f"      audit: {{workspace: {WS}}}", f"      audit: {{workspace: {WS}}}\n      east: {EAST}").replace(
        "        destinations: [audit]\n", "        destinations: [audit]\n      - table: Orders_CL\n        destinations: [east]\n")
    assert "StreamManyWorkspaces" in codes(write(tmp_path, text))
    assert "StreamManyWorkspaces" not in codes(write(tmp_path, ADOPTED))
