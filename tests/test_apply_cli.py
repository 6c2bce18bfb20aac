"""The plan / apply / outputs / send commands, driven through the CLI against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = str(REPO / "scenarios" / "quickstart.yaml")


def run(emu, *args, env=None):
    """Invoke with the variables `provision emulator serve` prints (the PROVISION_LOCAL_URL path)."""
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local", **(env or {})})


def test_plan_apply_plan_with_exit_codes(emu):
    first = run(emu, "plan", QUICKSTART, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "+ create table AppEvents_CL" in first.stdout
    assert "role assignment Monitoring Metrics Publisher for a2a2a2a2" in first.stdout
    assert emu.write_calls() == []

    applied = run(emu, "apply", QUICKSTART, "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.output
    outputs = json.loads(applied.stdout)  # stdout carries only the outputs; plan and progress go to stderr
    rule = outputs["rules"]["dcr-quickstart"]
    assert rule["immutable_id"].startswith("dcr-") and outputs["audience"] == "https://monitor.azure.com"
    assert "done rule dcr-quickstart" in applied.stderr

    again = run(emu, "plan", QUICKSTART, "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout

    repeat = run(emu, "apply", QUICKSTART)  # nothing to do: no confirmation needed
    assert repeat.exit_code == 0 and "No changes" in repeat.stdout
    assert len([c for c in emu.write_calls()]) == 3


def test_apply_refuses_without_yes_when_not_on_a_terminal(emu):
    result = run(emu, "apply", QUICKSTART)
    assert result.exit_code == 1
    assert "refusing to apply without --yes" in result.stderr
    assert emu.write_calls() == []


def test_invalid_scenario_makes_no_call(emu, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(QUICKSTART).read_text().replace("EventId: guid", "EventId: uuid"))
    result = run(emu, "apply", bad, "--yes")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nothing was sent to Azure" in result.stderr
    assert emu.calls == []


def test_plan_formats(emu):
    as_json = run(emu, "plan", QUICKSTART, "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["summary"]["create"] == 3 and data["cloud"] == "local"
    assert {c["kind"] for c in data["changes"]} == {"table", "rule", "role_assignment"}
    markdown = run(emu, "plan", QUICKSTART, "--format", "markdown").stdout
    assert "| action | kind | name | class | details |" in markdown and "| create | table | `AppEvents_CL` |" in markdown


def test_live_problem_exits_1_with_every_problem(emu):
    result = run(emu, "plan", QUICKSTART, "--var", "LOCATION=eastus", "--var",
                 "SENDER_APP_ID=a9a9a9a9-0000-4000-8000-000000000009")
    assert result.exit_code == 1
    assert "LocationMismatch" in result.stdout and "PublisherNotFound" in result.stdout


def test_outputs_and_send(emu):
    assert run(emu, "apply", QUICKSTART, "--yes").exit_code == 0
    env = run(emu, "outputs", QUICKSTART, "--format", "env")
    values = dict(line.split("=", 1) for line in env.stdout.splitlines())
    assert values["DCR_DCR_QUICKSTART_IMMUTABLE_ID"].startswith("dcr-")
    devops = run(emu, "outputs", QUICKSTART, "--format", "azure-devops").stdout
    assert "##vso[task.setvariable variable=DCR_DCR_QUICKSTART_IMMUTABLE_ID;isOutput=true]dcr-" in devops
    sent = run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--sample", "4")
    assert sent.exit_code == 0, sent.output
    assert len(emu.rows("AppEvents_CL")) == 4


def test_send_refuses_a_bad_rows_file_before_any_call(emu, tmp_path):
    # The Logs Ingestion body is a JSON array of objects (azure-contract.md §7): NaN is not JSON.
    cases = {"nan.json": '[{"Level": NaN}]', "scalars.json": "[1, 2]", "deep.json": "[" * 100_000 + "]" * 100_000,
             "broken.json": '[{"Level": "x"'}
    for name, text in cases.items():
        rows = tmp_path / name
        rows.write_text(text)
        result = run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--file", rows)
        assert result.exit_code == 1 and "Traceback" not in result.output and str(rows) in result.stderr, (name, result.output)
    assert emu.calls == []


def test_outputs_before_apply_says_so(emu):
    result = run(emu, "outputs", QUICKSTART)
    assert result.exit_code == 1 and "not deployed yet" in result.stderr and "provision apply" in result.stderr


def test_in_process_emulator_keeps_state_between_commands(tmp_path):
    state = tmp_path / "state"
    runner = CliRunner()
    first = runner.invoke(app, ["apply", QUICKSTART, "--cloud", "local", "--yes", "--state", str(state)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["plan", QUICKSTART, "--cloud", "local", "--state", str(state),
                                 "--detailed-exitcode"])
    assert second.exit_code == 0, second.output
    assert "No changes" in second.stdout



def test_send_waits_for_role_propagation(emu, tmp_path):
    emu.set_role_propagation_seconds(3)  # 403 until the new assignment propagates (azure-contract.md §6.1)
    assert run(emu, "apply", QUICKSTART, "--yes").exit_code == 0
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"Time": "2026-01-01T00:00:00Z", "EventId": "6f1c0e57-7d5c-4c4a-9c47-0f7e4a3f6d01",
                                 "Level": "info", "Message": "hello", "DurationMs": 1.5, "Properties": {"a": 1}}]))
    refused = run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--file", rows)
    assert refused.exit_code == 1 and "HTTP 403" in refused.stderr and "--wait" in refused.stderr
    accepted = run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--file", rows, "--wait", "20")
    assert accepted.exit_code == 0, accepted.output
    assert "waiting" in accepted.stderr
    assert len(emu.rows("AppEvents_CL")) == 1


def test_apply_without_graph_permission_exits_1_with_the_fix(emu):
    from provision.emulator import seed

    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ())
    for command in (["plan", QUICKSTART], ["apply", QUICKSTART, "--yes"]):
        result = run(emu, *command)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "Authorization_RequestDenied" in result.stderr and "object_id" in result.stderr
    assert emu.write_calls() == []


def test_plan_reports_a_classic_table_and_exits_1(emu):
    emu.create_classic_table("AppEvents_CL")
    for fmt in ("text", "json", "markdown"):
        result = run(emu, "plan", QUICKSTART, "--format", fmt, "--detailed-exitcode")
        assert result.exit_code == 1, result.output
        assert "ClassicTable" in result.stdout and "migrate" in result.stdout
    assert emu.write_calls() == []


def test_format_github_checks_github_output_before_any_call(emu, tmp_path):
    # Outside GitHub Actions (or with an unwritable $GITHUB_OUTPUT), apply must fail before changing anything,
    # not after the work is done.
    for env, message in (({"GITHUB_OUTPUT": ""}, "needs $GITHUB_OUTPUT"),
                         ({"GITHUB_OUTPUT": str(tmp_path / "missing" / "out")}, "cannot append to $GITHUB_OUTPUT")):
        for command in ("apply", "outputs"):
            result = run(emu, command, QUICKSTART, "--yes" if command == "apply" else "--cloud=local",
                         "--format", "github", env=env)
            assert result.exit_code == 1 and message in result.stderr, result.output
            assert "Traceback" not in result.output and "internal error" not in result.output
    assert emu.calls == []
    target = tmp_path / "github_output"
    result = run(emu, "apply", QUICKSTART, "--yes", "--format", "github", env={"GITHUB_OUTPUT": str(target)})
    assert result.exit_code == 0, result.output
    # issue 14: progress goes to stderr in every machine-readable format
    assert "outputs to $GITHUB_OUTPUT" in result.stderr and "$GITHUB_OUTPUT" not in result.stdout
    pairs = dict(line.split("=", 1) for line in target.read_text().splitlines())
    assert pairs["dcr_dcr_quickstart_immutable_id"].startswith("dcr-")
    assert pairs["provision_audience"] == "https://monitor.azure.com"


def test_unusable_state_dir_is_a_clear_error(tmp_path):
    # --cloud local without PROVISION_LOCAL_URL starts the emulator on --state: a file, a path under a file, or
    # a file that is not the emulator's database are user errors (exit 1, what and how to fix), not internal errors.
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "state.sqlite3").write_text("not a database")
    for state, reason in ((a_file, "it is a file"), (a_file / "sub", "Not a directory"), (junk, "not a database")):
        result = CliRunner().invoke(app, ["plan", QUICKSTART, "--cloud", "local", "--state", str(state)],
                                    env={"PROVISION_LOCAL_URL": ""})
        assert result.exit_code == 1, result.output
        assert "as the emulator's state directory" in result.stderr and reason in result.stderr
        assert "--state DIR" in result.stderr and "internal error" not in result.output


def test_plan_says_what_apply_will_do_per_class_and_exit_codes(emu, tmp_path):
    assert run(emu, "apply", QUICKSTART, "--yes").exit_code == 0
    text = Path(QUICKSTART).read_text()
    retyped, dropped = tmp_path / "retyped.yaml", tmp_path / "dropped.yaml"
    retyped.write_text(text.replace("      DurationMs: real\n", "      DurationMs: long\n", 1)
                       .replace("        DurationMs: real\n", "        DurationMs: long\n", 1))
    dropped.write_text(text.replace("      DurationMs: real\n", "", 1))
    # impossible: apply would refuse, so plan is an error (1) with or without --detailed-exitcode
    for extra in ([], ["--detailed-exitcode"]):
        result = run(emu, "plan", retyped, *extra)
        assert result.exit_code == 1, result.output
        assert "[impossible]" in result.stdout and "apply refuses this plan" in result.stdout
    data = json.loads(run(emu, "plan", retyped, "--format", "json").stdout)
    assert data["classes"] == {"safe": 1, "data-affecting": 0, "identity-rotating": 0, "impossible": 1}  # + the stream
    assert "apply refuses this plan" in run(emu, "plan", retyped, "--format", "markdown").stdout
    # data-affecting: a change (2), and the plan says apply needs --allow-destructive
    result = run(emu, "plan", dropped, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "[data-affecting]" in result.stdout and "apply needs --allow-destructive" in result.stdout
    assert run(emu, "plan", dropped).exit_code == 0
    assert emu.write_calls()[-1].operation == "RoleAssignments_Create"  # plans wrote nothing


def test_rerun_says_it_waits_for_a_table_an_earlier_run_left_provisioning(emu):
    import pytest

    from provision.apply import apply_plan
    from provision.azure import connect
    from provision.pipeline import plan_scenario
    from provision.scenario import require_valid

    emu.set_lro_seconds(1.0)
    with connect("local", emulator=emu, polling_interval=0.1, retry_total=0) as s:
        def interrupt(event, change, detail):
            if event == "waiting":
                raise KeyboardInterrupt  # Ctrl-C while the table's operation runs

        with pytest.raises(KeyboardInterrupt):
            apply_plan(s, plan_scenario(s, require_valid(QUICKSTART, environ=s.environ))[2], progress=interrupt)
    result = run(emu, "apply", QUICKSTART, "--yes")
    assert result.exit_code == 0, result.output
    assert "waiting for table AppEvents_CL (provisioningState InProgress, from an earlier run) ..." in result.stdout
    assert result.stdout.count("from an earlier run") == 1


def test_bad_templates_fail_before_any_call(emu, tmp_path):
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "dcr.json.j2").write_text("{{ not valid jinja")
    for templates in (tmp_path / "missing", broken):
        result = run(emu, "plan", QUICKSTART, "--templates", templates)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert emu.calls == []  # not even a token request


def test_outputs_and_send_need_no_graph(emu):
    # Outputs hold no publisher: an identity that may not read Graph (common for a CI's read-only step) can run them.
    from provision.emulator import seed

    assert run(emu, "apply", QUICKSTART, "--yes").exit_code == 0
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ())
    graph_calls = emu.count(operation="ServicePrincipals_GetByAppId")
    outputs = run(emu, "outputs", QUICKSTART, "--format", "json")
    assert outputs.exit_code == 0, outputs.output
    assert json.loads(outputs.stdout)["rules"]["dcr-quickstart"]["immutable_id"].startswith("dcr-")
    sent = run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--sample", "2")
    assert sent.exit_code == 0, sent.output
    assert emu.count(operation="ServicePrincipals_GetByAppId") == graph_calls
    assert run(emu, "plan", QUICKSTART).exit_code == 1  # plan still needs Graph for the app_id publisher


def test_sigint_during_a_table_operation_then_rerun(emu):
    # A real Ctrl-C (SIGINT to the process) while a table's long-running operation runs: exit 130 with the
    # re-run advice and no traceback; the re-run waits for that table and completes the rest.
    import os
    import signal
    import subprocess
    import sys
    import time

    emu.set_lro_seconds(3)
    env = {**os.environ, **emu.env(), "PROVISION_CLOUD": "local", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "provision", "apply", QUICKSTART, "--yes"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 - the child must take SIGINT as a user's Ctrl-C; nothing else runs between fork and exec
    deadline = time.monotonic() + 30
    for line in process.stdout:
        if "waiting for table AppEvents_CL" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert "Interrupted. What finished stays in place" in err and "Traceback" not in err
    assert emu.count("PUT", "DataCollectionRules_Create") == 0  # stopped before the DCR
    emu.set_lro_seconds(0.5)  # the running operation ends sooner
    result = run(emu, "apply", QUICKSTART, "--yes")
    assert result.exit_code == 0, result.output
    assert emu.count("PUT", "Tables_CreateOrUpdate") == 1  # not sent again: waited for
    assert run(emu, "plan", QUICKSTART, "--detailed-exitcode").exit_code == 0


def test_no_command_prints_a_secret(emu, tmp_path):
    # The emulator's own `serve` prints its local credentials (its job); nothing else may, errors included.
    from provision.emulator import seed

    secrets = (seed.DEPLOYER_SECRET, seed.SENDER_SECRET, seed.NOBODY_SECRET)
    target = tmp_path / "github_output"
    results = [run(emu, "plan", QUICKSTART, "--format", fmt) for fmt in ("text", "json", "markdown")]
    results += [run(emu, "apply", QUICKSTART, "--yes", "--format", fmt, env={"GITHUB_OUTPUT": str(target)})
                for fmt in ("text", "json", "env", "github", "azure-devops")]
    results += [run(emu, "outputs", QUICKSTART, "--format", "env"),
                run(emu, "send", QUICKSTART, "--stream", "Custom-AppEventsRaw", "--sample", "1"),
                run(emu, "plan", QUICKSTART, env={"AZURE_CLIENT_SECRET": "wrong-" + seed.DEPLOYER_SECRET[::-1]}),
                run(emu, "plan", QUICKSTART, env={"AZURE_CLIENT_ID": seed.NOBODY_APP_ID,
                                                  "AZURE_CLIENT_SECRET": seed.NOBODY_SECRET})]
    assert [r.exit_code for r in results][-2:] == [1, 1]
    for result in results:
        assert not any(secret in result.output for secret in secrets), result.output
    assert not any(secret in target.read_text() for secret in secrets)
