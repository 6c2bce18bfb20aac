"""Benchmark the local Azure emulator: start-up time, ingestion throughput, peak memory.

Run: .venv/bin/python bench/emulator.py [--rows N] [--in-process]

- start-up: ``Emulator().start()`` on a fresh state dir (CA generated) and on an
  existing one (CA reused), in this process.
- ingestion: rows of JSON (about 330 bytes each) uploaded with the official
  ``LogsIngestionClient`` (1 MiB chunks, gzip, sequential) through a ``source``
  flow into a custom table, the emulator running as ``provision emulator serve``
  in a second process (as users run it) unless ``--in-process``. MB/s counts the
  uncompressed JSON. Target: >= 33 MB/s, Azure's own per-DCR limit of 2 GB/min
  (azure-contract.md §8).
- baseline in the same run: the client-side work alone (``json.dumps`` + gzip of
  the same chunks, what the SDK does before each POST); the ratio says how much
  of the end-to-end time the emulator adds.
- the emulator alone: ``Backend.Ingest_Upload`` on pre-built chunks (no HTTP, no client), against the
  least any server must do (gunzip + ``json.loads``) as the baseline.
- peak memory: VmHWM of the server process and of this (client) process; CPU per MB of each, so the
  official client's own cost shows apart from the server's.
- server CPU per MB (first, and alone with ``--raw-only``): the server process fed by raw HTTPS senders
  posting pre-built gzip bodies (no SDK, no client-side JSON or gzip while timing), for a ``source`` flow
  and a transform flow (``where`` + ``strcat``); MB/s per CPU-second is the one-core rate to compare with
  Azure's 33 MB/s per DCR. Baseline in the same run: gunzip + ``json.loads`` of the same bodies.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_MB_S = 2 * 1000 / 60  # 2 GB/min per DCR = 33.3 MB/s


def _vm_hwm_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def bench_startup(repeats: int = 5) -> tuple[float, float]:
    from provision.emulator import Emulator

    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as state:
            start = time.perf_counter()
            emu = Emulator(state).start()
            cold.append(time.perf_counter() - start)
            emu.stop()
            start = time.perf_counter()
            emu = Emulator(state).start()
            warm.append(time.perf_counter() - start)
            emu.stop()
    return min(cold), min(warm)


def _rows(count: int) -> list[dict]:
    return [{"TimeGenerated": "2026-01-01T00:00:00.000000Z", "RequestId": f"{i:08d}-0000-4000-8000-000000000000",
             "Message": f"order {i} accepted for processing by the checkout service in region westeurope", "Level": i % 5,
             "Amount": i * 1.25, "Props": {"customer": f"c{i % 977}", "items": i % 7, "tags": ["web", "eu"]}}
            for i in range(count)]


def _baseline_seconds(rows: list[dict]) -> float:
    """The SDK's own per-chunk work (sdk-notes.md §4.5): split at 1 MiB of records, json.dumps, gzip."""
    start = time.perf_counter()
    chunk, size = [], 0
    for row in rows:
        item = len(json.dumps(row).encode())
        if size + item > 1024 * 1024 and chunk:
            zlib.compressobj(wbits=16 + zlib.MAX_WBITS).compress(json.dumps(chunk).encode())
            chunk, size = [], 0
        chunk.append(row)
        size += item
    if chunk:
        zlib.compressobj(wbits=16 + zlib.MAX_WBITS).compress(json.dumps(chunk).encode())
    return time.perf_counter() - start


def _serve(state: Path) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(state)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    env = {}
    while "REQUESTS_CA_BUNDLE" not in env:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("emulator did not start")
        key, _, value = line.strip().partition("=")
        env[key] = value
    return process, env


