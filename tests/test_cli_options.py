"""The CLI's shared options: choices in step with the library, listed in --help, rejected by Typer (exit 1, one
error format), flags without a '<bool>' placeholder, and a runnable example in every command's --help."""

from __future__ import annotations

import shlex

import typer
from typer.testing import CliRunner

from provision import kql, outputs, planview
from provision.cli import app
from provision.cli.options import KqlProfile, OutputFormat, PlanFormat

COMMANDS = [["validate"], ["render"], ["plan"], ["apply"], ["outputs"], ["send"], ["transform", "check"], ["transform", "run"],
            ["emulator", "serve"], ["emulator", "rows"]]


def test_choices_match_the_library():
    assert tuple(f.value for f in PlanFormat) == planview.PLAN_FORMATS
    assert tuple(f.value for f in OutputFormat) == outputs.FORMATS
    assert sorted(p.value for p in KqlProfile) == sorted(kql.PROFILES)


def _parse(words):
    """Parse a command line as Typer would (a usage error raises), without running it."""
    root = typer.main.get_command(app)
    ctx = root.make_context("provision", list(words))
    command, args = root, ctx.args
    args = [*ctx._protected_args, *ctx.args]
    while hasattr(command, "resolve_command"):
        name, command, args = command.resolve_command(ctx, args)
        ctx = command.make_context(name, args, parent=ctx)
        args = [*ctx._protected_args, *ctx.args]
    return command


def test_every_command_has_runnable_examples_and_no_bool_placeholder():
    for path in COMMANDS:
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output, path
        examples = [line.strip() for line in result.output.split("Examples:", 1)[1].splitlines() if line.strip().startswith("provision ")]
        assert examples, path
        for example in examples:
            words = shlex.split(example)
            assert words[1:1 + len(path)] == path, example
            assert _parse(words[1:]).name == path[-1], example


def test_bad_choices_are_usage_errors_exit_1_in_one_format():
    for args in (["plan", "x.yaml", "--format", "yaml"], ["apply", "x.yaml", "--format", "xml"], ["outputs", "x.yaml", "-f", "csv"],
                 ["render", "x.yaml", "--format", "bicep"], ["validate", "x.yaml", "--format", "sarif"],
                 ["transform", "run", "x.yaml", "--flow", "r", "--file", "r.json", "--format", "csv"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error: Invalid value for '--format'" in result.stderr and "is not one of" in result.stderr, result.stderr
        assert "Traceback" not in result.output
    listed = CliRunner().invoke(app, ["apply", "--help"], env={"COLUMNS": "250"}).output
    assert "text|json|env|github|azure-devops" in listed


def test_emulator_errors_use_the_common_format(tmp_path):
    result = CliRunner().invoke(app, ["emulator", "rows", "X_CL", "--state", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"no emulator state in '{tmp_path / 'none'}'") and not result.stderr.startswith("error:")
