"""CLI commands of the 'emulator' group: ``provision emulator serve``, ``rows`` and ``federated-token``.

``serve`` runs the local Azure until SIGINT/SIGTERM and prints (and writes to
``--env-file``) the variables clients need; printing its own local credentials
is its job (they protect nothing outside 127.0.0.1). After them, as ``#`` comment lines (safe in an env file
and a shell): the CA for Node.js and curl and how to point MSAL-based clients at it. ``--log FILE|-`` writes
one line per request (provision/emulator/requestlog.py). One emulator per state dir: a second ``serve`` on the
same one refuses (``--cloud local`` uses the running one instead). ``rows`` shows what arrived in a table, from
the state dir. ``federated-token`` mints a token from the running emulator's OIDC issuer for a federated
credential registered with ``serve --federated-credential`` (the CI workload identity flow, locally).
"""

from __future__ import annotations

import json
import math
import signal
import threading
from pathlib import Path

import typer

from provision.cli.core import Group
from provision.cli.options import command
from provision.errors import ProvisionError

DEFAULT_STATE = Path(".provision/local")

group = typer.Typer(rich_markup_mode=None, name="emulator", cls=Group, help="The local Azure emulator (Entra ID, ARM, Graph, Logs Ingestion) on 127.0.0.1.",
                    no_args_is_help=True)


def _fail(message: str, hint: str = ""):
    """The emulator's errors take the one error path (provision.cli.core.report), like every command's."""
    return ProvisionError(message, hint=hint)