def bench_ingestion(count: int, in_process: bool, senders: int = 1) -> dict:
    from tests.emulator_fixtures import AzureClients
    from tests.emulator_helpers import deploy

    class _Target:
        def __init__(self, url, ca):
            self.url, self.ca_path = url, Path(ca)

    rows = _rows(count)
    json_bytes = sum(len(json.dumps(r)) for r in rows)
    baseline = _baseline_seconds(rows)
    with tempfile.TemporaryDirectory() as state:
        process = emu = None
        if in_process:
            from provision.emulator import Emulator

            emu = Emulator(state).start()
            target = emu
        else:
            process, env = _serve(Path(state))
            target = _Target(env["PROVISION_LOCAL_URL"], env["REQUESTS_CA_BUNDLE"])
        try:
            azure = AzureClients(target)
            rule = deploy(azure, columns=(("RequestId", "string"), ("Message", "string"), ("Level", "int"), ("Amount", "real"),
                                          ("Props", "dynamic")),
                          body=_dcr(target))
            clients = [azure.ingestion(rule.endpoints.logs_ingestion) for _ in range(senders)]
            for client in clients:  # token and connection set up before timing
                client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=rows[:10])
            shares = [rows[i::senders] for i in range(senders)]
            server_cpu = _cpu_seconds(process.pid) if process else 0.0
            client_cpu = time.process_time()
            start = time.perf_counter()
            if senders == 1:
                clients[0].upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=rows)
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(senders) as pool:
                    list(pool.map(lambda pair: pair[0].upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp",
                                                              logs=pair[1]), zip(clients, shares)))
            elapsed = time.perf_counter() - start
            client_cpu = time.process_time() - client_cpu
            server_cpu = _cpu_seconds(process.pid) - server_cpu if process else 0.0
            server_hwm = _vm_hwm_kb(process.pid) if process else 0
        finally:
            if process:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
            if emu:
                emu.stop()
        stored = _count_rows(Path(state))
    return {"senders": senders, "rows": count, "json_mb": json_bytes / 1e6, "seconds": elapsed, "mb_s": json_bytes / 1e6 / elapsed,
            "rows_s": count / elapsed, "baseline_s": baseline, "stored": stored - 10 * senders,
            "server_hwm_mb": server_hwm / 1024, "client_cpu_ms_mb": client_cpu * 1000 / (json_bytes / 1e6),
            "server_cpu_ms_mb": server_cpu * 1000 / (json_bytes / 1e6)}


def _chunks(rows: list[dict]) -> list[bytes]:
    """The gzip bodies the SDK would send (1 MiB of records per chunk, sdk-notes.md §4.5)."""
    out, chunk, size = [], [], 0
    for row in rows:
        item = len(json.dumps(row).encode())
        if size + item > 1024 * 1024 and chunk:
            out.append(gzip.compress(json.dumps(chunk).encode()))
            chunk, size = [], 0
        chunk.append(row)
        size += item
    if chunk:
        out.append(gzip.compress(json.dumps(chunk).encode()))
    return out


def bench_server_only(count: int) -> dict:
    """The emulator's own cost per request, no HTTP and no client: Backend.Ingest_Upload on pre-built gzip chunks.

    Baseline in the same run: gunzip + json.loads of the same chunks (the least any server must do).
    """
    from provision.emulator import Emulator, seed
    from provision.emulator.base import Request
    from tests.emulator_fixtures import AzureClients
    from tests.emulator_helpers import deploy

    rows = _rows(count)
    json_mb = sum(len(json.dumps(r)) for r in rows) / 1e6
    chunks = _chunks(rows)
    start = time.perf_counter()
    for body in chunks:
        json.loads(zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(body))
    baseline = time.perf_counter() - start
    with Emulator() as emu:
        rule = deploy(AzureClients(emu), columns=(("RequestId", "string"), ("Message", "string"), ("Level", "int"),
                                                  ("Amount", "real"), ("Props", "dynamic")), body=_dcr(emu))
        token = emu.issue_token(seed.SENDER_APP_ID, "https://monitor.azure.com")
        headers = {"authorization": f"Bearer {token}", "content-encoding": "gzip"}
        start = time.perf_counter()
        for body in chunks:
            request = Request("POST", "/", {"api-version": "2023-01-01"}, headers, body)
            response = emu.backend.Ingest_Upload(request, "dcr", rule.immutable_id, rule.immutable_id, "Custom-MyApp")
            assert response.status == 204, response.status
        elapsed = time.perf_counter() - start
        assert len(emu.rows("MyApp_CL")) == count
    return {"json_mb": json_mb, "seconds": elapsed, "mb_s": json_mb / elapsed, "baseline_s": baseline, "chunks": len(chunks)}


