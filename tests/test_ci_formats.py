"""``validate --format github|azure-devops``: annotations on the file's line and column, stdout only annotations;
and output variable names that do not say their kind twice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision import ids
from provision.annotations import annotation
from provision.cli import app
from provision.diagnostics import ERROR, WARNING, Diagnostic

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
GITHUB = re.compile(r"^::(error|warning|notice) (?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*::.*$")
DEVOPS = re.compile(r"^##vso\[task\.logissue type=(error|warning)(;[a-z]+=[^;\]]*)*\][^\r\n]*$")


def bad_file(tmp_path) -> Path:
    text = QUICKSTART.read_text().replace("    columns:\n      TimeGenerated", "    colums:\n      TimeGenerated")
    text = text.replace("project-away Time", "project-away Tme")  # a KQL error: it has a column
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_github_annotations_carry_file_line_and_column_and_stdout_holds_nothing_else(tmp_path):
    path = bad_file(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(GITHUB.match(line) for line in lines), lines
    unknown = next(line for line in lines if "title=UnknownKey" in line)
    assert unknown.startswith(f"::error file={path},line=22,title=UnknownKey::unknown key 'colums'")
    assert unknown.endswith("%0Afix: did you mean 'columns'?")
    kql = next(line for line in lines if "col=" in line)
    assert re.search(r",line=44,col=\d+,", kql)
    assert f"{path}: invalid: " in result.stderr  # the summary goes to the log, not stdout


def test_azure_devops_logissue_lines(tmp_path):
    path = bad_file(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "azure-devops"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(DEVOPS.match(line) for line in lines), lines
    assert f"##vso[task.logissue type=error;sourcepath={path};linenumber=22;code=UnknownKey]unknown key 'colums'" in result.stdout
    assert re.search(r";linenumber=44;columnnumber=\d+;code=", result.stdout)


def test_a_valid_file_prints_only_notices_and_exits_0():
    result = CliRunner().invoke(app, ["validate", str(REPO / "scenarios" / "with-dce.yaml"), "--format", "github"])
    assert result.exit_code == 0
    assert all(line.startswith("::notice file=") for line in result.stdout.splitlines())
    assert "valid" in result.stderr
    devops = CliRunner().invoke(app, ["validate", str(QUICKSTART), "--format", "azure-devops"])
    assert devops.exit_code == 0 and devops.stdout == ""


@pytest.mark.parametrize("fmt", ["github", "azure-devops"])
def test_a_hostile_message_cannot_end_the_command_or_start_another(fmt):
    diagnostic = Diagnostic(ERROR, "X", "a\n::error::injected\r\n##vso[task.setvariable variable=A]1 %",
                            fix="b,c:d;e]f", file="dir,x:y;z]/s.yaml", line=3, column=4)
    line = annotation(fmt, diagnostic)
    assert "\n" not in line and "\r" not in line
    assert (GITHUB if fmt == "github" else DEVOPS).match(line), line
    if fmt == "github":
        assert "file=dir%2Cx%3Ay;z]/s.yaml,line=3,col=4,title=X::" in line and line.endswith("%25%0Afix: b,c:d;e]f")
    else:
        assert "sourcepath=dir,x:y%3Bz%5D/s.yaml;linenumber=3;columnnumber=4;code=X]" in line and "%AZP25" in line


def test_a_warning_is_a_warning_annotation():
    warning = Diagnostic(WARNING, "W", "m", file="f.yaml", line=1)
    assert annotation("github", warning) == "::warning file=f.yaml,line=1,title=W::m"
    assert annotation("azure-devops", warning) == "##vso[task.logissue type=warning;sourcepath=f.yaml;linenumber=1;code=W]m"


@pytest.mark.parametrize("name,expected", [
    ("dcr-quickstart", ["DCR_QUICKSTART_ID", "DCR_DCR_QUICKSTART_ID"]),
    ("DCR_orders", ["DCR_ORDERS_ID", "DCR_DCR_ORDERS_ID"]),
    ("orders", ["DCR_ORDERS_ID"]),
    ("dcrorders", ["DCR_DCRORDERS_ID"]),  # not the kind followed by a separator: kept whole
])
def test_output_names_do_not_say_the_kind_twice(name, expected):
    assert ids.output_names("DCR", name, "ID") == expected


def test_env_outputs_of_the_quickstart_have_the_short_names(emu):
    env = {**emu.env(), "PROVISION_CLOUD": "local"}
    applied = CliRunner().invoke(app, ["apply", str(QUICKSTART), "--yes", "--format", "env"], env=env)
    assert applied.exit_code == 0, applied.output
    values = dict(line.split("=", 1) for line in applied.stdout.splitlines())
    assert values["DCR_QUICKSTART_IMMUTABLE_ID"].startswith("dcr-")
    assert values["DCR_QUICKSTART_IMMUTABLE_ID"] == values["DCR_DCR_QUICKSTART_IMMUTABLE_ID"]  # the older name still set
    assert values["DCR_QUICKSTART_CUSTOM_APPEVENTSRAW_URL"].endswith("/streams/Custom-AppEventsRaw?api-version=2023-01-01")
