"""Terminal behaviour: shell completion, NO_COLOR / FORCE_COLOR / TERM=dumb, the heartbeat during long waits,
and the line said while live state is read."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.cli.terminal import Heartbeat, colour_enabled, status_line

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = str(REPO / "scenarios" / "quickstart.yaml")
ANSI = "\x1b["


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("environ,tty,expected", [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ({"TERM": "dumb"}, True, False),
    ({"TERM": "dumb", "FORCE_COLOR": "true"}, True, True),
])
def test_colour_follows_no_color_force_color_and_term_dumb(environ, tty, expected):
    assert colour_enabled(Tty() if tty else io.StringIO(), environ) is expected


def test_plan_output_is_coloured_only_when_asked_for(emu):
    env = {**emu.env(), "PROVISION_CLOUD": "local"}
    forced = CliRunner().invoke(app, ["plan", QUICKSTART], env={**env, "FORCE_COLOR": "1"})
    assert forced.exit_code == 0 and ANSI in forced.stdout  # piped, yet forced
    for extra in ({}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, {"TERM": "dumb"}):
        plain = CliRunner().invoke(app, ["plan", QUICKSTART], env={**env, **extra})
        assert plain.exit_code == 0 and ANSI not in plain.stdout, extra


def test_a_status_line_shows_while_live_state_is_read_on_a_terminal_and_is_erased_after():
    tty = Tty()
    with status_line(tty, "Reading live state from local ...", environ={}):
        assert tty.getvalue() == "Reading live state from local ...\r"
    assert tty.getvalue().endswith("\r\x1b[K")  # erased: the plan that follows starts on a clean line
    for stream, environ in ((io.StringIO(), {}), (Tty(), {"TERM": "dumb"})):  # a log, a dumb terminal: nothing
        with status_line(stream, "Reading ...", environ=environ):
            pass
        assert stream.getvalue() == ""


def test_plan_and_apply_output_in_a_log_has_no_status_line(emu):
    result = CliRunner().invoke(app, ["plan", QUICKSTART, "--format", "json"], env={**emu.env(), "PROVISION_CLOUD": "local"})
    assert result.exit_code == 0 and "Reading" not in result.output


def test_completion_is_on():
    # What the shell's completion hook runs (Click's `_PROVISION_COMPLETE=source_bash provision`, as Typer keeps it).
    # Not `--show-completion bash`: with shellingham installed Typer makes that a flag that detects the shell from
    # the process tree and ignores "bash", so the test passed or failed with the shell the suite was started from.
    result = CliRunner().invoke(app, [], env={"_PROVISION_COMPLETE": "source_bash"}, prog_name="provision")
    assert result.exit_code == 0, result.output
    assert "complete -o default -F _provision_completion provision" in result.stdout
    assert "_PROVISION_COMPLETE=complete_bash" in result.stdout


def test_a_long_table_wait_has_heartbeat_lines_in_a_log(emu):
    emu.set_lro_seconds(2.0)
    result = CliRunner().invoke(app, ["apply", QUICKSTART, "--yes", "--format", "json"],
                                env={**emu.env(), "PROVISION_CLOUD": "local", "PROVISION_HEARTBEAT_SECONDS": "0.5"})
    assert result.exit_code == 0, result.output
    beats = [line for line in result.stderr.splitlines() if line.startswith("  ... still waiting for table AppEvents_CL")]
    assert len(beats) >= 2 and beats[-1].endswith(" s")
    assert ANSI not in result.stderr and "\r" not in result.stderr  # a log gets plain lines, never a rewritten one
    assert result.stderr.index("waiting for table AppEvents_CL") < result.stderr.index(beats[0]) < result.stderr.index("done table AppEvents_CL")


def test_on_a_terminal_the_heartbeat_rewrites_one_line_and_clears_it_before_other_lines():
    out = Tty()
    with Heartbeat(out.write, live=True, every=0.05, rewrite=out.write) as beat:
        beat.wait("table T_CL")
        time.sleep(0.3)
        beat.echo("  done table T_CL\n")
        beat.done("table T_CL")
        time.sleep(0.15)
    text = out.getvalue()
    assert "\r\x1b[K  " in text and "still waiting for table T_CL: 0 s" in text
    assert "\r\x1b[K  done table T_CL\n" in text  # the status line is cleared before the ordinary one
    assert text.endswith("  done table T_CL\n")  # nothing after done()
