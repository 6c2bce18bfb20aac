"""`provision infer`, then `provision apply --cloud local`, then the rows posted through the official
LogsIngestionClient land in the table with every field: the inferred stream (keys as they arrive, awkward
names included) and transform are accepted by the local Azure as they are by `validate` and `transform run`.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import seed
from tests.test_infer_cli import APP_EVENTS, assert_nothing_dropped

ROWS = [dict(row, **{"user-name": f"u{i}", "Type": "audit", "@meta": {"i": i}, "where": i * 1.5, "Id": f"id-{i}"})
        for i, row in enumerate(APP_EVENTS)]


def run(emu, *args):
    """Invoke with the variables `provision emulator serve` prints (the PROVISION_LOCAL_URL path)."""
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local"})


def test_inferred_scenario_applies_and_the_sample_lands_whole(emu, azure, tmp_path: Path):
    sample = tmp_path / "events.json"
    sample.write_text(json.dumps(ROWS))
    scenario = tmp_path / "events.yaml"
    inferred = run(emu, "infer", sample, "--table", "Events_CL", "--out", scenario)
    assert inferred.exit_code == 0, inferred.output
    # what the file's last lines ask the user to do: name the sending app
    scenario.write_text(scenario.read_text() + f"publishers:\n  - app_id: {seed.SENDER_APP_ID}\n")

    applied = run(emu, "apply", scenario, "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.output
    rule = json.loads(applied.stdout)["rules"]["dcr-events"]
    (stream,) = rule["streams"]
    assert stream == "Custom-EventsRaw"

    client = azure.ingestion(rule["logs_ingestion_endpoint"], who="sender")
    client.upload(rule_id=rule["immutable_id"], stream_name=stream, logs=ROWS)
    stored = emu.rows("Events_CL")
    assert len(stored) == len(ROWS)
    stored.sort(key=lambda r: r["TimeGenerated"])
    # ROWS are in time order already (the second's 10:15:03+02:00 is 08:15:03 UTC)
    assert_nothing_dropped(ROWS, {"rows": stored, "dropped": [], "filtered": 0})
    assert {"TypeValue", "user_name", "meta", "where", "IdValue", "EventId"} <= set(stored[0])

    again = run(emu, "plan", scenario, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
