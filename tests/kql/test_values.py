"""Runtime value layer: the datetime/timespan formats todatetime()/totimespan() accept and the JSON form of output rows."""

from __future__ import annotations

import datetime as dt

import pytest

from provision.kql.values import format_datetime, format_timespan, parse_datetime, parse_timespan_text, to_json_value, to_string


@pytest.mark.parametrize("text,expected", [
    ("2024-03-10T13:45:30Z", dt.datetime(2024, 3, 10, 13, 45, 30)),
    ("2024-03-10T13:45:30.1234567Z", dt.datetime(2024, 3, 10, 13, 45, 30, 123456)),
    ("2024-03-10T15:45:30+02:00", dt.datetime(2024, 3, 10, 13, 45, 30)),
    ("2024-03-10 13:45", dt.datetime(2024, 3, 10, 13, 45)),
    ("2024-03-10", dt.datetime(2024, 3, 10)),
    ("2024/03/10 13:45:30", dt.datetime(2024, 3, 10, 13, 45, 30)),
    ("Sun, 10 Mar 2024 13:45:30 GMT", dt.datetime(2024, 3, 10, 13, 45, 30)),
    ("Sunday, 10-Mar-24 13:45:30 GMT", dt.datetime(2024, 3, 10, 13, 45, 30)),
    ("Sun Mar 10 13:45:30 2024", dt.datetime(2024, 3, 10, 13, 45, 30)),
])
def test_datetime_formats_accepted(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-02-30T00:00:00Z", "10/03/2024"])
def test_invalid_datetimes_are_null(text):
    assert parse_datetime(text) is None


@pytest.mark.parametrize("value,text", [
    (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 500000), "2024-01-02T03:04:05.5Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 123456), "2024-01-02T03:04:05.123456Z"),
])
def test_datetime_output_form(value, text):
    assert format_datetime(value) == text
    assert parse_datetime(text) == value


@pytest.mark.parametrize("text,seconds", [("01:30:00", 5400), ("1.02:03:04", 93784), ("-00:00:01", -1), ("5m", 300), ("2", 172800),
                                          ("00:00:00.5", 0.5)])
def test_timespans(text, seconds):
    value = parse_timespan_text(text)
    assert value.total_seconds() == seconds
    assert parse_timespan_text(format_timespan(value)) == value


def test_json_form_and_tostring():
    row = {"t": dt.datetime(2024, 1, 1), "s": dt.timedelta(hours=1), "n": float("nan"), "d": {"a": [dt.datetime(2024, 1, 1)]}}
    assert to_json_value(row) == {"t": "2024-01-01T00:00:00Z", "s": "01:00:00", "n": "NaN", "d": {"a": ["2024-01-01T00:00:00Z"]}}
    assert to_string({"a": 1, "b": [True, None]}) == '{"a":1,"b":[true,null]}'
    assert to_string(None) == "" and to_string(2.0) == "2" and to_string(0.1) == "0.1"
