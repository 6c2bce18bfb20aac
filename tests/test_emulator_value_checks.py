"""The generated per-flow value checks (ingest.value_checker, issue 13) answer as the reference loop over
VALUE_CHECKS (ingest.check_values): the same verdict and message for every record, whatever the JSON values."""

from __future__ import annotations

import itertools

import pytest

from provision.emulator import ingest

VALUES = [None, "", "x", "12", " -3 ", "1.5", "1e3", "1e999", "nan", "true", "FALSE", " false ", 0, 1, 2, -1, 2 ** 31 - 1, 2 ** 31,
          -2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63, 3.0, 3.5, -0.0, 1e308, True, False, [], {}, [1], {"a": 1},
          "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+02:00", "2024-02-30T10:00:00Z", "Wed, 01 May 2024 10:00:00 GMT",
          "74be27de-1e4e-49d9-b579-fe0b331d3642", "{74BE27DE-1E4E-49D9-B579-FE0B331D3642}", "74be27de1e4e49d9b579fe0b331d3642"]
TYPES = sorted(ingest.VALUE_CHECKS)


def _checks(columns):
    return tuple((name, ctype, ingest.VALUE_CHECKS[ctype]) for name, ctype in columns)


@pytest.mark.parametrize("ctype", TYPES)
def test_each_column_type_gives_the_reference_verdict_for_every_value(ctype):
    checks = _checks([("TimeGenerated", "dateTime"), ("Col", ctype)])
    generated = ingest.value_checker(checks)
    verdicts = set()
    for time_value, value in itertools.product(["2024-05-01T10:00:00Z", None, "soon"], VALUES):
        record = {"TimeGenerated": time_value, "Col": value}
        expected = ingest.check_values(checks, record)
        assert generated(record) == expected, record
        verdicts.add(expected)
    assert None in verdicts and len(verdicts) >= 3  # accepted, and refused for TimeGenerated and for the column


def test_the_first_problem_in_column_order_is_reported_and_odd_names_are_safe():
    columns = [("TimeGenerated", "dateTime"), ("a'b", "int"), ('c"\\n', "guid"), ("Flag", "boolean")]
    checks = _checks(columns)
    generated = ingest.value_checker(checks)
    for values in itertools.product([None, "x", 5], repeat=3):
        record = {"TimeGenerated": "2024-05-01T10:00:00Z", **dict(zip([n for n, _ in columns[1:]], values))}
        assert generated(record) == ingest.check_values(checks, record), record
    assert generated({"TimeGenerated": "2024-05-01T10:00:00Z", "a'b": "x", 'c"\\n': "x"}) == \
        "column 'a'b' is int and the value does not convert to int"


def test_a_flow_plan_checks_with_its_generated_checker():
    plan = ingest.FlowPlan(None, "k", "T_CL", frozenset({"TimeGenerated", "N"}), checks=_checks([("TimeGenerated", "dateTime"),
                                                                                                ("N", "long")]))
    assert ingest.record_problem(plan, {"TimeGenerated": "2024-05-01T10:00:00Z", "N": "12"}) is None
    assert ingest.record_problem(plan, {"N": 1}) == ingest.check_values(plan.checks, {"N": 1}) is not None
