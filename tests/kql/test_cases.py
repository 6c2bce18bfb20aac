"""Data-driven tests (jmespath 'compliance' style): every case in tests/kql/cases/*.json.

KQL_TEST=<file name> runs a single file, e.g. KQL_TEST=check.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from provision.kql import STRICT, TransformCompileError, TransformRuntimeError, check_transform, compile_transform

CASES = Path(__file__).parent / "cases"


def _load(prefix):
    out = []
    for path in sorted(CASES.glob(f"{prefix}*.json")):
        if os.environ.get("KQL_TEST") and path.name != os.environ["KQL_TEST"]:
            continue
        data = json.loads(path.read_text())
        for i, case in enumerate(data["cases"]):
            label = f"{path.stem}[{i}] {case.get('query') or case.get('expr')}"
            out.append(pytest.param(data["given"], case, id=label[:120]))
    return out


@pytest.mark.parametrize("given,case", _load("eval_functions") + _load("eval_operators"))
def test_expression_value(given, case):
    transform = compile_transform(f"source | project r = {case['expr']}", given["input"])
    out = transform.run(given["record"])
    assert out == {"r": case["result"]}, case.get("comment", "")


@pytest.mark.parametrize("given,case", _load("eval_queries"))
def test_query_output(given, case):
    record = case.get("record", given["record"])
    if "error" in case:
        with pytest.raises(TransformCompileError) as info:
            compile_transform(case["query"], given["input"])
        assert info.value.diagnostics[0].code == case["error"]
        return
    transform = compile_transform(case["query"], given["input"])
    if case.get("dropped"):
        with pytest.raises(TransformRuntimeError):
            transform.run(record)
        return
    assert transform.run(record) == case["output"], case.get("comment", "")


@pytest.mark.parametrize("given,case", _load("check"))
def test_checker(given, case):
    result = check_transform(case["query"], given["input"], given.get("table"), profile=case.get("profile", "compat"))
    got = [{"code": d.code, "line": d.line, "column": d.column, "severity": d.severity} for d in result.diagnostics]
    want = [{"severity": "error", **d} for d in case["diagnostics"]]
    if case["diagnostics"] == []:
        # Only warnings about unrelated extra columns may remain for clean cases.
        assert [d for d in got if d["severity"] == "error"] == [], [d.format() for d in result.diagnostics]
    else:
        assert [g for g in got if g["code"] in {w["code"] for w in want}] == want, [d.format() for d in result.diagnostics]
    for d in result.diagnostics:
        assert d.excerpt and "^" in d.excerpt and d.fix, d
    if "fix_contains" in case:
        assert any(case["fix_contains"] in d.fix for d in result.diagnostics)
    if "output" in case:
        assert result.output_columns == [tuple(c) for c in case["output"]]


def test_strict_profile_is_stricter_than_compat():
    cols = [("Time", "datetime")]
    query = "source | extend TimeGenerated = Time, x = iff(true, 1, 2), y = not(false), z = todynamic('1')"
    assert check_transform(query, cols).valid
    strict = check_transform(query, cols, profile=STRICT)
    assert [d.code for d in strict.diagnostics if d.is_error] == ["UnsupportedFunction"] * 3
