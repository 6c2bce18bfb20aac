"""Names: no control/format characters anywhere, unique regardless of case, stream names safe in the
ingestion URL (issue 12 items 4, 6 and 10), through `provision validate` as a user runs it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from provision.cli import app

runner = CliRunner()
HEAD = ("location: westeurope\n"
        "workspace: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/"
        "Microsoft.OperationalInsights/workspaces/law-local\nresource_group: rg-local\n")


def scenario(tables: dict, rules: dict) -> str:
    # JSON is YAML: exact control over every character of the names
    return HEAD + "tables: " + json.dumps(tables) + "\nrules: " + json.dumps(rules) + "\n"


def table(name):
    return {name: {"columns": {"TimeGenerated": "datetime", "Msg": "string"}}}


def rule(name, stream="Custom-In", table_name="A_CL"):
    return {name: {"streams": {stream: {"TimeGenerated": "datetime", "Msg": "string"}},
                   "flows": [{"stream": stream, "table": table_name}]}}


def validate(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("stream,code", [
    ("Custom-In\n##vso[task.setvariable variable=EVIL]1", "NameCharacter"),
    ("Custom-In\u202egpj", "NameCharacter"),
    ("Custom-../../x", "StreamName"),
    ("Custom-a/b", "StreamName"),
])
def test_stream_names_that_would_inject_or_break_urls_are_errors(tmp_path, stream, code):
    exit_code, output = validate(tmp_path, scenario(table("A_CL"), rule("dcr-a", stream)))
    assert exit_code == 1 and f"error [{code}]" in output, output
    assert "##vso" not in output.replace("'Custom-In\\n##vso", "")  # the newline is shown escaped, never as its own line
    assert not any(line.startswith("##vso") for line in output.splitlines())


def test_control_characters_in_table_and_rule_names_are_errors(tmp_path):
    exit_code, output = validate(tmp_path, scenario(table("A\x00_CL"), rule("dcr\u202ea", table_name="A\x00_CL")))
    assert exit_code == 1
    assert "table name 'A\\x00_CL' contains U+0000" in output
    assert "rule (DCR) name 'dcr\\u202ea' contains U+202E RIGHT-TO-LEFT OVERRIDE" in output


def test_names_equal_but_for_case_are_one_name_to_azure(tmp_path):
    tables = {**table("Orders_CL"), **table("ORDERS_CL")}
    rules = {**rule("dcr-orders", table_name="Orders_CL"), **rule("DCR-ORDERS", table_name="ORDERS_CL")}
    exit_code, output = validate(tmp_path, scenario(tables, rules))
    assert exit_code == 1
    assert "error [NameCase] table 'ORDERS_CL' and 'Orders_CL'" in output
    assert "error [NameCase] rule (DCR) 'DCR-ORDERS' and 'dcr-orders'" in output


def test_ordinary_names_stay_valid(tmp_path):
    exit_code, output = validate(tmp_path, scenario({**table("A_CL"), **table("B_CL")},
                                                     {**rule("dcr-a"), **rule("dcr-b", "Custom-Other.v2", "B_CL")}))
    assert exit_code == 0, output
