"""transformKql engine benchmark: parse+check time and evaluator throughput, on one core.

Run: python bench/kql.py [--records 200000] [--repeat 5]

Reports, in one run:
- parse+check of a typical transform (extend + where + project over 10 input columns, checked
  against a 10-column table): median milliseconds (target < 2 ms), and the ratio to Python's own
  ``ast.parse`` + ``compile`` of an equivalent Python expression (the baseline in the same run);
- evaluator throughput of the same transform on 10-column records (target >= 100,000 records/s),
  and the ratio to a hand-written Python function doing the same work per record (the speed
  limit for a per-record Python evaluator: same input conversions, GUID checks, numeric-string and
  datetime conversions, same output JSON form, same dropped-record reasons). The bench asserts that
  both give equal output (rows, filtered count, dropped reasons) before timing them.
"""

from __future__ import annotations

import argparse
import ast
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provision.kql import TransformRuntimeError, check_transform, compile_transform
from provision.kql.functions import to_bool, to_datetime, to_guid, to_int, to_real
from provision.kql.values import format_datetime, to_json_value, to_string

QUERY = ("source"
         " | extend TimeGenerated = todatetime(Time), Level = toint(Props.level), Message = tostring(Msg)"
         " | where Severity != 'Debug' and Count > 0"
         " | project TimeGenerated, Computer, Level, Message, Severity, Count, Ratio, Flag, RequestId = toguid(Id), Props")
INPUT = [("Time", "datetime"), ("Computer", "string"), ("Msg", "string"), ("Severity", "string"), ("Count", "int"),
         ("Ratio", "real"), ("Flag", "boolean"), ("Id", "string"), ("Props", "dynamic"), ("Extra", "string")]
TABLE = [("TimeGenerated", "dateTime"), ("Computer", "string"), ("Level", "int"), ("Message", "string"), ("Severity", "string"),
         ("Count", "int"), ("Ratio", "real"), ("Flag", "boolean"), ("RequestId", "guid"), ("Props", "dynamic")]
PY_EQUIVALENT = ("[(todatetime(r['Time']), toint(r['Props'].get('level')), tostring(r['Msg']))"
                 " for r in rows if r['Severity'] != 'Debug' and r['Count'] > 0]")


