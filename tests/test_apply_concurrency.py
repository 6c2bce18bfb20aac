"""apply's concurrency (issue 13): the default bound is ARM's write burst (capped), 429s narrow it and their
Retry-After is honoured, a wait for a provisioning table holds no slot, and calls the answers make redundant are
not made (the verification GET after a PUT, the status poll before a 202's Retry-After). Emulator over HTTPS."""

from __future__ import annotations

import time
import typing

import pytest

from provision import azure as azure_module
from provision.apply import apply_plan
from provision.azure import Throttle, connect
from provision.cli import options
from provision.emulator import seed
from provision.pipeline import plan_scenario
from provision.scenario import require_valid
from tests.test_live_lists import scenario_text


def load(session, tmp_path, tables: int, rules: int, name: str = "wide.yaml"):
    path = tmp_path / name
    path.write_text(scenario_text(tables, rules))
    return require_valid(str(path), environ=session.environ)


def test_cli_bound_and_default_are_arms_burst():
    option = typing.get_args(options.Parallelism)[1]
    assert option.max == azure_module.ARM_WRITE_BURST == 200
    assert azure_module.DEFAULT_PARALLELISM == min(200, azure_module.MAX_PARALLELISM) == 128
    assert f"default {azure_module.DEFAULT_PARALLELISM}" in option.help


def test_throttle_halves_once_per_retry_after_and_grows_back():
    throttle = Throttle()
    assert throttle.window(100) == 100 and throttle.wait_seconds() == 0
    throttle.observe(429, 2.0)
    throttle.observe(429, 2.0)  # the same burst: one cut
    assert throttle.window(100) == 50 and 1.5 < throttle.wait_seconds() <= 2.0
    assert throttle.throttled == 2
    for _ in range(110):
        throttle.observe(200, None)
    assert throttle.window(100) == 52  # about one more request per window of successes
    for _ in range(10_000):
        throttle.observe(201, None)
    assert throttle.window(100) == 100  # recovered: the caller's bound again
    throttle.observe(500, None)
    assert throttle.window(100) == 100  # only 429 is throttling


def test_429s_narrow_the_window_and_apply_converges(emu, tmp_path):
    emu.inject_fault("429", match="Tables_CreateOrUpdate", times=3, retry_after=1)
    with connect("local", emulator=emu, polling_interval=0.1, retry_total=4, retry_backoff_factor=0.01) as s:
        sc = load(s, tmp_path, 8, 2)
        apply_plan(s, plan_scenario(s, sc)[2])
        assert s.throttle.throttled == 3
        assert s.throttle.window(128) < 128  # still below the bound: grown back by a few successes only
        assert not plan_scenario(s, sc)[2].has_changes
    assert emu.count("PUT", "Tables_CreateOrUpdate", 429) == 3
    assert emu.count("PUT", "Tables_CreateOrUpdate", 202) == 8


def test_no_new_request_starts_before_a_429s_retry_after(emu, tmp_path):
    # Two in flight: one table PUT is answered 429 (Retry-After 2 s), the other's slot frees at once; the third
    # table waits out the Retry-After instead of taking that slot (the throttled PUT is retried by the SDK).
    emu.inject_fault("429", match="Tables_CreateOrUpdate", times=1, retry_after=2)
    starts: list[float] = []

    def progress(event, change, detail):
        if event == "start" and change.kind == "table":
            starts.append(time.monotonic())

    with connect("local", emulator=emu, polling_interval=0.1, retry_total=2) as s:
        sc = load(s, tmp_path, 4, 1)
        apply_plan(s, plan_scenario(s, sc)[2], parallelism=2, progress=progress)
        assert s.throttle.throttled == 1
    assert len(starts) == 4 and starts[2] - starts[0] >= 1.5


def test_a_wait_for_a_provisioning_table_holds_no_slot(emu, azure, tmp_path):
    # The table is still provisioning (an earlier run was interrupted); the DCE is new and needs nothing. With one
    # request in flight at most, the DCE's PUT must not wait until the table has finished.
    emu.set_lro_seconds(2.0)
    with connect("local", emulator=emu, polling_interval=0.2, retry_total=0) as s:
        path = tmp_path / "dce.yaml"
        path.write_text(scenario_text(1, 1).replace("tables:\n", "endpoint:\n  name: dce-wide\ntables:\n", 1))
        sc = require_valid(str(path), environ=s.environ)
        table = next(r for r in plan_scenario(s, sc)[0] if r.name == "Wide00_CL")
        azure.loganalytics().tables.begin_create_or_update(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME, table.name,
                                                           table.body, polling=False)
        plan = plan_scenario(s, sc)[2]
        waiting = next(c for c in plan.changes if c.name == "Wide00_CL")
        assert waiting.action == "no-op" and waiting.live["properties"]["provisioningState"] == "InProgress"
        emu.calls.clear()
        apply_plan(s, plan, parallelism=1)
        calls = [c.operation for c in emu.calls]
        last_wait = max(i for i, op in enumerate(calls) if op == "Tables_Get")
        assert calls.index("DataCollectionEndpoints_Create") < last_wait  # written while the table was waited for
        assert not plan_scenario(s, sc)[2].has_changes


def test_no_verification_get_after_a_put_and_no_status_poll_before_retry_after(emu, tmp_path):
    emu.set_lro_seconds(1.0)
    with connect("local", emulator=emu, polling_interval=0.5, retry_total=0) as s:
        sc = load(s, tmp_path, 4, 2)
        plan = plan_scenario(s, sc)[2]
        emu.calls.clear()
        result = apply_plan(s, plan)
    ops = [c.operation for c in emu.calls]
    assert ops.count("DataCollectionRules_Create") == 2 and ops.count("RoleAssignments_Create") == 2
    assert ops.count("DataCollectionRules_Get") == 0 and ops.count("RoleAssignments_Get") == 0  # the PUTs answered
    # one status poll per table: the first waits for the 202's Retry-After (1 s), by which time it is done
    assert ops.count("OperationStatuses_Get") == 4
    assert all(body for body in result.bodies.values())


@pytest.mark.parametrize("verify", [True, False])
def test_verification_still_compares_the_put_answer(emu, tmp_path, verify):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        sc = load(s, tmp_path, 4, 1)
        result = apply_plan(s, plan_scenario(s, sc)[2], verify=verify)
        rules = [k for k in result.bodies if "/datacollectionrules/" in k and "roleassignments" not in k]
        assert len(rules) == 1 and result.bodies[rules[0]]["properties"]["dataFlows"]
