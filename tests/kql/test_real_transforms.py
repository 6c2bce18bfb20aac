"""Real transformKql strings (Microsoft docs, Azure-Sentinel DCRs; sources in real_transforms.json):
each checks clean in the compat profile and evaluates on its sample record; known-rejected ones fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.kql import check_transform, compile_transform
from provision.scenario.tables import azure_table_columns

DATA = json.loads((Path(__file__).parent / "real_transforms.json").read_text())


def _columns(spec):
    if isinstance(spec, str):  # an Azure table: its schema is the input (Microsoft-* streams)
        columns = azure_table_columns(spec)
        assert columns, spec
        return columns
    return [tuple(c) for c in spec]


def _label(case):
    return f"{case['source']['path'].rsplit('/', 1)[-1]}: {case['query'][:60]}"


def test_at_least_40_real_transforms_from_cited_sources():
    assert len(DATA["cases"]) >= 40
    assert len({c["query"] for c in DATA["cases"]}) == len(DATA["cases"])
    for case in DATA["cases"] + DATA["rejected"]:
        assert case["source"]["repo"] and case["source"]["path"]


@pytest.mark.parametrize("case", DATA["cases"], ids=_label)
def test_real_transform_checks_clean(case):
    table = azure_table_columns(case["table"]) if case.get("table") else None
    result = check_transform(case["query"], _columns(case["input"]), table, custom_table=case["custom_table"])
    errors = [d.format() for d in result.diagnostics if d.is_error]
    assert errors == []
    assert result.output_columns is not None


@pytest.mark.parametrize("case", DATA["cases"], ids=_label)
def test_real_transform_evaluates(case):
    transform = compile_transform(case["query"], _columns(case["input"]))
    out = transform.run(case["record"])
    if case.get("expect") == "filtered":
        assert out is None
        return
    assert isinstance(out, dict)
    json.dumps(out)  # JSON-ready
    for key, value in (case.get("expect") or {}).items():
        assert out.get(key) == value, key
    assert [name for name, _ in transform.output_columns] == list(out)


@pytest.mark.parametrize("case", DATA["rejected"], ids=_label)
def test_known_rejected_real_transform_fails(case):
    result = check_transform(case["query"], _columns(case["input"]), custom_table=case["custom_table"])
    assert [d.code for d in result.diagnostics if d.is_error] == case["codes"]
