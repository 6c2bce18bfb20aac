"""transformKql engine benchmark: parse+check time and evaluator throughput, on one core.

Run: python bench/kql.py [--records 200000] [--repeat 5]

Reports, in one run:
- parse+check of a typical transform (extend + where + project over 10 input columns, checked
  against a 10-column table): median milliseconds (target < 2 ms), and the ratio to Python's own
  ``ast.parse`` + ``compile`` of an equivalent Python expression (the baseline in the same run);
- evaluator throughput of the same transform on 10-column records (target >= 100,000 records/s),
  and the ratio to a hand-written Python function doing the same work per record (the speed
  limit for a per-record Python evaluator: same input conversion, same output JSON form).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provision.kql import check_transform, compile_transform

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
    return {"Time": f"2024-05-01T10:{i % 60:02d}:{(i * 7) % 60:02d}.123Z", "Computer": f"vm-{i % 50}", "Msg": f"request {i} done",
            "Severity": ("Debug", "Info", "Warning")[i % 3], "Count": i % 100, "Ratio": i / 7.0, "Flag": bool(i % 2),
            "Id": "74be27de-1e4e-49d9-b579-fe0b331d3642", "Props": {"level": str(i % 5), "k": "v"}, "Extra": "x"}


def hand_written(rec: dict):
    """The same transform written directly in Python (the baseline)."""
    time_value = dt.datetime.fromisoformat(rec["Time"]).replace(tzinfo=None)
    props = rec.get("Props")
    severity, count = rec.get("Severity") or "", rec.get("Count")
    if not (severity != "Debug" and count is not None and count > 0):
        return None
    level = props.get("level") if type(props) is dict else None
    try:
        level = int(level) if level is not None else None
    except ValueError:
        level = None
    return {"TimeGenerated": time_value.isoformat() + "Z", "Computer": rec.get("Computer") or "", "Level": level,
            "Message": rec.get("Msg") or "", "Severity": severity, "Count": count, "Ratio": float(rec["Ratio"]),
            "Flag": rec["Flag"], "RequestId": str(rec["Id"]).lower(), "Props": props}


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
    for a, b in zip(records[:300], records[:300]):
        mine, theirs = transform.run(a), hand_written(b)
        assert (mine is None) == (theirs is None)
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
