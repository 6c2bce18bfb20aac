"""``provision infer`` benchmark: the time to infer a scenario from 100,000 sample rows, on one core.

Run: python bench/infer.py [--rows 100000] [--repeat 3]

Rows are application events shaped like real senders' (12 fields: an ISO 8601 time with and
without offset, a GUID, strings, long and real numbers, a boolean, a nested object, an array, two
sparse fields), written once as JSON lines. Reports, in one run, the median of ``--repeat``:

- infer: what ``provision infer FILE`` does after reading the file (``read_samples`` + ``collect`` +
  ``infer`` + ``render_scenario``), in seconds and rows per second;
- baseline 1, JSON parsing alone: the same text decoded row by row with ``json.loads`` (the part
  no inference can skip); infer's ratio to it says what inference adds on top of parsing;
- baseline 2, parsing plus the cheapest per-value walk: ``json.loads`` and ``type(value)`` counted
  per field (what any per-value inference in Python must at least do); the ratio to it says what
  infer's own rules (datetime and GUID recognition with the engine's parsers) cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provision import infer as inference


def row(i: int) -> dict:
    record = {
        "Time": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z" if i % 3
        else f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+02:00",
        "EventId": str(uuid.UUID(int=i * 7919 + 1, version=4)),
        "Computer": f"web-{i % 50:02d}",
        "Level": ("Information", "Warning", "Error")[i % 3],
        "Message": f"request {i} served in {i % 997} ms",
        "DurationMs": i % 997 if i % 5 else (i % 997) + 0.25,
        "Bytes": i * 13,
        "Success": bool(i % 7),
        "Properties": {"route": f"/api/orders/{i % 100}", "status": 200 + i % 5, "user": {"id": i % 1000, "roles": ["reader"]}},
        "Tags": ["web", f"shard-{i % 8}"],
    }
    if i % 10 == 0:
        record["ErrorCode"] = f"E{i % 17:03d}"
    if i % 4 == 0:
        record["RetryCount"] = i % 3
    return record


def baseline_parse(text: str) -> int:
    loads = json.loads
    return sum(1 for line in text.splitlines() if line and loads(line) is not None)


def baseline_walk(text: str) -> int:
    counts: dict[tuple[str, type], int] = {}
    loads = json.loads
    for line in text.splitlines():
        if not line:
            continue
        for name, value in loads(line).items():
            key = (name, type(value))
            counts[key] = counts.get(key, 0) + 1
    return len(counts)


def run_infer(text: str) -> str:
    sample = inference.collect(inference.read_samples(text, "bench.jsonl"))
    result = inference.infer(sample, "BenchEvents_CL", source="bench.jsonl")
    return inference.render_scenario(result, "bench.jsonl")


def timed(fn, text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        path.write_text("".join(json.dumps(row(i)) + "\n" for i in range(args.rows)), encoding="utf-8")
        text = path.read_text(encoding="utf-8")
    scenario = run_infer(text)  # warm up, and show what was inferred
    table = scenario.split("    columns:\n", 1)[1].split("\n\n", 1)[0]
    columns = [line.strip() for line in table.splitlines()]
    t_infer = timed(run_infer, text, args.repeat)
    t_parse = timed(baseline_parse, text, args.repeat)
    t_walk = timed(baseline_walk, text, args.repeat)
    print(f"rows: {args.rows:,} ({len(text) / 1e6:.1f} MB of JSON lines), median of {args.repeat}")
    print(f"inferred columns: {len(columns)}: " + "; ".join(c.split("  #")[0] for c in columns))
    print(f"infer:                      {t_infer:7.3f} s  ({args.rows / t_infer:,.0f} rows/s)")
    print(f"baseline json.loads alone:  {t_parse:7.3f} s  -> infer / parse = {t_infer / t_parse:.2f}x")
    print(f"baseline loads + type walk: {t_walk:7.3f} s  -> infer / walk  = {t_infer / t_walk:.2f}x")


if __name__ == "__main__":
    main()