def record(i: int) -> dict:
    """A typical record; every 10th is one of the edge cases the engine converts (numeric strings, upper-case and
    braced GUIDs, bad datetimes, missing and null fields, wrong JSON types), so the equal-output check covers them."""
    rec = {"Time": f"2024-05-01T10:{i % 60:02d}:{(i * 7) % 60:02d}.123Z", "Computer": f"vm-{i % 50}", "Msg": f"request {i} done",
           "Severity": ("Debug", "Info", "Warning")[i % 3], "Count": i % 100, "Ratio": i / 7.0, "Flag": bool(i % 2),
           "Id": "74be27de-1e4e-49d9-b579-fe0b331d3642", "Props": {"level": str(i % 5), "k": "v"}, "Extra": "x"}
    if i % 10 == 9:
        rec.update(EDGES[(i // 10) % len(EDGES)])
    return rec


EDGES = [
    {"Count": "12", "Id": "74BE27DE-1E4E-49D9-B579-FE0B331D3642"},  # numeric string; upper-case GUID
    {"Id": "{74be27de-1e4e-49d9-b579-fe0b331d3642}", "Time": "2024-05-01 10:00:00"},  # braced GUID; ISO with a space
    {"Id": "not-a-guid", "Time": "yesterday", "Props": {"level": "2.5"}},  # null GUID, null datetime, real-text level
    {"Count": 3.0, "Ratio": 4, "Flag": "true", "Msg": None},  # wrong JSON types that convert
    {"Count": None, "Severity": None},  # null Count: the where drops it
    {"Props": [1, 2], "Computer": {"a": [1]}, "Extra": 5},  # dynamic/number given for string columns
    {"Time": "2024-05-01T10:00:00+02:00", "Ratio": "1e3", "Flag": 0},  # offset datetime; numeric-string real
    {"Props": "level", "Count": "x"},  # a string where an object is expected; a string that is no number
]


def _string(value):
    """A value of a string input column: non-strings convert (null is the empty string)."""
    return value if type(value) is str else ("" if value is None else to_string(value))


def hand_written(rec):
    """The same transform written directly in Python (the baseline): the same input conversions (numeric strings,
    datetimes, GUID checks), the same output JSON form, the same dropped-record reasons; the conversions are the
    engine's own value functions, so the ratio measures the evaluator, not a different conversion."""
    if type(rec) is not dict:
        raise TransformRuntimeError(f"a record must be a JSON object, got {type(rec).__name__}")
    try:
        return _hand_written(rec)
    except RecursionError:
        raise TransformRuntimeError("a dynamic value nests too deeply to convert") from None


def _hand_written(rec: dict):
    get = rec.get
    # Every input column converts to its declared type, used or not (a value that cannot convert drops the record).
    time_value = to_datetime(get("Time"))
    computer, msg, severity = _string(get("Computer")), _string(get("Msg")), _string(get("Severity"))
    count = get("Count")
    count = count if type(count) is int else to_int(count)
    ratio = get("Ratio")
    ratio = ratio if type(ratio) is float else (float(ratio) if type(ratio) is int else to_real(ratio))
    flag = get("Flag")
    flag = flag if type(flag) is bool else to_bool(flag)
    request_id, props, _extra = _string(get("Id")), get("Props"), _string(get("Extra"))
    if severity == "Debug" or count is None or count <= 0:
        return None
    level = props.get("level") if type(props) is dict else None
    level = None if level is None else to_int(level)
    return {"TimeGenerated": None if time_value is None else format_datetime(time_value), "Computer": computer, "Level": level,
            "Message": msg, "Severity": severity, "Count": count,
            "Ratio": ratio if ratio is None or math.isfinite(ratio) else to_json_value(ratio), "Flag": flag,
            "RequestId": to_guid(request_id), "Props": props if type(props) in _PLAIN else to_json_value(props)}


_PLAIN = (str, int, bool, type(None))


def hand_written_many(records):
    """``Transform.run_many`` for the baseline: (rows, filtered count, [(index, reason)])."""
    rows, filtered, dropped = [], 0, []
    for index, rec in enumerate(records):
        try:
            out = hand_written(rec)
        except TransformRuntimeError as error:
            dropped.append((index, str(error)))
            continue
        if out is None:
            filtered += 1
        else:
            rows.append(out)
    return rows, filtered, dropped


def nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def median_time(fn, repeat: int, number: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    result = check_transform(QUERY, INPUT, TABLE)
    assert result.valid, [d.format() for d in result.diagnostics]
    check_s = median_time(lambda: check_transform(QUERY, INPUT, TABLE), args.repeat, 200)
    base_s = median_time(lambda: compile(ast.parse(PY_EQUIVALENT, mode="eval"), "<q>", "eval"), args.repeat, 200)
    print(f"parse+check: {check_s * 1e3:.3f} ms per query (target < 2 ms); "
          f"Python ast.parse+compile of an equivalent expression: {base_s * 1e3:.3f} ms; ratio {check_s / base_s:.1f}x")

    records = [record(i) for i in range(args.records)]
    transform = compile_transform(QUERY, INPUT)
    assert transform.run(records[1]) is not None
    # Equal output, not just the same records kept: every row, the filtered count and each dropped record's reason
    # (records that are not objects, and values nested too deeply to convert, are dropped).
    checked = records[:5000] + [[1], "text", None, {**records[1], "Props": nested(5000)}, {**records[1], "Extra": nested(5000)}]
    ours, theirs = transform.run_many(checked), hand_written_many(checked)
    assert ours == theirs, next((i, a, b) for i, (a, b) in enumerate(zip(ours[0], theirs[0])) if a != b) if ours[0] != theirs[0] \
        else (ours[1:], theirs[1:])
    assert ours[1] > 0 and len(ours[2]) == 5, "the check covers filtered and dropped records"
    run = transform.run
    samples, base = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for rec in records:
            run(rec)
        samples.append(len(records) / (time.perf_counter() - start))
        start = time.perf_counter()
        for rec in records:
            hand_written(rec)
        base.append(len(records) / (time.perf_counter() - start))
    ours, theirs = statistics.median(samples), statistics.median(base)
    print(f"evaluator: {ours:,.0f} records/s on one core (target >= 100,000); hand-written Python: {theirs:,.0f} records/s; "
          f"ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
