"""Seeded chaos runs of apply (issue 12): with 429s, 5xx, connection resets and failed table operations
firing at random (seeded, so each run repeats), apply either finishes or stops with a clear ApplyError /
AzureError, and re-runs converge: an empty plan, one role assignment per publisher and rule, every column.
CI runs 6 seeds; a longer run: PROVISION_CHAOS_SEEDS=60 python -m pytest -q tests/test_chaos_apply.py"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import seed as seeded
from provision.errors import ApplyError, AzureError
from provision.pipeline import plan_scenario
from provision.scenario import require_valid

REPO = Path(__file__).resolve().parent.parent
WITH_DCE = REPO / "scenarios" / "with-dce.yaml"
SEEDS = range(int(os.environ.get("PROVISION_CHAOS_SEEDS", "6")))
MAX_RUNS = 8  # re-runs a user would make before giving up


def chaos(emu, run_seed: int) -> None:
    emu.faults.clear()
    emu.inject_fault("429", match="arm", times=None, rate=0.08, retry_after=0)
    emu.inject_fault("503", match="arm", times=None, rate=0.05)
    emu.inject_fault("reset", match="^(PUT|DELETE) ", times=None, rate=0.12)
    emu.inject_fault("lost-response", match="^(PUT|DELETE) ", times=None, rate=0.08)  # done, but the client never hears
    emu.inject_fault("lro-failed", match="Tables", times=None, rate=0.3)
    emu.faults.reseed(run_seed)


@pytest.mark.parametrize("run_seed", SEEDS)
def test_apply_under_seeded_faults_converges(emu, azure, run_seed):
    emu.set_lro_seconds(0.0)
    chaos(emu, run_seed)
    with connect("local", emulator=emu, polling_interval=0, retry_total=2, retry_backoff_factor=0.01) as s:
        sc = require_valid(str(WITH_DCE), environ=s.environ)
        runs = 0
        for runs in range(1, MAX_RUNS + 1):
            try:
                apply_plan(s, plan_scenario(s, sc)[2])
                break
            except (ApplyError, AzureError) as error:  # a clear error, never a traceback; the user re-runs
                assert error.format()
        emu.faults.clear()
        if runs == MAX_RUNS:  # still failing under faults: the next run without them must converge
            apply_plan(s, plan_scenario(s, sc)[2])
        assert not plan_scenario(s, sc)[2].has_changes
    for rule in sc.rules.values():
        dcr = f"/subscriptions/{sc.subscription}/resourceGroups/{sc.resource_group}/providers/Microsoft.Insights/dataCollectionRules/{rule.name}"
        assigned = [a for a in azure.authorization().role_assignments.list_for_scope(dcr) if a.scope.lower() == dcr.lower()]
        assert len(assigned) == len(sc.publishers)  # no duplicates however often a PUT was retried
    for table in sc.tables.values():
        if not table.is_custom:
            continue
        live = azure.loganalytics().tables.get(seeded.RESOURCE_GROUP, seeded.WORKSPACE_NAME, table.name)
        assert {c.name for c in table.columns} <= {c.name for c in live.schema.columns}  # no lost columns
