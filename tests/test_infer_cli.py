"""`provision infer` on the command line, as a user runs it: the written scenario validates clean, and
`provision transform run` of its flow on the same sample keeps every row and every field.

Samples are real-shaped (application events, a Data Collector API sender's payloads) and generated
(seeded random rows with nested objects, mixed types, sparse fields, awkward names). "Keeps every
field" is checked on values, not on our own mapping: every non-null input value appears in its output
row (as the same value, or as its text when the column was widened to string), so the check does not
trust the names infer chose.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shlex
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from provision.cli import app
from tests.test_cli_options import _parse

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def write_rows(path: Path, rows, jsonl: bool = False) -> Path:
    if jsonl:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return path


def infer_to(tmp_path: Path, sample: Path, *options) -> tuple[Path, str]:
    out = tmp_path / "inferred.yaml"
    result = invoke("infer", sample, "--out", out, *options)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return out, result.stderr


def validate_clean(scenario: Path) -> None:
    result = invoke("validate", scenario)
    assert result.exit_code == 0, result.output + scenario.read_text()
    assert "warning" not in result.output, result.output + scenario.read_text()


def run_flow(scenario: Path, sample: Path) -> dict:
    rule = next(iter(yaml.safe_load(scenario.read_text())["rules"]))
    result = invoke("transform", "run", scenario, "--flow", rule, "--file", sample, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _norm(value):
    """A value as it survives a transform: datetimes as instants, guids lower-case, numbers as floats,
    objects as sorted JSON, and text that holds one of those (a widened column) as that value."""
    from provision.kql.values import parse_datetime  # the engine's parser: what a datetime column stores

    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    if isinstance(value, (dict, list)):
        return ("json", json.dumps(value, sort_keys=True))
    if value in ("true", "false"):
        return ("bool", value == "true")
    if re.fullmatch(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", value):
        return ("num", float(value))
    if value[:1] in ("{", "["):
        try:
            return _norm(json.loads(value))
        except ValueError:
            pass
    if len(value) == 36:
        try:
            return ("guid", str(uuid.UUID(value)))
        except ValueError:
            pass
    parsed = parse_datetime(value) if len(value) >= 10 else None
    return ("dt", parsed) if parsed is not None else ("str", value)


def assert_nothing_dropped(rows: list[dict], payload: dict) -> None:
    assert payload["dropped"] == [] and payload["filtered"] == 0, payload["dropped"][:3]
    assert len(payload["rows"]) == len(rows)
    for index, (row_in, row_out) in enumerate(zip(rows, payload["rows"], strict=True)):
        kept = [_norm(v) for v in row_out.values() if v is not None and v != ""]
        for name, value in row_in.items():
            if value is None or value == "":
                continue  # KQL strings are never null: a missing or null string leaves as ""
            assert _norm(value) in kept, (index, name, value, row_out)
        assert len(kept) >= sum(v is not None and v != "" for v in row_in.values()), (index, row_in, row_out)


def table_columns(scenario: Path) -> dict[str, str]:
    document = yaml.safe_load(scenario.read_text())
    (table,) = document["tables"].values()
    return table["columns"]


def stream_columns(scenario: Path) -> dict[str, str]:
    document = yaml.safe_load(scenario.read_text())
    (rule,) = document["rules"].values()
    (stream,) = rule["streams"].values()
    return stream


# -- real-shaped samples ------------------------------------------------------------------------

APP_EVENTS = [
    {"Time": "2026-11-30T08:15:02.1234567Z", "EventId": "0F8FAD5B-D9CB-469F-A165-70867728950E", "Level": "Information",
     "Message": "user signed in", "DurationMs": 12, "Properties": {"user": {"id": 42, "roles": ["admin", "dev"]}, "ip": "10.0.0.4"},
     "Tags": ["login", "web"], "Success": True},
    {"Time": "2026-11-30T10:15:03+02:00", "EventId": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "Level": "Warning",
     "Message": "slow response", "DurationMs": 1530.25, "Properties": {"route": "/api/orders", "status": 200}, "Tags": [],
     "Success": True, "RetryCount": 2},
    {"Time": "2026-11-30T08:15:09", "EventId": "16fd2706-8baf-433b-82eb-8c7fada847da", "Level": "Error",
     "Message": "payment failed", "DurationMs": 88, "Properties": None, "Success": False, "ErrorCode": "E_CARD_DECLINED"},
]


def test_real_shaped_app_events_give_the_types_the_issue_lists(tmp_path):
    sample = write_rows(tmp_path / "app-events.json", APP_EVENTS)
    scenario, report = infer_to(tmp_path, sample, "--table", "AppEvents_CL")
    columns = table_columns(scenario)
    assert columns == {"TimeGenerated": "dateTime", "EventId": "guid", "Level": "string", "Message": "string", "DurationMs": "real",
                       "Properties": "dynamic", "Tags": "dynamic", "Success": "boolean", "RetryCount": "long", "ErrorCode": "string"}
    stream = stream_columns(scenario)
    assert stream["Time"] == "datetime" and stream["EventId"] == "string"  # guid arrives as string; no guid in a stream
    text = scenario.read_text()
    assert "toguid(EventId)" in text and "TimeGenerated = Time" in text and "project-away Time" in text
    assert "widened to real: long in 2 row(s)" in text  # DurationMs: the comment says why
    assert "in 1 of 3 rows" in text  # RetryCount and ErrorCode are sparse
    assert "from 'Time', the one datetime field" in report
    validate_clean(scenario)
    assert_nothing_dropped(APP_EVENTS, run_flow(scenario, sample))


def test_data_collector_api_payloads_one_after_another(tmp_path):
    # What a Data Collector API sender posts: each body a JSON array; a log of bodies, pretty-printed or one per line.
    first = [{"Computer": "web-01", "Count": 3, "Ok": True, "When": "2026-11-30T08:00:00Z"},
             {"Computer": "web-02", "Count": 5, "Ok": False, "When": "2026-11-30T08:00:05Z"}]
    second = [{"Computer": "web-03", "Count": 2.5, "Ok": True, "When": "2026-11-30T08:01:00Z", "Id": "16fd2706-8baf-433b-82eb-8c7fada847da"}]
    sample = tmp_path / "payloads.json"
    sample.write_text(json.dumps(first, indent=2) + "\n" + json.dumps(second) + "\n")
    scenario, report = infer_to(tmp_path, sample, "--table", "Legacy_CL")
    assert "3 row(s)" in report
    assert table_columns(scenario) == {"TimeGenerated": "dateTime", "Computer": "string", "Count": "real", "Ok": "boolean", "IdValue": "guid"}  # Id: reserved id, in another case
    validate_clean(scenario)
    rows = first + second
    flat = write_rows(tmp_path / "flat.jsonl", rows, jsonl=True)  # transform run reads an array or JSON lines
    assert_nothing_dropped(rows, run_flow(scenario, flat))


def test_json_lines_sample_with_default_table_and_stream_names(tmp_path):
    rows = [{"msg": "a", "n": 1}, {"msg": "b", "n": 2}]
    sample = write_rows(tmp_path / "my-app.events.jsonl", rows, jsonl=True)
    result = invoke("infer", sample)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert list(document["tables"]) == ["my_app_events_CL"]
    assert list(document["rules"]["dcr-my_app_events"]["streams"]) == ["Custom-my_app_eventsRaw"]
    assert "no datetime field" in result.stderr and "now()" in result.stderr
    scenario = tmp_path / "s.yaml"
    scenario.write_text(result.stdout)
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


# -- types ---------------------------------------------------------------------------------------

def test_date_like_and_guid_like_strings_that_are_not(tmp_path):
    rows = [{
        "Hash": "0123456789abcdef0123456789abcdef",  # 32 hex: an MD5, though to_guid() would take it
        "Braced": "{0F8FAD5B-D9CB-469F-A165-70867728950E}",
        "ShortGuid": "0F8FAD5B-D9CB-469F-A165-70867728950",
        "BadGuid": "0F8FAD5B-D9CB-469F-A165-70867728950G",
        "Feb30": "2024-02-30",
        "Hour25": "2024-05-01T25:00:00Z",
        "Dotted": "2024.05.01",
        "Slashed": "05/01/2024",
        "Compact": "20240501",
        "Epoch": "1714557600",
        "Clock": "10:00:00",
        "Version": "2024-05-01-preview",
    }]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, _ = infer_to(tmp_path, sample, "--table", "Odd_CL")
    columns = table_columns(scenario)
    assert {name: kind for name, kind in columns.items() if name != "TimeGenerated"} == dict.fromkeys(rows[0], "string")
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


def test_datetime_forms_taken(tmp_path):
    forms = {"Utc": "2024-05-01T10:00:00Z", "Offset": "2024-05-01T12:00:00+02:00", "NoOffset": "2024-05-01T10:00:00",
             "Fraction7": "2024-05-01T10:00:00.1234567Z", "Space": "2024-05-01 10:00:00", "DateOnly": "2024-05-01",
             "Minutes": "2024-05-01T10:00", "CompactOffset": "2024-05-01T12:00:00+0200", "Rfc1123": "Wed, 01 May 2024 10:00:00 GMT"}
    rows = [forms]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Dates_CL")
    columns = table_columns(scenario)
    assert {name: kind for name, kind in columns.items() if name != "TimeGenerated"} == dict.fromkeys(forms, "dateTime")
    assert "9 datetime fields" in report and "--time-field" in report  # several candidates: now(), and the way to choose
    validate_clean(scenario)
    payload = run_flow(scenario, sample)
    assert_nothing_dropped(rows, payload)
    assert payload["rows"][0]["Offset"] == "2024-05-01T10:00:00Z" and payload["rows"][0]["Rfc1123"] == "2024-05-01T10:00:00Z"


def test_widening_rules_and_nulls_never_decide(tmp_path):
    rows = [
        {"LongReal": 1, "DateString": "2024-05-01T10:00:00Z", "GuidString": "16fd2706-8baf-433b-82eb-8c7fada847da", "BoolLong": True,
         "ObjString": {"a": 1}, "NullThenLong": None, "OnlyNull": None, "NumObj": 5},
        {"LongReal": 2.5, "DateString": "soon", "GuidString": "n/a", "BoolLong": 0, "ObjString": "plain", "NullThenLong": 7,
         "OnlyNull": None, "NumObj": [1, 2]},
        {"LongReal": None, "DateString": None, "GuidString": None, "BoolLong": None, "ObjString": None, "NullThenLong": None,
         "OnlyNull": None, "NumObj": None},
    ]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Mixed_CL")
    columns = table_columns(scenario)
    assert columns["LongReal"] == "real"
    assert columns["DateString"] == "string" and columns["GuidString"] == "string" and columns["ObjString"] == "string"
    assert columns["BoolLong"] == "dynamic" and columns["NumObj"] == "dynamic"  # no string among them: kept as they came
    assert columns["NullThenLong"] == "long"  # two nulls, one 7: nulls never decide
    assert columns["OnlyNull"] == "string"
    text = scenario.read_text()
    for name in ("LongReal", "DateString", "GuidString", "BoolLong", "ObjString", "NumObj"):
        line = next(line for line in text.splitlines() if line.strip().startswith(f"{name}:"))
        assert "# widened to" in line, line
    assert "only null in the sample" in text
    assert "LongReal: widened to real" in report
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


# -- names ---------------------------------------------------------------------------------------

def test_names_the_table_cannot_take_are_renamed_mapped_and_reported(tmp_path):
    rows = [{
        "TimeGenerated": 1714557600,  # not a datetime: the table's TimeGenerated cannot take it
        "Type": "a", "id": "b", "TenantId": "c", "_ResourceId": "d", "title": "e",  # reserved (in any case)
        "user-name": "f", "@timestamp-ish": "g", "a.b.c": "h", "x": "i", "1st": "j", "Größe": "k", "名前": "l",
        "Name": "m", "name": "n", "NAME": "o",  # case clashes
        "ThisFieldNameIsFarTooLongForALogAnalyticsColumnName_1": "p",
        "ThisFieldNameIsFarTooLongForALogAnalyticsColumnName_2": "q",
        "where": "r", "project": "s",  # KQL keywords: fine as columns, quoted in the transform
        "it's \"quoted\"": "t", "a${B}c": "u", "user_name": "v",
        "Id2": "16fd2706-8baf-433b-82eb-8c7fada847da", "guid-field": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    }]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Names_CL")
    columns = table_columns(scenario)
    assert len({name.casefold() for name in columns}) == len(columns)  # unique regardless of case
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{1,44}", name) for name in columns), columns
    assert columns["TypeValue"] == "string" and columns["idValue"] == "string" and columns["TimeGeneratedValue"] == "long"
    assert columns["user_name"] == "string" and columns["user_name_2"] == "string"  # the valid 'user_name' keeps its name
    assert columns["guid_field"] == "guid"
    # the stream declares the keys exactly as they arrive ('$${' is how the scenario format writes a literal '${')
    assert {key.replace("$${", "${") for key in stream_columns(scenario)} == set(rows[0])
    assert "renamed 'user-name' -> user_name_2" in report and "renamed 'Type' -> TypeValue: reserved" in report
    assert "renamed 'name' -> name_2: differs only by case" in report
    assert "longer than 45 characters" in report
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


def test_keys_that_no_stream_can_declare_are_left_out_and_said(tmp_path):
    rows = [{"ok": 1, "bad\nkey": 2, "": 3, "rtl\u202eoverride": 4}]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Keys_CL")
    assert "left out 'bad\\nkey'" in report and "left out ''" in report and "U+202E" in report
    assert "Left out (3 field(s)" in scenario.read_text()
    validate_clean(scenario)


# -- TimeGenerated -------------------------------------------------------------------------------

def test_time_field_option_and_sparse_time_field(tmp_path):
    rows = [{"Created": "2024-05-01T10:00:00Z", "Seen": "2024-05-01T11:00:00Z", "v": 1},
            {"Created": "2024-05-01T10:05:00Z", "v": 2}]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Times_CL", "--time-field", "Seen")
    assert "TimeGenerated: from 'Seen' (--time-field)" in report
    text = scenario.read_text()
    assert "iif(isnull(Seen), now(), Seen)" in text and "now() where it is missing or null (1 of 2 rows)" in text
    assert table_columns(scenario)["Created"] == "dateTime" and "Seen" not in table_columns(scenario)
    validate_clean(scenario)
    payload = run_flow(scenario, sample)
    assert payload["rows"][0]["TimeGenerated"] == "2024-05-01T11:00:00Z"
    assert_nothing_dropped(rows, payload)


def test_rows_that_carry_timegenerated_pass_through(tmp_path):
    rows = [{"TimeGenerated": "2024-05-01T10:00:00Z", "Msg": "a"}]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, _ = infer_to(tmp_path, sample, "--table", "Plain_CL")
    assert "transform: |-\n          source\n" in scenario.read_text()
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


@pytest.mark.parametrize(("field", "expected"), [
    ("Nope", "--time-field 'Nope' is not a field"),
    ("Tme", "did you mean 'Time'"),
    ("Count", "does not hold datetimes"),
    ("Mixed", "does not hold datetimes"),
])
def test_time_field_errors(tmp_path, field, expected):
    sample = write_rows(tmp_path / "rows.json", [{"Time": "2024-05-01T10:00:00Z", "Count": 1, "Mixed": "2024-05-01"}, {"Mixed": "later"}])
    result = invoke("infer", sample, "--table", "T_CL", "--time-field", field)
    assert result.exit_code == 1 and expected in result.stderr and "Traceback" not in result.output, result.output


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("", "is empty"),
    ("  \n\n", "is empty"),
    ("[]", "holds no rows"),
    ("[{}, {}]", "have no field a stream can declare"),
    ('[{"": 1}]', "have no field a stream can declare (1 left out: an empty name"),
    ("[1, 2]", ":1:1: item 1 of the array that starts here is a number, not a JSON object"),
    ('{"a": 1}\n"text"\n', ":2:1: value 2 is a string, not a JSON object"),
    ('[{"a": 1}, [{"b": 2}]]', "item 2 of the array that starts here is an array"),
    ('{"a": 1}\n{"b": ' + "9" * 5000 + "}", ":2:1: cannot read this value: Exceeds the limit"),
    ('[\n  {"a": 1},\n  {"b": 2,}\n]', ":3:11: not JSON: Expecting property name enclosed in double quotes"),
    ('{"a": 1}\n{"a": 2\n', ":3:1: not JSON"),
    ('[{"a": NaN}]', ":1:8: not JSON: NaN is not a JSON value"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_bad_samples_are_one_clear_error(tmp_path, text, expected):
    sample = tmp_path / "rows.json"
    sample.write_text(text)
    result = invoke("infer", sample, "--table", "T_CL")
    assert result.exit_code == 1, result.output
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_unreadable_and_non_utf8_samples(tmp_path):
    missing = invoke("infer", tmp_path / "nope.json", "--table", "T_CL")
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    binary = tmp_path / "rows.json"
    binary.write_bytes(b'[{"a": "\xff"}]')
    result = invoke("infer", binary, "--table", "T_CL")
    assert result.exit_code == 1 and "not UTF-8" in result.stderr


def test_bad_table_and_stream_names(tmp_path):
    sample = write_rows(tmp_path / "rows.json", [{"a1": 1}])
    for option, value, expected in (("--table", "Syslog", "not a custom table name"), ("--table", "1x_CL", "not a custom table name"),
                                    ("--stream", "Raw", "not a stream name"), ("--stream", "Custom-a/b", "not a stream name")):
        result = invoke("infer", sample, option, value)
        assert result.exit_code == 1 and expected in result.stderr, (value, result.output)


def test_ten_thousand_distinct_fields_are_capped_at_the_table_limit(tmp_path):
    rows = [{f"f{i}": i for i in range(start, start + 1000)} | {"Common": start} for start in range(0, 10_000, 1000)]
    sample = write_rows(tmp_path / "wide.jsonl", rows, jsonl=True)
    scenario, report = infer_to(tmp_path, sample, "--table", "Wide_CL")
    columns = table_columns(scenario)
    assert len(columns) == 500 and "Common" in columns  # kept first: every row carries it
    # 10,000 f-fields and Common; 499 fit beside TimeGenerated: Common and f0-f497
    assert "left out 9,502 fields ('f498', 'f499'," in report and "the table takes at most 500 columns" in report
    assert "Left out (9,502 field(s)" in scenario.read_text()
    validate_clean(scenario)
    payload = run_flow(scenario, sample)
    assert payload["dropped"] == [] and len(payload["rows"]) == 10


def test_out_refuses_to_overwrite_the_sample(tmp_path):
    sample = write_rows(tmp_path / "rows.json", [{"a1": 1}])
    result = invoke("infer", sample, "--out", sample)
    assert result.exit_code == 1 and "is the sample file itself" in result.stderr
    assert json.loads(sample.read_text()) == [{"a1": 1}]


# -- generated samples ---------------------------------------------------------------------------

NAMES = ["id", "Type", "user-name", "x", "Value", "value", "where", "a.b", "@meta", "Größe", "TimeGenerated", "Count",
         "ThisFieldNameIsFarTooLongForALogAnalyticsColumnNameReally", "it's", "__x", "9lives", "Title", "UniqueId"]


def _value(rng: random.Random, index: int, row: int):
    kind = rng.choice(["long", "real", "bool", "str", "date", "guid", "obj", "arr", "null", "datelike", "guidlike"])
    return {
        "long": lambda: rng.randrange(-10**12, 10**12) * 1000 + index,
        "real": lambda: rng.random() * 1000 + index,
        "bool": lambda: rng.random() < 0.5,
        "str": lambda: f"s{index}-{row}-{rng.random():.6f}",
        "date": lambda: (dt.datetime(2020, 1, 1) + dt.timedelta(seconds=rng.randrange(10**8), microseconds=index)).isoformat() + "Z",
        "guid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "obj": lambda: {"k": index, "nested": {"row": row, "list": [1, "two", None]}},
        "arr": lambda: [index, row, {"z": True}],
        "null": lambda: None,
        "datelike": lambda: f"2024-02-{30 + index % 2}",
        "guidlike": lambda: uuid.UUID(int=rng.getrandbits(128)).hex,
    }[kind]()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_generated_samples_validate_and_keep_every_row_and_field(tmp_path, seed):
    rng = random.Random(seed)
    fields = rng.sample(NAMES, 10) + [f"f{i}" for i in range(rng.randrange(1, 15))]
    # Each field keeps mostly one kind (as real data does), with some rows of another kind, some nulls, some absent.
    rows = []
    for row in range(40):
        record = {}
        for index, name in enumerate(fields):
            if rng.random() < 0.15:
                continue  # sparse
            local = random.Random(seed * 1000 + index if rng.random() < 0.8 else rng.random())
            record[name] = _value(local, index, row)
        rows.append(record)
    sample = write_rows(tmp_path / "gen.jsonl", rows, jsonl=True)
    scenario, _ = infer_to(tmp_path, sample, "--table", "Gen_CL")
    validate_clean(scenario)
    assert_nothing_dropped(rows, run_flow(scenario, sample))


# -- --into --------------------------------------------------------------------------------------

def test_into_prints_the_additions_and_never_changes_existing_types(tmp_path):
    sample = write_rows(tmp_path / "v1.json", APP_EVENTS)
    scenario, _ = infer_to(tmp_path, sample, "--table", "AppEvents_CL")
    before = scenario.read_text()
    grown = [dict(APP_EVENTS[0], DurationMs="slow", Region="westeurope", **{"Session-Id": "16fd2706-8baf-433b-82eb-8c7fada847da",
                                                                            "Type": "audit"})]
    newer = write_rows(tmp_path / "v2.json", grown)
    result = invoke("infer", newer, "--into", scenario, "--table", "AppEvents_CL")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 new field(s)" in out
    assert "      Region: string" in out and "      Session_Id: guid" in out and "      TypeValue: string" in out
    assert '        Session-Id: string' in out and "        Type: string" in out
    assert "project-rename Session_Id = ['Session-Id'], TypeValue = Type" in out and "extend Session_Id = toguid(Session_Id)" in out
    assert "'DurationMs' stays real (the sample suggests string" in out
    assert scenario.read_text() == before  # printed, never written
    yaml.safe_load(out)  # the additions are YAML a user can paste


def test_into_with_nothing_new_and_its_errors(tmp_path):
    sample = write_rows(tmp_path / "v1.json", APP_EVENTS)
    scenario, _ = infer_to(tmp_path, sample, "--table", "AppEvents_CL")
    same = invoke("infer", sample, "--into", scenario, "--table", "AppEvents_CL")
    assert same.exit_code == 0 and "0 new field(s)" in same.stdout and "already declares every field" in same.stdout
    no_table = invoke("infer", sample, "--into", scenario)
    assert no_table.exit_code == 1 and "--into needs --table" in no_table.stderr
    wrong = invoke("infer", sample, "--into", scenario, "--table", "Other_CL")
    assert wrong.exit_code == 1 and "has no table 'Other_CL'" in wrong.stderr


def test_help_has_runnable_examples():
    result = runner.invoke(app, ["infer", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "<bool>" not in result.output
    examples = [line.strip() for line in result.output.split("Examples:", 1)[1].splitlines() if line.strip().startswith("provision ")]
    assert len(examples) == 3
    for example in examples:
        assert _parse(shlex.split(example)[1:]).name == "infer", example


def test_into_additions_pasted_into_the_scenario_validate_and_keep_every_field(tmp_path):
    # What a user does with the printed additions: add the columns to the table and the stream, append the steps.
    sample = write_rows(tmp_path / "v1.json", APP_EVENTS)
    scenario, _ = infer_to(tmp_path, sample, "--table", "AppEvents_CL")
    grown = [dict(row, Region=f"r{i}", **{"Session-Id": str(uuid.UUID(int=i + 1, version=4)), "Type": "audit", "x": i})
             for i, row in enumerate(APP_EVENTS)]
    newer = write_rows(tmp_path / "v2.json", grown)
    out = invoke("infer", newer, "--into", scenario, "--table", "AppEvents_CL").stdout
    additions = yaml.safe_load(out)
    document = yaml.safe_load(scenario.read_text())
    document["tables"]["AppEvents_CL"]["columns"].update(additions["tables"]["AppEvents_CL"]["columns"])
    (rule_name, rule), = document["rules"].items()
    (stream_name, stream), = rule["streams"].items()
    stream.update(additions["rules"][rule_name]["streams"][stream_name])
    steps = [line.removeprefix("#   ") for line in out.splitlines() if line.startswith("#   | ")]
    assert len(steps) == 2
    rule["flows"][0]["transform"] += "\n" + "\n".join(steps)
    merged = tmp_path / "merged.yaml"
    merged.write_text(yaml.safe_dump(document, sort_keys=False))
    validate_clean(merged)
    assert_nothing_dropped(grown, run_flow(merged, newer))


def test_a_time_field_whose_name_needs_quoting(tmp_path):
    rows = [{"@timestamp": "2024-05-01T10:00:00.5Z", "message": "a", "@version": "1"}]
    sample = write_rows(tmp_path / "rows.json", rows)
    scenario, report = infer_to(tmp_path, sample, "--table", "Logstash_CL")
    text = scenario.read_text()
    assert "TimeGenerated = ['@timestamp']" in text and "project-away ['@timestamp']" in text
    assert "renamed '@version' -> version" in report
    validate_clean(scenario)
    payload = run_flow(scenario, sample)
    assert payload["rows"][0]["TimeGenerated"] == "2024-05-01T10:00:00.5Z"
    assert_nothing_dropped(rows, payload)


def test_into_a_scenario_whose_stream_is_derived_from_the_table(tmp_path):
    scenario = tmp_path / "derived.yaml"
    scenario.write_text(
        "name: derived\nlocation: westeurope\n"
        "workspace: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/"
        "Microsoft.OperationalInsights/workspaces/law-local\nresource_group: rg-local\n"
        "tables:\n  X_CL:\n    columns:\n      TimeGenerated: datetime\n      Msg: string\n      Ref: guid\n"
        "rules:\n  dcr-x:\n    flows:\n      - table: X_CL\n")
    validate_clean(scenario)
    sample = write_rows(tmp_path / "rows.json", [{"TimeGenerated": "2024-05-01T10:00:00Z", "Msg": "a", "Ref": "16fd2706-8baf-433b-82eb-8c7fada847da",
                                                  "New-Field": 1}])
    result = invoke("infer", sample, "--into", scenario, "--table", "X_CL")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1 new field(s)" in out and "      New_Field: long" in out
    assert "is derived from the table: it gains these columns by itself" in out
    assert 'the sender must send "New-Field" as New_Field' in out
    assert "append to the transform" not in out and "stays" not in out  # Ref: guid in the table, GUID text in the sample


def test_into_refuses_options_it_would_not_use(tmp_path):
    sample = write_rows(tmp_path / "v1.json", APP_EVENTS)
    scenario, _ = infer_to(tmp_path, sample, "--table", "AppEvents_CL")
    result = invoke("infer", sample, "--into", scenario, "--table", "AppEvents_CL", "--out", tmp_path / "x.yaml", "--time-field", "Time")
    assert result.exit_code == 1 and "--time-field, --out cannot be used with --into" in result.stderr
    assert not (tmp_path / "x.yaml").exists()
