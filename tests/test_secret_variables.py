"""A scenario cannot pull a secret from the process environment into bodies and plan output (issue 12
item 5): secret variables are not readable, and a secret's value in a body stops plan before any call."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.secrets import is_secret_variable, redact

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
SECRET = "s3cret-Value-0123456789"


def scenario_with_description(tmp_path: Path, description: str) -> Path:
    text = QUICKSTART.read_text().replace("description: Events posted by the quickstart sender",
                                          f'description: "{description}"', 1)
    assert text != QUICKSTART.read_text()
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "GITHUB_TOKEN",
                                  "SYSTEM_ACCESSTOKEN", "MY_API_KEY", "DbPassword", "ORDERS_CONNECTION_STRING"])
def test_a_scenario_cannot_read_a_secret_variable(tmp_path, name):
    path = scenario_with_description(tmp_path, f"build ${{{name}}}")
    result = CliRunner().invoke(app, ["validate", str(path)], env={name: SECRET})
    assert result.exit_code == 1
    assert f"error [SecretVariable] ${{{name}}} is a secret variable" in result.output
    assert SECRET not in result.output


def test_ordinary_variables_are_still_read_from_the_environment(tmp_path):
    path = scenario_with_description(tmp_path, "build ${BUILD_ID}")
    result = CliRunner().invoke(app, ["render", str(path)], env={"BUILD_ID": "20261203.4"})
    assert result.exit_code == 0, result.output
    assert "build 20261203.4" in result.output


def test_a_secret_value_in_a_body_stops_plan_before_any_call(emu, tmp_path):
    # the value typed into the file (or passed with --var): the rendered body holds it
    path = scenario_with_description(tmp_path, f"build {SECRET}")
    result = CliRunner().invoke(app, ["plan", str(path)], env={**emu.env(), "PROVISION_CLOUD": "local",
                                                               "AZURE_CLIENT_SECRET": SECRET})
    assert result.exit_code == 1
    assert "holds the value of $AZURE_CLIENT_SECRET: nothing was sent to Azure" in result.output
    assert SECRET not in result.output
    assert emu.calls == []


def test_the_rule_and_the_redaction():
    assert is_secret_variable("AZURE_CLIENT_SECRET") and is_secret_variable("azure_password")
    assert not is_secret_variable("AZURE_CLIENT_ID") and not is_secret_variable("RESOURCE_GROUP")
    assert redact(f"a {SECRET} b", {"AZURE_CLIENT_SECRET": SECRET, "SHORT_TOKEN": "1"}) == "a *** b"