TRANSFORM = 'source | where Level != 4 | extend Message = strcat("[", Level, "] ", Message)'
COLUMNS = (("RequestId", "string"), ("Message", "string"), ("Level", "int"), ("Amount", "real"), ("Props", "dynamic"))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (/proc/<pid>/stat fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _raw_send(url: str, token: str, ca: str, bodies: list[bytes], senders: int) -> None:
    """POST pre-built gzip bodies over keep-alive HTTPS connections (``senders`` threads), as a lean client would."""
    import http.client
    import ssl
    import urllib.parse
    from concurrent.futures import ThreadPoolExecutor

    parts = urllib.parse.urlsplit(url)
    context = ssl.create_default_context(cafile=ca)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"}
    path = f"{parts.path}?{parts.query}"

    def send(share: list[bytes]) -> None:
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context)
        try:
            for body in share:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 204:
                    raise RuntimeError(f"ingestion answered {response.status}")
        finally:
            connection.close()

    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(send, [bodies[i::senders] for i in range(senders)]))


def bench_raw_http(count: int, senders: int = 2) -> dict:
    """Server CPU per MB of JSON for a ``source`` flow and a transform flow (``where`` + ``strcat``), the emulator in
    its own process (``provision emulator serve``) fed by raw HTTPS senders posting pre-built gzip bodies, so the
    figure holds no client cost (the client's JSON and gzip work happens before timing). Baseline in the same run:
    gunzip + ``json.loads`` of the same bodies in this process (the least any server must do per MB)."""
    from tests.emulator_fixtures import AzureClients
    from tests.emulator_helpers import create_dcr, create_table, dcr_body, grant_sender

    class _Target:
        def __init__(self, url, ca):
            self.url, self.ca_path = url, Path(ca)

    rows = _rows(count)
    json_mb = sum(len(json.dumps(r)) for r in rows) / 1e6
    bodies = _chunks(rows)
    start = time.process_time()
    for body in bodies:
        json.loads(zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(body))
    baseline = time.process_time() - start
    out = {"json_mb": json_mb, "chunks": len(bodies), "baseline_ms_mb": baseline * 1000 / json_mb, "senders": senders}
    columns = [("TimeGenerated", "datetime"), *COLUMNS]
    with tempfile.TemporaryDirectory() as state:
        process, env = _serve(Path(state))
        try:
            target = _Target(env["PROVISION_LOCAL_URL"], env["REQUESTS_CA_BUNDLE"])
            azure = AzureClients(target)
            create_table(azure, "MyApp_CL", *COLUMNS)
            token = azure.credential("sender").get_token("https://monitor.azure.com/.default").token
            for label, transform in (("source", "source"), ("transform", TRANSFORM)):
                rule = create_dcr(azure, f"dcr-{label}", dcr_body(columns=columns, transform=transform))
                grant_sender(azure, rule.id)
                url = (f"{rule.endpoints.logs_ingestion}/dataCollectionRules/{rule.immutable_id}/streams/Custom-MyApp"
                       "?api-version=2023-01-01")
                _raw_send(url, token, target.ca_path, bodies[:1], 1)  # rule compiled, connection path warm
                cpu, wall = _cpu_seconds(process.pid), time.perf_counter()
                _raw_send(url, token, target.ca_path, bodies, senders)
                wall, cpu = time.perf_counter() - wall, _cpu_seconds(process.pid) - cpu
                out[label] = {"cpu_ms_mb": cpu * 1000 / json_mb, "mb_per_cpu_s": json_mb / cpu, "wall_mb_s": json_mb / wall}
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        stored = _count_rows(Path(state))
    # Every row of the source flow, those the transform's where keeps, and the same of the warm-up body.
    warm = json.loads(gzip.decompress(bodies[0]))
    expected = len(rows) + len(warm) + sum(1 for r in rows + warm if r["Level"] != 4)
    assert stored == expected, (stored, expected)
    return out


