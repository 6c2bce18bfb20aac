"""Apply benchmark: generated scenarios (default 50 tables + 10 DCRs and 200 tables + 40 DCRs, one publisher)
against the emulator with Azure-like latencies (GET 50 ms, PUT 300 ms, table long-running operation 3 s),
set through the emulator's latency knobs (knobs.Latency, by operation name).

Run: python bench/apply.py [--sizes 50x10 200x40] [--parallelism default 8 32] [--lro 3] [--get 0.05] [--put 0.3]

Before anything is timed, a one-table apply warms up the process (SDK imports, client construction, TLS,
the token), so the first measured case pays nothing the others do not. Every case gets its own fresh state
folder (a counter, not the parallelism value: repeating a value would otherwise time a no-op).

Reports, per size and --parallelism value (``default``: apply's own default), in one run:
- apply wall time (plan's reads + apply + verification) as a ratio to the critical path, the longest chain
  of dependent calls, computed from the same latencies:
    Graph lookup GET -> live GET -> table PUT -> LRO -> status GET -> final GET -> DCR PUT
    -> role-assignment PUT -> verification GET
  (issue 13's goal: <= 1.2 at default settings, at 50 and at 200 tables);
- the calls the emulator answered against the minimum needed: one read per resource kind and scope
  (Graph, workspace, tables list, DCR list, role-assignment list), every write once, one status poll and
  one final GET per table LRO (the 202 carries Retry-After), no verification GET (PUT responses carry it);
- a repeated plan + apply of the same scenario (a no-op): its reads (goal: <= 10) and writes (goal: 0);
- client CPU per ARM call (this thread's CPU time over sequential GETs at zero latency) through provision.live,
  and through the SDK's generated get (how live.py read before), against a bare urllib3 GET with a cached token
  (the issue's 0.36 ms anchor).
Token calls (Entra ID) are excluded from the counts: the credential caches them.

The emulator runs in a child process: in this one it would share the client's GIL, so its own CPU (TLS, routing,
SQLite) would be counted against apply, which against Azure it is not.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provision.apply import apply_plan
from provision.azure import connect
from provision.emulator import Emulator, seed
from provision.emulator.routes import ROUTES
from provision.live import get_resource
from provision.pipeline import plan_scenario
from provision.resources import Kind
from provision.scenario import require_valid

COLUMNS = {"TimeGenerated": "datetime", "RequestId": "string", "Host": "string", "Status": "int",
           "DurationMs": "real", "Props": "dynamic"}
_FRESH = itertools.count()


def scenario_yaml(tables: int, rules: int) -> str:
    lines = ["name: bench", "location: westeurope", f"workspace: {seed.WORKSPACE_ID}",
             f"resource_group: {seed.RESOURCE_GROUP}", "tables:"]
    names = [f"Bench{i:03d}_CL" for i in range(tables)]
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


def counted(calls) -> Counter:
    return Counter(c.operation for c in calls if c.operation not in ("Token", "OpenIdConfiguration"))


def reads_of(calls) -> int:
    return sum(1 for c in calls if c.method == "GET" and c.operation not in ("Token", "OpenIdConfiguration"))


def _serve(state: str, latency: dict, lro: float, conn) -> None:
    """Child process: an emulator answering until told to stop; its call log on request."""
    with Emulator(state, latency=latency, lro_seconds=lro) as emu:
        conn.send(emu.env())
        while True:
            command = conn.recv()
            if command == "calls":
                conn.send([(c.method, c.path, c.status, c.operation) for c in list(emu.calls)])
            elif command == "clear":
                emu.calls.clear()
                conn.send(None)
            else:
                break


class Call(tuple):
    method = property(lambda self: self[0])
    operation = property(lambda self: self[3])


class RemoteEmulator:
    """The emulator in a child process, with the call log of the in-process one (``calls``, ``clear``)."""

    def __init__(self, state: Path, latency: dict | None = None, lro: float = 0.0):
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(str(state), latency or {}, lro, child), daemon=True)

    def __enter__(self) -> Self:
        self._process.start()
        self.env = self._conn.recv()
        return self

    def __exit__(self, *exc) -> None:
        self._conn.send("stop")
        self._process.join(10)

    @property
    def calls(self) -> list[Call]:
        self._conn.send("calls")
        return [Call(c) for c in self._conn.recv()]

    def clear(self) -> None:
        self._conn.send("clear")
        self._conn.recv()

    def write_calls(self) -> list[Call]:
        return [c for c in self.calls if c.method in ("PUT", "PATCH", "DELETE") and c.operation != "Unknown"]


def run(tables: int, rules: int, parallelism: int | None, args, workdir: Path) -> dict:
    case = workdir / f"case-{next(_FRESH)}"  # fresh state: never a no-op left by an earlier case
    case.mkdir()
    path = case / "bench.yaml"
    path.write_text(scenario_yaml(tables, rules))
    extra = {} if parallelism is None else {"parallelism": parallelism}
    with (RemoteEmulator(case / "state", latencies(args.get, args.put), args.lro) as emu,
          connect("local", environ=emu.env) as session):
        scenario = require_valid(str(path), environ=session.environ)
        publishers = len(scenario.publishers)
        session.warm_up()  # the token: the credential's cache is per session
        emu.clear()
        start, cpu = time.perf_counter(), time.process_time()
        _, _, plan = plan_scenario(session, scenario, **extra)
        apply_plan(session, plan, **extra)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        first = counted(emu.calls)

        emu.clear()
        start = time.perf_counter()
        _, _, again = plan_scenario(session, scenario, **extra)
        if again.has_changes:
            apply_plan(session, again, **extra)
        repeat_wall = time.perf_counter() - start
        repeat_writes = len(emu.write_calls())
        repeat_reads = reads_of(emu.calls)
    assignments = rules * publishers
    minimum = 5 + (tables + rules + assignments) + 2 * tables
    return {"wall": wall, "cpu": cpu, "first": first, "minimum": minimum, "repeat_wall": repeat_wall,
            "repeat_writes": repeat_writes, "repeat_reads": repeat_reads, "changes": len(plan.pending)}


def warm_up(workdir: Path) -> None:
    """One untimed one-table apply: imports, client construction, TLS set-up and the first token."""
    path = workdir / "warm.yaml"
    path.write_text(scenario_yaml(1, 1))
    with RemoteEmulator(workdir / "warm-state") as emu, connect("local", environ=emu.env) as session:
        _, _, plan = plan_scenario(session, require_valid(str(path), environ=session.environ))
        apply_plan(session, plan)


def client_cpu(workdir: Path, calls: int) -> tuple[float, float, float]:
    """(ms of this thread's CPU per GET through provision.live, through the SDK's generated ``get`` with
    ``cls=raw_json`` as live.py read before issue 13, and per bare urllib3 GET with a cached token)."""
    import urllib3

    from provision.live import raw_json
    from provision.resources import ResourceId

    path = workdir / "cpu.yaml"
    path.write_text(scenario_yaml(1, 1))
    with RemoteEmulator(workdir / "cpu-state") as emu, connect("local", environ=emu.env) as session:
        _, _, plan = plan_scenario(session, require_valid(str(path), environ=session.environ))
        apply_plan(session, plan)
        table = next(c.id for c in plan.changes if c.kind == Kind.TABLE)
        for _ in range(20):
            get_resource(session, Kind.TABLE, table)
        start = time.thread_time()
        for _ in range(calls):
            get_resource(session, Kind.TABLE, table)
        ours = (time.thread_time() - start) / calls * 1000
        p = ResourceId.parse(table)
        tables = session.loganalytics(p.subscription).tables
        for _ in range(20):
            tables.get(p.resource_group, p.parent, p.name, cls=raw_json)
        start = time.thread_time()
        for _ in range(calls):
            tables.get(p.resource_group, p.parent, p.name, cls=raw_json)
        sdk = (time.thread_time() - start) / calls * 1000
        token = session.credential.get_token(session.cloud.arm_scope).token
        pool = urllib3.PoolManager(ca_certs=str(session.verify))
        url = f"{session.base_url.rstrip('/')}{table}?api-version=2022-10-01"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        for _ in range(20):
            pool.request("GET", url, headers=headers).json()
        start = time.thread_time()
        for _ in range(calls):
            pool.request("GET", url, headers=headers).json()
        bare = (time.thread_time() - start) / calls * 1000
    return ours, sdk, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["50x10", "200x40"], help="TABLESxDCRS")
    parser.add_argument("--parallelism", nargs="+", default=["default", "8", "32"],
                        help="values to measure; 'default' is apply's own default")
    parser.add_argument("--lro", type=float, default=3.0)
    parser.add_argument("--get", type=float, default=0.05)
    parser.add_argument("--put", type=float, default=0.3)
    parser.add_argument("--cpu-calls", type=int, default=300, help="GETs timed for client CPU per call (0: skip)")
    args = parser.parse_args()
    cp = critical_path(args.get, args.put, args.lro)
    print(f"latency GET {args.get * 1000:.0f} ms, PUT {args.put * 1000:.0f} ms, table LRO {args.lro:.1f} s; "
          f"critical path {cp:.2f} s; 1 publisher")
    with tempfile.TemporaryDirectory(prefix="provision-bench-") as tmp:
        warm_up(Path(tmp))
        if args.cpu_calls:
            ours, sdk, bare = client_cpu(Path(tmp), args.cpu_calls)
            print(f"client CPU per ARM GET  {ours:.2f} ms (goal <= 1 ms) = {ours / bare:.1f}x bare urllib3 ({bare:.2f} ms); "
                  f"the SDK's get with cls=raw_json {sdk:.2f} ms = {sdk / bare:.1f}x")
        for size in args.sizes:
            tables, rules = (int(n) for n in size.lower().split("x"))
            for value in args.parallelism:
                parallelism = None if value == "default" else int(value)
                r = run(tables, rules, parallelism, args, Path(tmp))
                made = sum(r["first"].values())
                polls = r["first"].get("OperationStatuses_Get", 0)
                print(f"\n{tables} tables + {rules} DCRs, --parallelism {value}: {r['changes']} changes")
                print(f"  apply wall time        {r['wall']:.2f} s = {r['wall'] / cp:.2f} x critical path (goal <= 1.2); "
                      f"client CPU {r['cpu']:.2f} s")
                print(f"  calls made             {made} vs minimum {r['minimum']} ({made / r['minimum']:.2f} x); "
                      f"of which LRO status polls {polls} (minimum {tables})")
                print("  by operation           " + ", ".join(f"{k} {v}" for k, v in sorted(r["first"].items())))
                print(f"  no-op plan + apply     {r['repeat_reads']} reads (goal <= 10), {r['repeat_writes']} writes "
                      f"(goal 0), {r['repeat_wall']:.2f} s")


if __name__ == "__main__":
    main()
