"""The scenario reference in README.md stays true: its example validates (placeholders filled in) and renders."""

from __future__ import annotations

import re
from pathlib import Path

from provision.render import render_arm, render_resources
from provision.scenario import validate_scenario

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

PLACEHOLDERS = {
    "<sub>": "11111111-1111-4111-8111-111111111111",
    "<rg>": "rg-local",
    "<ws>": "law-local",
    "<guid>": "44444444-4444-4444-8444-444444444444",
    "<application (client) id>": "a2a2a2a2-0000-4000-8000-000000000002",
    "<service principal object id>": "b2b2b2b2-0000-4000-8000-000000000002",
}


def test_readme_starts_with_exactly_the_two_commands():
    lines = README.splitlines()
    block = lines[lines.index("```sh") + 1: lines.index("```")]
    assert block == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/provision apply scenarios/quickstart.yaml --cloud local --yes",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q",
    ]
    assert lines.index("```sh") <= 3  # the first lines of the file


def test_readme_scenario_example_validates_and_renders(tmp_path):
    example = re.search(r"## The scenario file.*?```yaml\n(.*?)```", README, re.DOTALL).group(1)
    for placeholder, value in PLACEHOLDERS.items():
        example = example.replace(placeholder, value)
    path = tmp_path / "readme.yaml"
    path.write_text(example)
    for env in (None, "prod"):
        scenario, diagnostics = validate_scenario(path, env=env, environ={})
        assert [d.format() for d in diagnostics if d.is_error] == []
        assert render_resources(scenario) and render_arm(scenario)
    assert any("derived" in note for note in scenario.notes)


def test_every_rule_code_is_documented_in_the_readme():
    codes = set()
    for path in (REPO / "provision" / "scenario").glob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'\b(?:error|warning)\(\s*"([A-Z][A-Za-z]+)"', text))
        codes |= set(re.findall(r'Diagnostic\(\s*\w+,\s*"([A-Z][A-Za-z]+)"', text))
    assert len(codes) > 40
    assert sorted(c for c in codes if f"`{c}`" not in README) == []