def bench_lookups(assignments: int = 500, endpoints: int = 50, seconds: float = 2.0) -> dict:
    """Ingestion requests per second (one small row, through a DCE, no HTTP) with ``assignments`` role assignments
    of other principals and ``endpoints`` DCEs stored, against none: the hot path should not depend on them."""
    import uuid

    from provision.emulator import Emulator, dcr, rbac, seed
    from provision.emulator.base import Request
    from tests.emulator_fixtures import AzureClients
    from tests.emulator_helpers import RG, create_dcr, create_table, dcr_body, grant_sender

    def rate(emu, immutable_id: str, dce_key: str, token: str) -> float:
        body = gzip.compress(json.dumps([{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "m"}]).encode())
        headers = {"authorization": f"Bearer {token}", "content-encoding": "gzip"}
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            response = emu.backend.Ingest_Upload(Request("POST", "/", {"api-version": "2023-01-01"}, headers, body),
                                                 "dce", dce_key, immutable_id, "Custom-MyApp")
            assert response.status == 204, response.status
            done += 1
        return done / (time.perf_counter() - start)

    out = {}
    for label, (n_ra, n_dce) in (("empty", (0, 0)), ("loaded", (assignments, endpoints))):
        with Emulator() as emu:
            azure = AzureClients(emu)
            create_table(azure)
            dce = azure.monitor().data_collection_endpoints.create(RG, "dce-bench", json.dumps({"location": seed.LOCATION}).encode())
            rule = create_dcr(azure, "dcr-bench", dcr_body(kind="Linux", dataCollectionEndpointId=dce.id))
            grant_sender(azure, rule.id)
            scope = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}"
            for _ in range(n_ra):  # other principals' assignments (written directly: the directory knows only seeded ones)
                name = str(uuid.uuid4())
                emu.backend.store.put(rbac.assignment_id(scope, name), rbac.RA_TYPE, rbac.public_assignment_body(
                    scope, name, {"roleDefinitionId": f"{scope}/providers/{rbac.RD_TYPE}/{seed.MONITORING_METRICS_PUBLISHER_ROLE_ID}",
                                  "principalId": str(uuid.uuid4())}, created_by=None, granted_at=0.0))
            for i in range(n_dce):
                resource_id = f"{scope}/providers/{dcr.DCE_TYPE}/dce-other-{i}"
                emu.backend.store.put(resource_id, dcr.DCE_TYPE, dcr.stored_dce(
                    resource_id, f"dce-other-{i}", {"location": seed.LOCATION}, seed.LOCATION, None, seed.DEPLOYER_APP_ID))
            emu.backend.changed()
            # The hot path outruns the per-DCR quota (12,000 requests a minute): lift it, it is not what is measured.
            emu.set_ingestion_limits(requests_per_minute=10**9)
            token = emu.issue_token(seed.SENDER_APP_ID, "https://monitor.azure.com")
            out[label] = rate(emu, rule.immutable_id, dce.immutable_id, token)
    return {"assignments": assignments, "endpoints": endpoints, "empty_rps": out["empty"], "loaded_rps": out["loaded"],
            "ratio": out["empty"] / out["loaded"]}


def _dcr(target) -> dict:
    from provision.emulator import seed

    columns = [("TimeGenerated", "datetime"), ("RequestId", "string"), ("Message", "string"), ("Level", "int"),
               ("Amount", "real"), ("Props", "dynamic")]
    return {"location": seed.LOCATION, "kind": "Direct", "properties": {
        "streamDeclarations": {"Custom-MyApp": {"columns": [{"name": n, "type": t} for n, t in columns]}},
        "destinations": {"logAnalytics": [{"workspaceResourceId": seed.WORKSPACE_ID, "name": "law"}]},
        "dataFlows": [{"streams": ["Custom-MyApp"], "destinations": ["law"], "transformKql": "source",
                       "outputStream": "Custom-MyApp_CL"}]}}