@command(group, None,
    "provision emulator serve --env-file .provision/local.env",
    "provision emulator serve --port 8443 --lro-seconds 2 --fault 429,match=Tables_CreateOrUpdate,times=1",
    "provision emulator serve --log -",
    "provision emulator serve --federated-credential a1a1a1a1-0000-4000-8000-000000000001=repo:contoso/app:ref:refs/heads/main",
)
def serve(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: a free port)."),
    state: Path = typer.Option(DEFAULT_STATE, "--state", help="State directory (SQLite, CA); reused across restarts."),
    env_file: Path | None = typer.Option(None, "--env-file", help="Also write the variables as KEY=VALUE lines to this file."),
    bind: str = typer.Option("127.0.0.1", "--bind", help="Bind address: only 127.0.0.1 (or localhost) is allowed."),
    latency: list[str] = typer.Option([], "--latency", help="Seconds before each answer: '0.05' or 'OPERATION|GROUP=0.05' (repeatable)."),
    lro_seconds: float = typer.Option(0.0, "--lro-seconds", help="How long table operations stay InProgress."),
    role_propagation_seconds: float = typer.Option(0.0, "--role-propagation-seconds",
                                                   help="New role assignments take effect after this delay (403 until then)."),
    fault: list[str] = typer.Option([], "--fault", help="KIND[,match=RE][,times=N][,rate=R][,retry_after=S]; KIND: 429, 500, "
                                                        "503, reset, lro-failed (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Seed for probabilistic faults."),
    graph_roles: list[str] = typer.Option([], "--graph-roles", help="APP_ID=PERMISSION[,PERMISSION]: the Microsoft Graph "
                                          "application permissions of a seeded app ('APP_ID=' for none; repeatable)."),
    federated: list[str] = typer.Option([], "--federated-credential", help="APP_ID=SUBJECT[@ISSUER]: a federated identity "
                                        "credential on a seeded app (issuer default: the emulator's own /issuer; audience "
                                        "api://AzureADTokenExchange; repeatable). Mint tokens with `provision emulator "
                                        "federated-token`."),
    certificate: list[str] = typer.Option([], "--certificate", help="APP_ID=PEM_FILE: register a certificate credential "
                                          "(RSA) on a seeded app (repeatable)."),
    log: str | None = typer.Option(None, "--log", help="Write one line per request (time, method, path, status, ms, "
                                   "caller app id, error code; never tokens or secrets) to this file, or '-' for stdout."),
) -> None:
    """Run the local Azure until interrupted; print the environment clients need."""
    from provision.emulator import Emulator, StateDirError, StateDirInUse
    from provision.emulator.knobs import Fault, Latency

    if bind not in ("127.0.0.1", "localhost"):
        raise _fail(f"refusing to bind {bind!r}: the emulator listens on 127.0.0.1 only (it hands out credentials and accepts writes).")
    try:
        faults = [Fault.parse(f) for f in fault]
        latency_spec = Latency.parse(latency)
        graph = _graph_roles(graph_roles)
        credentials = [_pair(spec, "--federated-credential", "APP_ID=SUBJECT[@ISSUER]") for spec in federated]
        certificates = [(app_id, _read_pem(path)) for app_id, path in
                        (_pair(spec, "--certificate", "APP_ID=PEM_FILE") for spec in certificate)]
    except ValueError as error:
        raise _fail(str(error)) from None
    log_stream = _open_log(log)
    try:
        emu = Emulator(state, port=port, latency=latency_spec or None, lro_seconds=lro_seconds,
                       role_propagation_seconds=role_propagation_seconds, faults=faults, fault_seed=seed,
                       graph_roles=graph, request_log=log_stream)
    except ValueError as error:
        raise _fail(str(error)) from None
    try:
        emu.start()
    except StateDirInUse as error:
        raise _fail(str(error), hint="stop that emulator first, use it (its variables: `provision emulator serve` printed "
                                     "them), or pass --state DIR with another directory") from None
    except StateDirError as error:
        raise _fail(f"{error}; pass --state DIR with a directory you can write.")
    except OSError as error:
        raise _fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}")
    try:
        for app_id, spec in credentials:
            subject, at, issuer = spec.rpartition("@https://")
            subject, issuer = (subject, "https://" + issuer) if at else (spec, emu.issuer_url)
            emu.add_federated_credential(app_id, issuer, subject)
        for app_id, pem in certificates:
            emu.add_certificate(app_id, pem)
    except ValueError as error:
        emu.stop()
        raise _fail(str(error)) from None
    env = emu.env()
    lines = [f"{key}={value}" for key, value in env.items()]
    if env_file is not None:
        try:
            env_file.parent.mkdir(parents=True, exist_ok=True)
            env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as error:
            emu.stop()
            raise _fail(f"cannot write --env-file {env_file}: {error.strerror or error}; pass a path in a directory you can write.")
    typer.echo("\n".join(lines))
    # The legacy HTTP Data Collector API of the seeded workspace (docs/emulator.md "The HTTP Data Collector API");
    # printed after the block above, which --env-file holds as is. Its keys: POST .../workspaces/law-local/sharedKeys.
    typer.echo(f"PROVISION_LOCAL_DATA_COLLECTOR_URL={emu.data_collector_url()}")
    typer.echo("\n".join(_hints(env)))
    typer.echo(f"# local Azure listening on {emu.url} (state: {state}); Ctrl+C to stop", err=True)
    typer.echo(_load_hint(env_file), err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    emu.stop()
    if log_stream is not None and log not in (None, "-"):
        log_stream.close()
    typer.echo("# local Azure stopped", err=True)


def _open_log(log: str | None):
    """The request log's stream: None (off), stdout for '-', else FILE opened for appending (line-buffered)."""
    import sys

    if log is None:
        return None
    if log == "-":
        return sys.stdout
    try:
        path = Path(log)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8", buffering=1)
    except OSError as error:
        raise _fail(f"cannot write --log {log}: {error.strerror or error}; pass a path in a directory you can write, "
                    "or '-' for stdout.") from None


def _hints(env: dict[str, str]) -> list[str]:
    """How non-Python clients trust the CA and reach the emulator's Entra ID (comment lines, so the KEY=VALUE block
    above stays exactly what --env-file holds). MSAL looks an unknown authority up at login.microsoftonline.com
    unless instance discovery is off (sdk-notes.md §4.1)."""
    ca, url = env["REQUESTS_CA_BUNDLE"], env["PROVISION_LOCAL_URL"]
    return [
        f"# Node.js (@azure/identity, @azure/arm-*, @azure/monitor-ingestion): export NODE_EXTRA_CA_CERTS={ca}",
        (f"# curl: curl --cacert {ca} {url}/{env['AZURE_TENANT_ID']}/v2.0/.well-known/openid-configuration"
         f"  (or export CURL_CA_BUNDLE={ca})"),
        (f"# MSAL-based clients: authority host {env['AZURE_AUTHORITY_HOST']} with instance discovery off -- Python "
         "azure-identity: authority=AZURE_AUTHORITY_HOST, disable_instance_discovery=True; JavaScript @azure/identity: "
         "authorityHost, disableInstanceDiscovery: true"),
    ]


def _pair(spec: str, option: str, form: str) -> tuple[str, str]:
    app_id, sep, value = spec.partition("=")
    if not sep or not app_id.strip() or not value.strip():
        raise ValueError(f"bad {option} {spec!r}: write {form}")
    return app_id.strip(), value.strip()


def _read_pem(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the certificate {path}: {getattr(error, 'strerror', None) or error}") from None


@command(group, "federated-token",
    "provision emulator federated-token --subject repo:contoso/app:ref:refs/heads/main > .provision/token",
)
def federated_token(
    subject: str = typer.Option(..., "--subject", help="The token's sub, e.g. repo:ORG/REPO:ref:refs/heads/main."),
    audience: str = typer.Option("api://AzureADTokenExchange", "--audience", help="The token's aud."),
    lifetime: int = typer.Option(3600, "--lifetime", min=1, help="Seconds until it expires."),
    state: Path = typer.Option(DEFAULT_STATE, "--state", help="State directory of the running `provision emulator serve`."),
) -> None:
    """Print a token from the running emulator's OIDC issuer, as a CI system's (for AZURE_FEDERATED_TOKEN_FILE)."""
    from provision.emulator.localissuer import NoRunningIssuer
    from provision.emulator.localissuer import federated_token as mint

    try:
        typer.echo(mint(state, subject, audience, lifetime))
    except NoRunningIssuer as error:
        raise _fail(f"{error}: the token's issuer is a running emulator's /issuer URL",
                    hint=f"start `provision emulator serve --state {state}` first, or pass --state DIR of a running one") from None

def _load_hint(env_file: Path | None) -> str:
    """How to put the printed variables into another shell: a plain ``. file`` would set them without exporting
    them, so the commands run there would not see them (``set -a`` exports every assignment)."""
    if env_file is None:
        return ("# to use them from another shell, start with --env-file .provision/local.env, then there: "
                "set -a; . .provision/local.env; set +a")
    import shlex

    return f"# in another shell: set -a; . {shlex.quote(str(env_file))}; set +a   (then e.g. provision plan FILE --cloud local)"


def _graph_roles(pairs: list[str]) -> dict[str, list[str]]:
    out = {}
    for pair in pairs:
        app_id, sep, roles = pair.partition("=")
        if not sep:
            raise ValueError(f"bad --graph-roles {pair!r}: write APP_ID=Application.Read.All (or APP_ID= for none)")
        out[app_id.strip()] = [r.strip() for r in roles.split(",") if r.strip()]
    return out


@command(group, None,
    "provision emulator rows AppEvents_CL --limit 10",
    "provision emulator rows AppEvents_CL --state .provision/local",
)
def rows(
    table: str = typer.Argument(..., help="Table name, e.g. MyApp_CL."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the most recent N rows."),
    state: Path = typer.Option(DEFAULT_STATE, "--state", help="State directory of the emulator."),
    workspace: str | None = typer.Option(None, "--workspace", help="Workspace name, id or customer id (default: all)."),
) -> None:
    """Print the rows that arrived in TABLE, one JSON object per line (oldest first)."""
    from provision.emulator.reader import read_rows

    if not (state / "state.sqlite3").exists():
        raise _fail(f"no emulator state in '{state}': start one with 'provision emulator serve --state {state}' or pass --state DIR.")
    import sqlite3

    try:
        found = read_rows(state, table, limit, workspace)
    except sqlite3.Error as error:
        raise _fail(f"cannot read the emulator state in '{state}': {error}; pass --state DIR of a `provision emulator serve`.")
    for row in found:
        typer.echo(_row_json(row))
    if not found:
        unknown = _unknown_table(state, table)
        if unknown:  # a typo must not read as an empty table (issue 14)
            raise _fail(unknown)
        typer.echo(f"# no rows in {table} (state: {state})", err=True)  # stderr: stdout stays one JSON object per row


def _unknown_table(state: Path, table: str) -> str:
    """The error for a ``table`` the emulator does not have ("" when it has it), with the nearest name."""
    import difflib

    from provision.emulator.reader import known_tables

    tables = known_tables(state)
    if table.lower() in {t.lower() for t in tables}:
        return ""
    text = f"the emulator has no table '{table}'"
    close = difflib.get_close_matches(table.lower(), [t.lower() for t in tables], n=1, cutoff=0.6)
    if close:
        text += f"; did you mean '{next(t for t in tables if t.lower() == close[0])}'?"
    return text + (f" (its tables: {', '.join(tables)})" if tables else " (it has none yet: run `provision apply ... --cloud local`)")


def _finite(value):
    """``value`` with NaN/Infinity replaced by null: JSON has no such numbers (RFC 8259 §6). Ingestion refuses them
    now; a state dir written by an older emulator may still hold some."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _row_json(row: dict) -> str:
    """One row as one line of valid JSON: UTF-8 as is, except a lone surrogate (valid in a JSON string escape, not
    encodable as UTF-8), which is written as its \\uXXXX escape so that the line reads back to the same row."""
    try:
        text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(row), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(_finite(row), ensure_ascii=True, allow_nan=False)
    return text


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.add_typer(group, name="emulator")
