"""The value layer's fast paths (issue 13) give what the general paths give.

- ``to_json_value`` returns a dynamic value that is JSON already as the same object (no copy per record), and
  still converts datetimes, timespans, guids and non-finite reals nested anywhere in it, leaving the input alone.
- ``parse_datetime`` reads a 'Z' text without building an aware datetime first: the same value as converting the
  aware one to naive UTC, and the same refusals.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest

from provision.kql.values import parse_datetime, to_json_value


def test_json_dynamic_values_come_back_unchanged_and_uncopied():
    value = {"customer": "c1", "items": 3, "ratio": 0.5, "tags": ["web", {"eu": [1, None, True]}]}
    assert to_json_value(value) is value
    assert to_json_value(value["tags"]) is value["tags"]


@pytest.mark.parametrize(("inner", "expected"), [
    (dt.datetime(2024, 5, 1, 10, 0, 0, 123000), "2024-05-01T10:00:00.123Z"),
    (dt.timedelta(hours=1), "01:00:00"),
    (uuid.UUID("74be27de-1e4e-49d9-b579-fe0b331d3642"), "74be27de-1e4e-49d9-b579-fe0b331d3642"),
    (math.nan, "NaN"),
    (-math.inf, "-Infinity"),
])
def test_a_value_that_needs_converting_deep_inside_is_converted_in_a_copy(inner, expected):
    value = {"a": 1, "b": [0.5, {"deep": [inner]}], "c": "x"}
    out = to_json_value(value)
    assert out == {"a": 1, "b": [0.5, {"deep": [expected]}], "c": "x"}
    assert value["b"][1]["deep"][0] is inner  # the input is not modified


@pytest.mark.parametrize("text", [
    "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00.1234567Z", "2024-05-01T23:59:59.999999Z",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-30T10:00:00Z", "2024-05-01T10:00:00+01:00Z",
    "2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00-05:30", "2024-05-01T10:00:00", "2024-05-01T24:00:00Z",
    "2024-05-01T10:00:00 Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00Z", "2024-05-01T1:00:00ZZ",
])
def test_a_z_text_reads_as_its_aware_value_in_naive_utc(text):
    try:
        aware = dt.datetime.fromisoformat(text)
    except ValueError:
        aware = None
    if aware is not None:
        expected = aware.astimezone(dt.UTC).replace(tzinfo=None) if aware.tzinfo else aware
        assert parse_datetime(text) == expected
    else:  # the general path (the patterns Kusto reads) decides, as before the fast path
        assert parse_datetime(text) == parse_datetime(" " + text)  # a leading space skips the fast paths


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_deep_value_with_a_converted_leaf_costs_one_pass(kind):
    # Found by tests/test_fuzz_kql.py: testing each level's value before copying it converted it twice, 2**depth work.
    leaf: object = dt.datetime(2024, 5, 1)
    value = leaf
    for _ in range(200):
        value = [value, 1] if kind == "list" else {"k": value, "n": 1}
    out = to_json_value(value)
    for _ in range(200):
        out = out[0] if kind == "list" else out["k"]
    assert out == "2024-05-01T00:00:00Z"