def _count_rows(state: Path) -> int:
    from provision.emulator.store import Store

    store = Store(state / "state.sqlite3")
    try:
        return store.count_rows()
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--in-process", action="store_true", help="run the emulator in this process (shares the GIL)")
    parser.add_argument("--senders", type=int, default=0,
                        help="concurrent LogsIngestionClient uploads (default: report 1 and 2; each client is sequential)")
    parser.add_argument("--lookups-only", action="store_true", help="only the hot-path lookup comparison")
    parser.add_argument("--raw-only", action="store_true", help="only the server CPU per MB through raw HTTP senders")
    args = parser.parse_args()
    for name in list(os.environ):
        if name.startswith(("AZURE_", "PROVISION_")) or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            del os.environ[name]
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"

    raw = bench_raw_http(args.rows)
    print(f"server CPU per MB of JSON (provision emulator serve, {raw['senders']} raw HTTPS senders posting {raw['chunks']} "
          f"pre-built gzip bodies, {raw['json_mb']:.1f} MB; no client cost): baseline gunzip+json.loads "
          f"{raw['baseline_ms_mb']:.1f} ms/MB")
    for label in ("source", "transform"):
        flow = raw[label]
        print(f"  {label} flow{' (' + TRANSFORM + ')' if label == 'transform' else ''}: {flow['cpu_ms_mb']:.1f} ms/MB = "
              f"{flow['mb_per_cpu_s']:.1f} MB/s of JSON on one core (target {TARGET_MB_S:.1f}: "
              f"{'met' if flow['mb_per_cpu_s'] >= TARGET_MB_S else 'NOT met'}); wall {flow['wall_mb_s']:.1f} MB/s; "
              f"{flow['cpu_ms_mb'] / raw['baseline_ms_mb']:.2f}x the baseline")
    print(f"  source / transform server CPU per MB: {raw['source']['cpu_ms_mb'] / raw['transform']['cpu_ms_mb']:.2f}")
    if args.raw_only:
        return
    lookups = bench_lookups()
    print(f"ingestion hot path (Backend.Ingest_Upload via a DCE, 1 row, no HTTP): {lookups['empty_rps']:,.0f} requests/s "
          f"with no other role assignments or DCEs; {lookups['loaded_rps']:,.0f} requests/s with {lookups['assignments']} "
          f"role assignments and {lookups['endpoints']} DCEs stored; ratio {lookups['ratio']:.2f}")
    if args.lookups_only:
        return
    cold, warm = bench_startup()
    print(f"start-up (Emulator().start()): new state dir {cold * 1000:.1f} ms (CA generated), existing state dir {warm * 1000:.1f} ms")
    server = bench_server_only(args.rows)
    print(f"emulator alone (Backend.Ingest_Upload on {server['chunks']} pre-built 1 MiB gzip chunks, no HTTP/client): "
          f"{server['mb_s']:.1f} MB/s; baseline gunzip+json.loads alone {server['json_mb'] / server['baseline_s']:.1f} MB/s; "
          f"emulator / baseline = {server['seconds'] / server['baseline_s']:.2f}x")
    for senders in ([args.senders] if args.senders else [1, 2]):
        result = bench_ingestion(args.rows, args.in_process, senders)
        where = "in process" if args.in_process else "server in a separate process"
        print(f"ingestion ({where}, {senders} sender{'s' if senders > 1 else ''}): {result['rows']:,} rows, "
              f"{result['json_mb']:.1f} MB of JSON in {result['seconds']:.2f} s")
        print(f"  throughput: {result['mb_s']:.1f} MB/s, {result['rows_s']:,.0f} rows/s (target {TARGET_MB_S:.1f} MB/s = "
              f"Azure's 2 GB/min per DCR: {'met' if result['mb_s'] >= TARGET_MB_S else 'NOT met'})")
        print(f"  baseline (SDK-side dumps+gzip alone, one thread): {result['baseline_s']:.2f} s = "
              f"{result['json_mb'] / result['baseline_s']:.1f} MB/s; end-to-end / baseline = "
              f"{result['seconds'] / result['baseline_s']:.2f}x")
        print(f"  rows stored: {result['stored']:,} (expected {result['rows']:,})")
        if process_cpu := result["server_cpu_ms_mb"]:
            print(f"  CPU per MB: the official client (this process) {result['client_cpu_ms_mb']:.1f} ms, "
                  f"the server {process_cpu:.1f} ms")
        else:
            print(f"  CPU per MB (client and server in this process): {result['client_cpu_ms_mb']:.1f} ms")
        client_hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if result["server_hwm_mb"]:
            print(f"  peak memory: server {result['server_hwm_mb']:.0f} MB, client (this process) {client_hwm:.0f} MB")
        else:
            print(f"  peak memory (client and server in this process): {client_hwm:.0f} MB")


if __name__ == "__main__":
    main()
