"""ARM name rules (issue 12 item 10): names `validate` accepted that failed half-way through apply.

`validate` and the emulator keep separate copies of the rules (the emulator stands for Azure and imports
nothing of the tool); the same corpus runs through both, so they cannot drift apart.
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from typer.testing import CliRunner

from provision.armnames import NameKind, name_problem
from provision.cli import app
from provision.emulator import arm
from tests.emulator_helpers import create_table, dcr_body

WS = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/Microsoft.OperationalInsights/workspaces/law-local"

TRACKED = [  # (name, valid) for DCR and DCE names
    ("dcr-orders", True), ("a", True), ("A1.b_c-(d)", True), ("x" * 64, True),
    ("x" * 65, False), (".", False), ("..", False), ("-dcr", False), ("dcr.", False), ("_dcr", False),
    ("dcr orders", False), ("dcr/orders", False), ("dcr#1", False), ("dcr\n", False), ("dcré", False),
]
GROUPS = [
    ("rg-local", True), ("rg.(prod)_1", True), ("r" * 90, True), ("grüppe", True),
    ("r" * 91, False), (".", False), ("..", False), ("rg.", False), ("rg local", False), ("rg/x", False), ("", False),
]


@pytest.mark.parametrize("name, valid", TRACKED)
def test_rule_and_endpoint_names_agree_with_the_emulator(name, valid):
    for kind, rtype in ((NameKind.RULE, "Microsoft.Insights/dataCollectionRules"),
                        (NameKind.ENDPOINT, "Microsoft.Insights/dataCollectionEndpoints")):
        assert (name_problem(kind, name) is None) is valid
        assert bool(arm.NAME_PATTERNS[rtype].match(name)) is valid


@pytest.mark.parametrize("name, valid", GROUPS)
def test_resource_group_names_agree_with_the_emulator(name, valid):
    assert (name_problem(NameKind.RESOURCE_GROUP, name) is None) is valid
    assert bool(arm.RESOURCE_GROUP_PATTERN.match(name)) is valid


def _validate(tmp_path, *, rule="dcr-a", resource_group="rg-local", workspace=WS, endpoint=None):
    doc = {"location": "westeurope", "workspace": workspace, "resource_group": resource_group,
           "tables": {"A_CL": {"columns": {"TimeGenerated": "datetime", "Msg": "string"}}},
           "rules": {rule: {"flows": [{"table": "A_CL"}]}}}
    if endpoint:
        doc["endpoint"] = {"name": endpoint}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(doc, indent=1))  # JSON is YAML; one key per line keeps line numbers meaningful
    result = CliRunner().invoke(app, ["validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("name", [".", "..", "-dcr", "x" * 65, "dcr."])
def test_validate_refuses_a_rule_name_arm_refuses(tmp_path, name):
    exit_code, output = _validate(tmp_path, rule=name)
    assert exit_code == 1 and "error [RuleName] data collection rule name" in output, output
    assert "fix: use 1-64 letters, digits" in output


def test_validate_accepts_a_64_character_rule_name(tmp_path):
    exit_code, output = _validate(tmp_path, rule="d" * 64)
    assert exit_code == 0, output


def test_validate_refuses_an_endpoint_name_arm_refuses(tmp_path):
    exit_code, output = _validate(tmp_path, endpoint="-dce")
    assert exit_code == 1 and "error [EndpointName] data collection endpoint name '-dce'" in output, output


@pytest.mark.parametrize("group", [".", "..", "rg.", "r" * 91])
def test_validate_refuses_a_resource_group_name_arm_refuses(tmp_path, group):
    exit_code, output = _validate(tmp_path, resource_group=group)
    assert exit_code == 1 and "error [ResourceGroupName]" in output and "not ending with '.'" in output, output


@pytest.mark.parametrize("workspace, what", [
    (WS.replace("rg-local", ".."), "resource group name '..'"),
    (WS.replace("law-local", ".."), "workspace name '..'"),
    (WS.replace("11111111-1111-4111-8111-111111111111", ".."), "subscription id name '..'"),
    (WS.replace("law-local", "ab"), "workspace name 'ab'"),
])
def test_validate_refuses_a_workspace_id_with_invalid_segments(tmp_path, workspace, what):
    exit_code, output = _validate(tmp_path, workspace=workspace)
    assert exit_code == 1 and "error [WorkspaceId]" in output and what in output, output


def test_the_emulator_takes_64_characters_and_refuses_65(azure):
    create_table(azure)
    monitor = azure.monitor()
    rg = "rg-local"
    created = monitor.data_collection_rules.create(rg, "d" * 64, dcr_body())
    assert created.name == "d" * 64
    with pytest.raises(HttpResponseError) as refused:
        monitor.data_collection_rules.create(rg, "d" * 65, dcr_body())
    assert refused.value.error.code == "InvalidResourceName" and "at most 64 characters" in refused.value.message


def test_a_variable_whose_value_is_a_reference_is_an_error(tmp_path):
    """`--var A='${A}'` left a literal `${A}` in the body (issue 12 item 10); values are not substituted again."""
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"location": "westeurope", "workspace": WS, "resource_group": "rg-local",
                                "tables": {"A_CL": {"description": "${A}", "columns": {"TimeGenerated": "datetime"}}},
                                "rules": {"dcr-a": {"flows": [{"table": "A_CL"}]}}}, indent=1))
    result = CliRunner().invoke(app, ["validate", str(path), "--var", "A=${A}"])
    assert result.exit_code == 1 and "error [VariableValue]" in result.output, result.output
    assert CliRunner().invoke(app, ["validate", str(path), "--var", "A=x"]).exit_code == 0
