"""Exact output of `plan` (text, markdown, json) and `validate` (text), compared with files under tests/golden.

A substring check lets a stray line, a lost column or a reordered table pass; these compare every byte
(the habit sqlite-utils uses for its CLI). What differs from run to run is normalised first: the
scenario's temporary path, the emulator's port, immutable ids. After an intended change to the output:

    PROVISION_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

then read the diff of tests/golden/ before committing it. A missing golden file fails the test unless
that variable is set, so a new case cannot pass by writing its own expectation in CI.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
QUICKSTART = (REPO / "scenarios" / "quickstart.yaml").read_text()
# Read at import: the autouse fixture clears PROVISION_* variables before each test runs.
UPDATE = os.environ.get("PROVISION_UPDATE_GOLDEN") == "1"


def normalise(text: str, scenario: Path) -> str:
    text = text.replace(str(scenario), "<scenario>").replace(scenario.name, "<scenario>")
    text = re.sub(r"https://127\.0\.0\.1:\d+", "https://127.0.0.1:<port>", text)
    return re.sub(r"\bdcr-[0-9a-f]{32}\b", "dcr-<immutable-id>", text)


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"{path} is missing; run with PROVISION_UPDATE_GOLDEN=1 to write it, then review it"
    assert actual == path.read_text(), f"output differs from {path} (PROVISION_UPDATE_GOLDEN=1 rewrites it)"


def invoke(emu, *args: object):
    env = {**emu.env(), "PROVISION_CLOUD": "local"} if emu else {}
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(QUICKSTART)
    return path


def changed(text: str) -> str:
    """The quickstart after a schema change: a new column, a longer retention, a new transform step."""
    return (text.replace("retention_days: 30", "retention_days: 60")
                .replace("      DurationMs: real\n      Properties:", "      DurationMs: real\n      Region: string\n      Properties:")
                .replace("        DurationMs: real\n        Properties: dynamic",
                         "        DurationMs: real\n        Region: string\n        Properties: dynamic")
                .replace("| project-away Time", "| where Level != 'Debug' | project-away Time"))


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_plan_of_a_new_setup(emu, scenario, fmt, suffix):
    result = invoke(emu, "plan", scenario, "--format", fmt, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert_golden(f"plan-create.{suffix}", normalise(result.stdout, scenario))


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md"), ("json", "json")])
def test_plan_of_a_schema_change(emu, scenario, fmt, suffix):
    assert invoke(emu, "apply", scenario, "--yes").exit_code == 0
    scenario.write_text(changed(QUICKSTART))
    result = invoke(emu, "plan", scenario, "--format", fmt, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert_golden(f"plan-update.{suffix}", normalise(result.stdout, scenario))


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md")])
def test_plan_of_an_impossible_change(emu, scenario, fmt, suffix):
    assert invoke(emu, "apply", scenario, "--yes").exit_code == 0
    scenario.write_text(QUICKSTART.replace("      Level: string\n", "      Level: int\n")
                                  .replace("        Level: string\n", "        Level: int\n"))
    result = invoke(emu, "plan", scenario, "--format", fmt)
    assert_golden(f"plan-type-change.{suffix}", normalise(result.stdout + result.stderr, scenario))


def test_plan_with_live_problems(emu, scenario):
    result = invoke(emu, "plan", scenario, "--var", "LOCATION=eastus",
                    "--var", "SENDER_APP_ID=a9a9a9a9-0000-4000-8000-000000000009")
    assert result.exit_code == 1
    assert_golden("plan-live-problems.txt", normalise(result.stdout + result.stderr, scenario))


def test_validate_of_a_good_file(scenario):
    result = invoke(None, "validate", scenario)
    assert result.exit_code == 0, result.output
    assert_golden("validate-ok.txt", normalise(result.stdout + result.stderr, scenario))


def test_validate_of_a_file_with_errors_and_warnings(scenario):
    scenario.write_text(QUICKSTART.replace("EventId: guid", "EventId: uuid")
                                  .replace("retention_days: 30", "retention_days: 1000")
                                  .replace("project-away Time", "project-away Tme"))
    result = invoke(None, "validate", scenario)
    assert result.exit_code == 1
    assert_golden("validate-errors.txt", normalise(result.stdout + result.stderr, scenario))
