"""Apply benchmark: a generated scenario of 50 tables and 10 DCRs (with a publisher) against the emulator
with Azure-like latencies (GET 50 ms, PUT 300 ms, table long-running operation 3 s).

Run: python bench/apply.py [--tables 50] [--rules 10] [--parallelism 8 16 32] [--lro 3] [--get 0.05] [--put 0.3]

Reports, per --parallelism value, in one run:
- apply wall time (plan's reads + apply + verification) as a ratio to the critical path,
  the longest chain of dependent calls, computed from the same latencies:
    Graph lookup GET -> live GETs -> table PUT -> LRO -> status GET -> final GET -> DCR PUT
    -> role-assignment PUT -> verification GET
  (target: <= 1.3; the critical path assumes unlimited parallelism, so a bound on requests
  in flight adds (tables / parallelism) x PUT latency to the achievable time);
- the calls the emulator answered against the minimum needed (every read once, every write
  once, two status polls and one final GET per table LRO (azure-core polls once right after the 202,
  then after the Retry-After the emulator sends), one verification GET per DCR and
  role assignment);
- the bound with at most --parallelism requests in flight, and the wall time against it;
- a repeated apply: its write calls (target 0) and wall time.
Token calls (Entra ID) are excluded: the credential caches them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import Emulator, seed
from provision.emulator.routes import ROUTES
from provision.pipeline import plan_scenario
from provision.scenario import require_valid

COLUMNS = {"TimeGenerated": "datetime", "RequestId": "string", "Host": "string", "Status": "int",
           "DurationMs": "real", "Props": "dynamic"}


def scenario_yaml(tables: int, rules: int) -> str:
    lines = ["name: bench", "location: westeurope", f"workspace: {seed.WORKSPACE_ID}",
             f"resource_group: {seed.RESOURCE_GROUP}", "tables:"]
    names = [f"Bench{i:02d}_CL" for i in range(tables)]
    for name in names:
        lines.append(f"  {name}:")
        lines.append("    columns:")
        lines += [f"      {c}: {t}" for c, t in COLUMNS.items()]
    lines.append("rules:")
    per_rule = -(-tables // rules)
    for r in range(rules):
        lines.append(f"  dcr-bench-{r:02d}:")
        lines.append("    flows:")
        lines += [f"      - table: {n}" for n in names[r * per_rule:(r + 1) * per_rule]]
    lines += ["publishers:", f"  - app_id: {seed.SENDER_APP_ID}"]
    return "\n".join(lines) + "\n"


def latencies(get: float, put: float) -> dict[str, float]:
    spec = {}
    for route in ROUTES:
        if route.group in ("arm", "graph"):
            spec[route.operation] = put if set(route.methods) & {"PUT", "PATCH", "DELETE"} else get
    return spec


def critical_path(get: float, put: float, lro: float) -> float:
    return 5 * get + 3 * put + lro


def parallel_bound(get: float, put: float, lro: float, tables: int, reads: int, parallelism: int) -> float:
    """The best wall time with at most ``parallelism`` requests in flight: the reads and the table
    PUTs queue behind the bound; the rest of the chain is the critical path's."""
    return critical_path(get, put, lro) + (-(-reads // parallelism) - 1) * get + (-(-tables // parallelism) - 1) * put


def counted(calls) -> Counter:
    return Counter(c.operation for c in calls if c.operation not in ("Token", "OpenIdConfiguration"))


def run(parallelism: int, args, workdir: Path) -> dict:
    path = workdir / "bench.yaml"
    path.write_text(scenario_yaml(args.tables, args.rules))
    state = workdir / f"state-{parallelism}"
    emu = Emulator(state, latency=latencies(args.get, args.put), lro_seconds=args.lro).start()
    try:
        with connect("local", emulator=emu) as session:
            scenario = require_valid(str(path), environ=session.environ)
            publishers = len(scenario.publishers)
            emu.calls.clear()
            start = time.perf_counter()
            _, _, plan = plan_scenario(session, scenario, parallelism=parallelism)
            apply_plan(session, plan, parallelism=parallelism)
            wall = time.perf_counter() - start
            first = counted(emu.calls)

            emu.calls.clear()
            start = time.perf_counter()
            _, _, again = plan_scenario(session, scenario, parallelism=parallelism)
            if again.has_changes:
                apply_plan(session, again, parallelism=parallelism)
            repeat_wall = time.perf_counter() - start
            repeat_writes = len(emu.write_calls())
    finally:
        emu.stop()
    tables, rules, assignments = args.tables, args.rules, args.rules * publishers
    minimum = (1 + 1 + tables + rules) + (tables + rules + assignments) + 3 * tables + (rules + assignments)
    return {"wall": wall, "first": first, "minimum": minimum, "repeat_wall": repeat_wall,
            "repeat_writes": repeat_writes, "changes": len(plan.pending)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--lro", type=float, default=3.0)
    parser.add_argument("--get", type=float, default=0.05)
    parser.add_argument("--put", type=float, default=0.3)
    args = parser.parse_args()
    cp = critical_path(args.get, args.put, args.lro)
    print(f"scenario: {args.tables} tables, {args.rules} DCRs, 1 publisher; latency GET {args.get * 1000:.0f} ms, "
          f"PUT {args.put * 1000:.0f} ms, table LRO {args.lro:.1f} s; critical path {cp:.2f} s")
    with tempfile.TemporaryDirectory(prefix="provision-bench-") as tmp:
        for parallelism in args.parallelism:
            r = run(parallelism, args, Path(tmp))
            made = sum(r["first"].values())
            polls = r["first"].get("OperationStatuses_Get", 0)
            print(f"\n--parallelism {parallelism}: {r['changes']} changes")
            bound = parallel_bound(args.get, args.put, args.lro, args.tables, 2 + args.tables + args.rules, parallelism)
            print(f"  apply wall time        {r['wall']:.2f} s = {r['wall'] / cp:.2f} x critical path (target <= 1.3)")
            print(f"  bound at parallelism   {bound:.2f} s (queueing {args.tables} table PUTs {parallelism} at a time); "
                  f"wall = {r['wall'] / bound:.2f} x that bound")
            print(f"  calls made             {made} vs minimum {r['minimum']} ({made / r['minimum']:.2f} x); "
                  f"of which LRO status polls {polls} (minimum {2 * args.tables})")
            print("  by operation           " + ", ".join(f"{k} {v}" for k, v in sorted(r["first"].items())))
            print(f"  repeated apply         {r['repeat_writes']} write calls (target 0), {r['repeat_wall']:.2f} s "
                  f"= {r['repeat_wall'] / cp:.2f} x critical path")


if __name__ == "__main__":
    main()
