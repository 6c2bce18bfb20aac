"""A bound on evaluation time per request (issue 12, item 3): Transform.run_many(records, deadline=...)."""

from __future__ import annotations

import time

import pytest

from provision.kql import EvaluationTimeout, compile_transform

INPUT = [("Msg", "string")]
QUERY = "source | extend n = strlen(Msg) | where n > 1 | project Msg, n"


def records(count: int):
    return [{"Msg": "x" * (i % 4)} for i in range(count)]


def test_no_deadline_and_a_far_deadline_run_everything():
    transform = compile_transform(QUERY, INPUT)
    expected = transform.run_many(records(40))
    assert expected[1] == 20 and len(expected[0]) == 20
    assert transform.run_many(records(40), deadline=time.monotonic() + 3600) == expected


def test_a_passed_deadline_stops_before_the_first_record():
    transform = compile_transform(QUERY, INPUT)
    with pytest.raises(EvaluationTimeout) as info:
        transform.run_many(records(5), deadline=time.monotonic() - 1)
    assert (info.value.processed, info.value.total) == (0, 5)
    assert "after 0 of 5 records" in str(info.value)


def test_the_deadline_is_checked_between_records_and_names_how_many_were_processed():
    transform = compile_transform(QUERY, INPUT)
    deadline = time.monotonic() + 0.5

    def stream():
        yield from records(3)
        while time.monotonic() < deadline:  # the next record arrives only after the deadline
            time.sleep(0.01)
        yield from records(3)

    with pytest.raises(EvaluationTimeout) as info:
        transform.run_many(stream(), deadline=deadline)
    assert info.value.processed == 3 and info.value.total is None
    assert "after 3 records" in str(info.value)
