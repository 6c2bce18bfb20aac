"""End to end, for every scenario in scenarios/: through the official SDK clients against the emulator.

validate -> plan (creates) -> apply -> plan (empty) -> change the scenario (add a
column, change a transform, add a publisher) -> plan shows exactly that -> apply
-> plan empty; outputs match what the emulator holds; the official
LogsIngestionClient, as the publisher identity, posts to the output URL and the
rows arrive in the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import seed
from provision.pipeline import collect_outputs, plan_scenario
from provision.plan import CREATE, NOOP, UPDATE
from provision.scenario import require_valid
from provision.sender import sample_rows

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def load(path, session):
    return require_valid(str(path), environ=session.environ)


def actions(plan):
    return sorted((c.kind, c.action) for c in plan.changes if c.is_change)


def changed_copy(path: Path, tmp_path: Path) -> tuple[Path, dict]:
    """The scenario with one column added, each explicit transform changed and one publisher added."""
    doc = yaml.safe_load(path.read_text())
    table_name, table = next(iter(doc["tables"].items()))
    column = "Note" if table_name.endswith("_CL") else "Note_CF"
    table["columns"][column] = "string"
    touched = {"table": table_name, "column": column, "rules": [], "transforms": []}
    for rule_name, rule in doc["rules"].items():
        for flow in rule["flows"]:
            if flow.get("table") != table_name:
                continue
            touched["rules"].append(rule_name)
            stream = flow.get("stream")
            if stream and stream in (rule.get("streams") or {}):
                rule["streams"][stream][column] = "string"  # declared streams carry the new field too
            if flow.get("transform"):
                flow["transform"] = flow["transform"].rstrip() + "\n| where isnotnull(TimeGenerated)"
                touched["transforms"].append(rule_name)
    doc.setdefault("publishers", []).append({"app_id": seed.NOBODY_APP_ID})
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out, touched


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_lifecycle(path, session, emu, azure, tmp_path):
    scenario = load(path, session)

    _, _, plan = plan_scenario(session, scenario)
    assert not plan.problems
    assert {c.action for c in plan.changes} <= {CREATE, UPDATE}  # Azure tables (Syslog) exist: update
    apply_plan(session, plan)
    _, _, again = plan_scenario(session, scenario)
    assert not again.has_changes, [c.to_dict() for c in again.pending]

    # outputs match what the emulator holds (read with the plain SDK client)
    outputs = collect_outputs(session, scenario)
    monitor = azure.monitor()
    for name, rule_out in outputs.rules.items():
        dcr = monitor.data_collection_rules.get(scenario.resource_group, name)
        assert rule_out["immutable_id"] == dcr.immutable_id
        if scenario.endpoint is not None:
            dce = monitor.data_collection_endpoints.get(scenario.resource_group, scenario.endpoint.name)
            assert rule_out["logs_ingestion_endpoint"] == dce.logs_ingestion.endpoint
        else:
            assert rule_out["logs_ingestion_endpoint"] == dcr.endpoints.logs_ingestion
    assert set(outputs.tables) == set(scenario.tables)

    # the sender posts through the output URL's endpoint and the rows arrive
    for name, rule in scenario.rules.items():
        stream = next(iter(rule.streams))
        flow = next(f for f in rule.flows if stream in f.streams)
        before = len(emu.rows(flow.table))
        rule_out = outputs.rules[name]
        url = rule_out["streams"][stream]["url"]
        assert url.startswith(f"{rule_out['logs_ingestion_endpoint']}/dataCollectionRules/{rule_out['immutable_id']}/")
        client = azure.ingestion(rule_out["logs_ingestion_endpoint"], who="sender")
        client.upload(rule_id=rule_out["immutable_id"], stream_name=stream, logs=sample_rows(rule.streams[stream], 3))
        assert len(emu.rows(flow.table)) == before + 3

    # change the scenario: the plan shows exactly that
    changed, touched = changed_copy(path, tmp_path)
    scenario2 = load(changed, session)
    _, _, plan2 = plan_scenario(session, scenario2)
    assert not plan2.problems
    pending = {(c.kind, c.name): c for c in plan2.pending}
    new_assignments = [c for c in plan2.pending if c.kind == "role_assignment"]
    assert len(new_assignments) == len(scenario2.rules) and all(c.action == CREATE for c in new_assignments)
    table_change = pending.pop(("table", touched["table"]))
    assert (table_change.action, [d.path for d in table_change.diffs]) == (
        UPDATE, [f"properties.schema.columns[{touched['column']}]"])
    for rule_name in touched["rules"]:
        rule_change = pending.pop(("rule", rule_name))
        paths = [d.path for d in rule_change.diffs]
        assert any(p.endswith(f"columns[{touched['column']}]") for p in paths), paths
        assert ("properties.dataFlows[0].transformKql" in paths) == (rule_name in touched["transforms"])
        assert all(p.startswith("properties.streamDeclarations") or p.endswith("transformKql") for p in paths)
    assert {k for k in pending if k[0] != "role_assignment"} == set()
    apply_plan(session, plan2)
    _, _, plan3 = plan_scenario(session, scenario2)
    assert not plan3.has_changes, [c.to_dict() for c in plan3.pending]
    assert all(c.action == NOOP for c in plan3.changes)
