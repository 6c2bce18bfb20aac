"""YAML edge cases found by fuzzing the loader (issue 12 item 12), each through `provision validate`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.scenario import load_scenario
from provision.scenario.load import MAX_FILE_BYTES

runner = CliRunner()
HEAD = ("location: westeurope\n"
        "workspace: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/"
        "Microsoft.OperationalInsights/workspaces/law-local\n"
        "resource_group: rg-local\n")


def validate(tmp_path, body: str, env: dict | None = None):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)], env=env)
    return result.exit_code, result.output


def test_keys_equal_after_substitution_are_a_duplicate_key(tmp_path):
    code, output = validate(tmp_path, "tables:\n  ${A}_CL:\n    columns: {TimeGenerated: datetime}\n"
                                      "  X_CL:\n    columns: {TimeGenerated: datetime}\n", env={"A": "X"})
    assert code == 1
    assert "s.yaml:7: error [DuplicateKey] keys '${A}_CL' (line 5) and 'X_CL' are both 'X_CL' after variable substitution" in output


def test_a_nul_byte_is_reported_at_its_line_and_column(tmp_path):
    code, output = validate(tmp_path, "name: a\x00b\n")
    assert code == 1
    assert "s.yaml:4:8: error [YamlSyntax] the file holds the character U+0000" in output


@pytest.mark.parametrize("body", [
    "tables: !!python/object/new:os.system\n  X_CL:\n    columns: {TimeGenerated: datetime}\n",
    "tables:\n  X_CL:\n    columns: !!omap\n      - TimeGenerated: datetime\n",
    "publishers: !!set {a: null}\n",
])
def test_tags_on_mappings_and_lists_are_yaml_tag_errors(tmp_path, body):
    code, output = validate(tmp_path, body)
    assert code == 1 and "error [YamlTag] cannot read the" in output, output


def test_an_explicit_key_may_override_a_merged_one(tmp_path):
    body = ("tables:\n  X_CL:\n    <<: {columns: {TimeGenerated: datetime}, plan: Basic}\n    plan: Analytics\n")
    code, output = validate(tmp_path, body)
    assert code == 0, output
    scenario, _ = load_scenario(tmp_path / "s.yaml", environ={})
    assert scenario.tables["X_CL"].plan == "Analytics"  # YAML merge semantics: the explicit key wins


def test_an_explicit_key_twice_is_still_a_duplicate_key_next_to_a_merge(tmp_path):
    body = ("tables:\n  X_CL:\n    <<: {columns: {TimeGenerated: datetime}}\n    plan: Basic\n    plan: Analytics\n")
    code, output = validate(tmp_path, body)
    assert code == 1 and "s.yaml:8: error [DuplicateKey] key 'plan' appears twice in this mapping (first on line 7)" in output


def test_a_large_file_is_refused_before_it_is_parsed(tmp_path):
    columns = "".join(f"      Column{i}: string\n" for i in range(MAX_FILE_BYTES // 20))
    code, output = validate(tmp_path, "tables:\n  X_CL:\n    columns:\n" + columns)
    assert code == 1 and "error [FileTooLarge]" in output and "at most 1,048,576" in output


def test_many_plain_values_are_not_blamed_on_aliases(tmp_path):
    code, output = validate(tmp_path, "x: [" + ",".join("1" for _ in range(210_000)) + "]\n")
    assert code == 1 and "error [YamlTooComplex] the file holds more than 200,000 values" in output
    assert "aliases" not in output
