"""The newcomer moments of issue 14 on the command line, driven through the CLI against the emulator.

After ``apply``: next steps that run as printed, and the note that an in-process emulator's URL is gone;
``send`` without ``--stream`` when there is one stream; the default cloud named when signing in fails;
``emulator rows`` on a table that does not exist says so.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = str(REPO / "scenarios" / "quickstart.yaml")


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def next_steps(stdout: str) -> list[str]:
    """The commands under "Next steps:", as printed (comments cut)."""
    block = stdout.split("Next steps:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split("   #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_apply_in_process_prints_next_steps_that_run_as_written_and_the_emulator_note(tmp_path):
    state = tmp_path / "state"
    applied = invoke("apply", QUICKSTART, "--cloud", "local", "--state", state, "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Note: https://127.0.0.1:" in applied.stdout and "local Azure running inside this command" in applied.stdout
    assert "stops as the command ends" in applied.stdout and str(state.resolve()) in applied.stdout
    steps = next_steps(applied.stdout)
    assert [s.split()[1] for s in steps] == ["send", "emulator", "outputs"]
    for step in steps:  # each as printed, with the quoting a shell would undo
        words = shlex.split(step)
        assert words[0] == "provision"
        result = invoke(*words[1:])
        assert result.exit_code == 0, (step, result.output)
        if words[1] == "emulator":
            rows = [json.loads(line) for line in result.stdout.splitlines()]
            assert len(rows) == 10 and all(r["Level"].startswith("Level-") for r in rows)  # the send step's rows


def test_apply_against_a_running_emulator_has_next_steps_but_no_in_process_note(emu):
    applied = invoke("apply", QUICKSTART, "--yes", env={**emu.env(), "PROVISION_CLOUD": "local"})
    assert applied.exit_code == 0, applied.output
    assert "Next steps:" in applied.stdout and "Note:" not in applied.stdout
    assert "  provision send " + QUICKSTART + " --sample 10" in applied.stdout  # the cloud came from $PROVISION_CLOUD


def test_machine_readable_apply_keeps_next_steps_off_stdout(emu):
    applied = invoke("apply", QUICKSTART, "--yes", "--format", "json", env={**emu.env(), "PROVISION_CLOUD": "local"})
    assert applied.exit_code == 0, applied.output
    json.loads(applied.stdout)
    assert "Next steps:" in applied.stderr


def test_send_picks_the_only_stream_and_says_so(emu):
    env = {**emu.env(), "PROVISION_CLOUD": "local"}
    assert invoke("apply", QUICKSTART, "--yes", env=env).exit_code == 0
    sent = invoke("send", QUICKSTART, "--sample", 2, env=env)
    assert sent.exit_code == 0, sent.output
    assert "stream Custom-AppEventsRaw (the scenario's only stream)" in sent.stderr
    assert "sent 2 row(s) to dcr-quickstart stream Custom-AppEventsRaw" in sent.stdout


def test_send_without_stream_when_there_are_several_names_them(emu, tmp_path):
    text = Path(QUICKSTART).read_text().replace("      Custom-AppEventsRaw:\n", "      Custom-Other:\n        Time: datetime\n"
                                                                             "      Custom-AppEventsRaw:\n")
    path = tmp_path / "two.yaml"
    path.write_text(text)
    sent = invoke("send", path, "--sample", 1, env={**emu.env(), "PROVISION_CLOUD": "local"})
    assert sent.exit_code == 1
    assert "the scenario has 2 streams: say which with --stream" in sent.stderr
    assert "streams: Custom-AppEventsRaw, Custom-Other" in sent.stderr
    assert emu.calls == []  # decided before any call


def test_signing_in_to_the_default_cloud_names_it_and_suggests_local():
    result = invoke("plan", QUICKSTART)
    assert result.exit_code == 1
    assert "signing in to public (the default cloud: no --cloud and no $PROVISION_CLOUD) failed" in result.stderr
    assert "hint: for the built-in local Azure pass --cloud local" in result.stderr
    sent = invoke("send", QUICKSTART, "--sample", 1)  # after a local quickstart, without --cloud local
    assert sent.exit_code == 1
    assert "none is given (on public, the default cloud: no --cloud and no $PROVISION_CLOUD)" in sent.stderr
    assert "hint: for the built-in local Azure pass --cloud local" in sent.stderr


def test_signing_in_to_a_cloud_given_explicitly_is_not_called_the_default():
    result = invoke("plan", QUICKSTART, "--cloud", "public")
    assert result.exit_code == 1 and "signing in to public failed" in result.stderr
    assert "the default cloud" not in result.stderr


def test_emulator_rows_on_a_table_that_does_not_exist_says_so_and_suggests_the_close_one(tmp_path):
    state = tmp_path / "state"
    assert invoke("apply", QUICKSTART, "--cloud", "local", "--state", state, "--yes").exit_code == 0
    typo = invoke("emulator", "rows", "AppEvent_CL", "--state", state)
    assert typo.exit_code == 1 and typo.stdout == ""
    assert "the emulator has no table 'AppEvent_CL'; did you mean 'AppEvents_CL'? (its tables: AppEvents_CL)" in typo.stderr
    empty = invoke("emulator", "rows", "appevents_cl", "--state", state)  # exists (any case), no rows yet: no such note
    assert empty.exit_code == 0 and empty.stdout == "" and "no rows in appevents_cl" in empty.stderr and "has no table" not in empty.stderr


def test_docs_name_no_interpreter_of_the_machine_they_were_written_on():
    for path in (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "bench").glob("*.py"))):
        text = path.read_text(encoding="utf-8")
        assert "/work/venv" not in text and "/work/" not in text, path


def test_readme_says_to_activate_the_venv_before_bare_provision_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_bare = readme.index("\nprovision ")
    assert readme.index(". .venv/bin/activate") < first_bare


def test_serve_says_how_to_load_its_env_file(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    env_file = tmp_path / "local.env"
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(tmp_path / "s"),
                                "--env-file", str(env_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 20
        while not env_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        line = ""
        while "set -a" not in line and time.time() < deadline:
            line = process.stderr.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert f"set -a; . {env_file}; set +a" in line
    # the line works as printed: a POSIX shell that runs it exports the variables to a child process
    shown = subprocess.run(["sh", "-c", f"set -a; . {env_file}; set +a; sh -c 'echo $PROVISION_LOCAL_URL'"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown.startswith("https://127.0.0.1:")
