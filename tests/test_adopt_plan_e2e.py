"""Fields set outside the tool, on the emulator with the official SDK: the plan shows them, apply removes them only
when the plan showed it, and a template's additions are planned and applied. Official SDK clients over HTTPS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import seed
from provision.errors import PlanError
from provision.live import raw_json
from provision.pipeline import plan_scenario
from provision.scenario import require_valid

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
RG = seed.RESOURCE_GROUP


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def quickstart(session):
    return require_valid(str(QUICKSTART), environ=session.environ)


def edit_outside(azure, name, change):
    """GET the DCR as wire JSON, change it, PUT it back: what the portal or az does."""
    rules = azure.monitor().data_collection_rules
    body = rules.get(RG, name, cls=raw_json)
    body = {k: v for k, v in body.items() if k in ("location", "kind", "tags", "identity", "properties")}
    change(body)
    rules.create(RG, name, json.dumps(body).encode())


def test_tags_and_a_destination_added_outside_are_shown_and_removed_only_when_allowed(session, emu, azure):
    sc = quickstart(session)
    apply_plan(session, plan_scenario(session, sc)[2])

    def add(body):
        body["tags"] = {"owner": "team-a"}
        body["properties"]["destinations"]["logAnalytics"].append(
            {"workspaceResourceId": seed.WORKSPACE_ID, "name": "archive"})
    edit_outside(azure, "dcr-quickstart", add)

    plan = plan_scenario(session, sc)[2]
    (change,) = plan.pending
    found = {d.path: (d.op, d.cls) for d in change.diffs}
    assert found == {"tags": ("remove", "safe"),
                     "properties.destinations.logAnalytics[archive]": ("remove", "data-affecting")}
    writes = len(emu.write_calls())
    with pytest.raises(PlanError) as info:
        apply_plan(session, plan)
    assert "archive" in info.value.format() and "--allow-destructive" in info.value.format()
    assert len(emu.write_calls()) == writes  # nothing removed behind the user's back

    apply_plan(session, plan, allow_destructive=True)
    assert not plan_scenario(session, sc)[2].has_changes
    live = azure.monitor().data_collection_rules.get(RG, "dcr-quickstart", cls=raw_json)
    assert [d["name"] for d in live["properties"]["destinations"]["logAnalytics"]] == ["workspace"]


def test_tags_added_by_a_template_are_planned_and_applied_on_an_existing_rule(session, azure, tmp_path):
    sc = quickstart(session)
    apply_plan(session, plan_scenario(session, sc)[2])
    templates = tmp_path / "templates"
    templates.mkdir()
    text = (REPO / "templates" / "dcr.json.j2").read_text()
    shutil.copy(REPO / "templates" / "dce.json.j2", templates / "dce.json.j2")
    (templates / "dcr.json.j2").write_text(text.replace('"kind": "Direct",', '"kind": "Direct",\n  "tags": {"managed-by": "provision"},', 1))

    plan = plan_scenario(session, sc, templates_dir=templates)[2]
    (change,) = plan.pending
    assert [(d.path, d.op, d.cls) for d in change.diffs] == [("tags.managed-by", "add", "safe")]
    apply_plan(session, plan)
    assert not plan_scenario(session, sc, templates_dir=templates)[2].has_changes
    live = azure.monitor().data_collection_rules.get(RG, "dcr-quickstart", cls=raw_json)
    assert live["tags"] == {"managed-by": "provision"}


def test_validate_warnings_reach_the_plan_in_every_format(session, tmp_path):
    from provision.planview import format_plan

    text = QUICKSTART.read_text().replace("        transform: source | extend TimeGenerated = Time, EventId = toguid(EventId) | project-away Time",
                                          "        transform: source | extend TimeGenerated = Time, EventId = toguid(EventId), Extra = 1 | "
                                          "project-away Time", 1)
    path = tmp_path / "quickstart.yaml"
    path.write_text(text)
    plan = plan_scenario(session, require_valid(str(path), environ=session.environ))[2]
    codes = {w.code for w in plan.warnings}
    assert codes, "the transform adds a column the table lacks: validate warns"
    assert codes == {"ExtraColumn"}
    code = "ExtraColumn"
    assert code in format_plan(plan, "text")
    assert "**Validation warnings:**" in format_plan(plan, "markdown") and code in format_plan(plan, "markdown")
    assert code in {w["code"] for w in json.loads(format_plan(plan, "json"))["warnings"]}
    assert plan.refusal(allow_destructive=False) is None  # warnings never block


def test_a_new_column_no_flow_fills_is_a_warning_before_any_write(session, tmp_path):
    sc = quickstart(session)
    apply_plan(session, plan_scenario(session, sc)[2])
    # the table gets a column; the declared stream and its transform do not carry it
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART.read_text().replace("      DurationMs: real\n      Properties:", "      DurationMs: real\n"
                                                   "      Region: string\n      Properties:", 1))
    plan = plan_scenario(session, require_valid(str(path), environ=session.environ))[2]
    assert [(p.code, p.severity) for p in plan.problems] == [("NewColumnNotFilled", "warning")]
    assert "'Region'" in plan.problems[0].message and plan.refusal(allow_destructive=False) is None
    # declared in the stream too: filled, no warning
    path.write_text(path.read_text().replace("        DurationMs: real\n        Properties: dynamic",
                                             "        DurationMs: real\n        Region: string\n        Properties: dynamic", 1))
    assert plan_scenario(session, require_valid(str(path), environ=session.environ))[2].problems == []
