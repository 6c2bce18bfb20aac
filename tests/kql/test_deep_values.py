"""Dynamic values nested deeper than Python's recursion limit drop their record (TransformRuntimeError), never
escape as RecursionError (found by tests/test_fuzz_kql.py: the input conversion and the output formatting
ran outside the evaluator's error handling)."""

from __future__ import annotations

import pytest

from provision.kql import TransformRuntimeError, compile_transform


def nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_a_deep_value_in_a_string_column_drops_the_record():
    transform = compile_transform("source | project r = tobool('true')", [("Msg", "string")])
    assert transform.run({"Msg": nested(10)}) == {"r": True}
    with pytest.raises(TransformRuntimeError, match="nests too deeply"):
        transform.run({"Msg": nested(5000)})


def test_a_deep_value_in_the_output_drops_the_record():
    transform = compile_transform("source | project P = Props", [("Props", "dynamic")])
    assert transform.run({"Props": nested(3)}) == {"P": nested(3)}
    with pytest.raises(TransformRuntimeError, match="nests too deeply"):
        transform.run({"Props": nested(5000)})


def test_run_many_counts_the_deep_record_as_dropped_and_keeps_the_others():
    transform = compile_transform("source | project P = Props", [("Props", "dynamic")])
    rows, filtered, dropped = transform.run_many([{"Props": 1}, {"Props": nested(5000)}, {"Props": 2}])
    assert rows == [{"P": 1}, {"P": 2}] and filtered == 0 and [i for i, _ in dropped] == [1]
