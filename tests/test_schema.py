"""``provision schema``: the JSON Schema of the scenario file, from the loader's key tables.

The schema and ``validate`` must agree on structure: every shipped scenario passes both, and every file in a
corpus of structurally bad ones (unknown keys, wrong types, missing keys, closed values) fails both.
"""

from __future__ import annotations

import copy
import json
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from provision.cli import app
from provision.scenario import load, validate_scenario
from provision.scenario.schema import scenario_schema

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
SHIPPED = REPO / "provision" / "data" / "scenario.schema.json"


def validator(schema=None) -> Draft202012Validator:
    schema = scenario_schema() if schema is None else schema
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_schema_is_draft_2020_12_and_the_shipped_copy_is_current():
    schema = scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator(schema)
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped == schema, "regenerate it: provision schema --out provision/data/scenario.schema.json"
    packaged = json.loads(resources.files("provision.data").joinpath("scenario.schema.json").read_text(encoding="utf-8"))
    assert packaged == schema


def test_provision_schema_prints_it_and_writes_it(tmp_path):
    printed = CliRunner().invoke(app, ["schema"])
    assert printed.exit_code == 0 and json.loads(printed.stdout) == scenario_schema()
    out = tmp_path / "s.json"
    written = CliRunner().invoke(app, ["schema", "--out", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text()) == scenario_schema()
    assert "yaml-language-server: $schema=" in written.stderr
    refused = CliRunner().invoke(app, ["schema", "--out", str(tmp_path / "missing" / "s.json")])
    assert refused.exit_code == 1 and "cannot write" in refused.stderr


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid_under_the_schema_and_names_it(path):
    assert list(validator().iter_errors(yaml.safe_load(path.read_text()))) == []
    assert "# yaml-language-server: $schema=../provision/data/scenario.schema.json" in path.read_text().splitlines()[:3]


def test_the_readme_example_is_valid_under_the_schema():
    from tests.test_validate_readme import PLACEHOLDERS

    readme = (REPO / "README.md").read_text()
    block = readme.split("## The scenario file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    for placeholder, value in PLACEHOLDERS.items():
        block = block.replace(placeholder, value)
    assert list(validator().iter_errors(yaml.safe_load(block))) == []


def test_keys_the_loader_learns_flow_into_the_schema(monkeypatch):
    monkeypatch.setattr(load, "TABLE_KEYS", (*load.TABLE_KEYS, "migrate"))
    monkeypatch.setattr(load, "TOP_KEYS", (*load.TOP_KEYS, "tags"))
    schema = scenario_schema()
    table = schema["properties"]["tables"]["additionalProperties"]["anyOf"][0]
    assert "migrate" in table["properties"] and "tags" in schema["properties"]


def test_a_variable_is_accepted_wherever_the_loader_substitutes_one():
    document = yaml.safe_load((REPO / "scenarios" / "quickstart.yaml").read_text())
    table = document["tables"]["AppEvents_CL"]
    table["plan"], table["retention_days"] = "${PLAN}", "${DAYS:-30}"
    table["columns"]["Level"] = "${LEVEL_TYPE}"
    document["publishers"] = [{"object_id": "${SENDER_OBJECT_ID}"}]
    document["workspace"] = "${WS}"
    assert list(validator().iter_errors(document)) == []


def test_spellings_the_loader_normalises_are_accepted():
    document = yaml.safe_load((REPO / "scenarios" / "quickstart.yaml").read_text())
    document["tables"]["AppEvents_CL"]["plan"] = "analytics"
    document["tables"]["AppEvents_CL"]["columns"]["TimeGenerated"] = "DateTime"
    document["rules"]["dcr-quickstart"]["streams"]["Custom-AppEventsRaw"]["Time"] = "dateTime"
    assert list(validator().iter_errors(document)) == []


def _qs():
    return yaml.safe_load((REPO / "scenarios" / "quickstart.yaml").read_text())


def _table(d):
    return d["tables"]["AppEvents_CL"]


def _rule(d):
    return d["rules"]["dcr-quickstart"]


BAD = {
    "unknown top-level key": lambda d: d.update(colour="red"),
    "misspelt columns": lambda d: _table(d).update(colums=_table(d).pop("columns")),
    "misspelt flows": lambda d: _rule(d).update(flws=_rule(d).pop("flows")),
    "unknown flow key": lambda d: _rule(d)["flows"][0].update(tabel=_rule(d)["flows"][0].pop("table")),
    "unknown column key": lambda d: _table(d)["columns"].update(Properties={"type": "dynamic", "descr": "x"}),
    "unknown endpoint key": lambda d: d.update(endpoint={"name": "dce-x", "network": "Enabled"}),
    "unknown publisher key": lambda d: d.update(publishers=[{"client_id": "a2a2a2a2-0000-4000-8000-000000000002"}]),
    "unknown environment key": lambda d: d.update(environments={"prod": {"colour": "red"}}),
    "missing location": lambda d: d.pop("location"),
    "missing workspace": lambda d: d.pop("workspace"),
    "missing resource_group": lambda d: d.pop("resource_group"),
    "flow without table": lambda d: _rule(d)["flows"][0].pop("table"),
    "column without type": lambda d: _table(d)["columns"].update(Properties={"description": "x"}),
    "endpoint without name": lambda d: d.update(endpoint={"public_network_access": "Enabled"}),
    "tables as a list": lambda d: d.update(tables=[_table(d)]),
    "flows as a mapping": lambda d: _rule(d).update(flows={"a": _rule(d)["flows"][0]}),
    "publishers as a mapping": lambda d: d.update(publishers={"app_id": "a2a2a2a2-0000-4000-8000-000000000002"}),
    "location true": lambda d: d.update(location=True),
    "columns as a list": lambda d: _table(d).update(columns=["TimeGenerated"]),
    "retention in words": lambda d: _table(d).update(retention_days="thirty"),
    "retention out of range": lambda d: _table(d).update(retention_days=1000),
    "unknown plan": lambda d: _table(d).update(plan="Premium"),
    "misspelt column type": lambda d: _table(d)["columns"].update(Level="strng"),
    "guid stream column": lambda d: _rule(d)["streams"]["Custom-AppEventsRaw"].update(EventId="guid"),
    "ensure gone": lambda d: _table(d).update(ensure="gone"),
    "network access maybe": lambda d: d.update(endpoint={"name": "dce-x", "public_network_access": "Maybe"}),
    "publisher with both ids": lambda d: d["publishers"][0].update(object_id="b2b2b2b2-0000-4000-8000-000000000002"),
    "publisher with neither id": lambda d: d.update(publishers=[{}]),
    "publisher id not a guid": lambda d: d.update(publishers=[{"app_id": "my-app"}]),
    "workspace not an id": lambda d: d.update(workspace="law-main"),
    "transform a mapping": lambda d: _rule(d)["flows"][0].update(transform={"kql": "source"}),
    "the file a list": lambda d: None,
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_structurally_bad_file_is_rejected_by_both_the_schema_and_validate(tmp_path, case):
    document = _qs()
    BAD[case](document)
    if case == "the file a list":
        document = [document]
    assert list(validator().iter_errors(copy.deepcopy(document))), f"schema accepted: {case}"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    _, diagnostics = validate_scenario(path, environ={})
    assert any(d.is_error for d in diagnostics), f"validate accepted: {case}"


def test_the_wheel_ships_the_schema_and_says_what_it_is(tmp_path):
    from tests.test_wheel import _build_wheel

    with zipfile.ZipFile(_build_wheel(tmp_path)) as wheel:
        assert json.loads(wheel.read("provision/data/scenario.schema.json")) == scenario_schema()
        metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Classifier: Environment :: Console" in metadata and "Classifier: Topic :: System :: Logging" in metadata
    assert "Project-URL: Logs Ingestion API, https://learn.microsoft.com/" in metadata
    description = metadata.split("\n\n", 1)[1]  # the README: its first screen speaks to users
    assert description.index("**What it is.**") < description.index("pip install provision-logs-ingestion") < 2000


def test_what_adopted_rules_use_is_accepted_by_both_the_schema_and_validate(tmp_path):
    """Issue 9's format: a group publisher limited to a rule, the endpoint's private link scopes (both spellings)
    and a rule without kind bound to the DCE pass the schema as they pass validate (an editor must not flag them)."""
    document = _qs()
    document["endpoint"] = {"name": "dce-x", "tags": {"team": "a"}, "private_link_scopes": [
        "ampls-a", {"scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/privateLinkScopes/b",
                    "name": "dce-x-b", "ensure": "absent"}]}
    _rule(document)["kind"] = "none"
    document["publishers"] = [{"group_id": "c4c4c4c4-0000-4000-8000-000000000004", "rules": ["dcr-quickstart"]},
                              {"object_id": "b2b2b2b2-0000-4000-8000-000000000002"}]
    assert [e.message for e in validator().iter_errors(copy.deepcopy(document))] == []
    path = tmp_path / "adopted.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    _, diagnostics = validate_scenario(path, environ={})
    assert [d.format() for d in diagnostics if d.is_error] == []
    # and the schema still refuses a publisher with two identities, a group among them
    document["publishers"] = [{"group_id": "c4c4c4c4-0000-4000-8000-000000000004", "object_id": "b2b2b2b2-0000-4000-8000-000000000002"}]
    assert list(validator().iter_errors(document))
