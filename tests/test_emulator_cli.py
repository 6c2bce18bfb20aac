"""`provision emulator serve` as a subprocess (prints env, writes --env-file, persists, stops on SIGTERM) and `rows`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import Emulator, seed
from tests.emulator_helpers import RG, WS, deploy

EXPECTED = ["PROVISION_LOCAL_URL", "AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
            "AZURE_SUBSCRIPTION_ID", "PROVISION_LOCAL_WORKSPACE_ID", "PROVISION_LOCAL_SENDER_CLIENT_ID",
            "PROVISION_LOCAL_SENDER_CLIENT_SECRET", "PROVISION_LOCAL_SENDER_APP_ID", "REQUESTS_CA_BUNDLE"]


class _Env:
    """AzureClients-like builder from the variables `serve` printed (what a user's CI would do)."""

    def __init__(self, env: dict):
        self.env = env
        self.emu = type("E", (), {"url": env["PROVISION_LOCAL_URL"], "ca_path": Path(env["REQUESTS_CA_BUNDLE"])})()

    def clients(self):
        from tests.emulator_fixtures import AzureClients

        return AzureClients(self.emu)


def _serve(state: Path, env_file: Path, *extra: str) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(state),
                                "--env-file", str(env_file), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env = {}
    deadline = time.time() + 20
    while "REQUESTS_CA_BUNDLE" not in env and time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        key, _, value = line.strip().partition("=")
        env[key] = value
    return process, env


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


def test_serve_prints_env_writes_env_file_persists_and_stops(tmp_path):
    state, env_file = tmp_path / "state", tmp_path / "local.env"
    process, env = _serve(state, env_file)
    try:
        assert list(env) == EXPECTED
        assert env["AZURE_CLIENT_ID"] == seed.DEPLOYER_APP_ID and env["PROVISION_LOCAL_WORKSPACE_ID"] == seed.WORKSPACE_ID
        assert Path(env["REQUESTS_CA_BUNDLE"]).is_absolute() and Path(env["REQUESTS_CA_BUNDLE"]).exists()
        written = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert written == env
        azure = _Env(env).clients()
        rule = deploy(azure)
        azure.ingestion(rule.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp",
                                                              logs=[{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "kept"}])
    finally:
        assert _stop(process) == 0
    assert "stopped" in process.stderr.read()

    result = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(state)])
    assert result.exit_code == 0
    assert [json.loads(line) for line in result.output.splitlines()] == [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "kept"}]

    process, env2 = _serve(state, env_file)  # restart on the same state dir
    try:
        assert Path(env2["REQUESTS_CA_BUNDLE"]).read_bytes() == Path(env["REQUESTS_CA_BUNDLE"]).read_bytes()
        azure = _Env(env2).clients()
        assert azure.monitor().data_collection_rules.get(RG, "dcr-myapp").immutable_id == rule.immutable_id
        assert azure.loganalytics().tables.get(RG, WS, "MyApp_CL").name == "MyApp_CL"
    finally:
        assert _stop(process) == 0


def test_serve_refuses_other_bind_addresses():
    result = CliRunner().invoke(app, ["emulator", "serve", "--bind", "0.0.0.0"])
    assert result.exit_code == 1
    assert "127.0.0.1 only" in result.output


def test_serve_rejects_bad_fault_spec(tmp_path):
    result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(tmp_path), "--fault", "418"])
    assert result.exit_code == 1 and "unknown fault kind" in result.output


def test_serve_rejects_bad_graph_roles(tmp_path):
    for spec, message in (("nonsense", "bad --graph-roles"), ("a9a9a9a9-0000-4000-8000-000000000009=", "unknown app id")):
        result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(tmp_path), "--graph-roles", spec])
        assert result.exit_code == 1 and message in result.output


def test_rows_limit_and_missing_state(tmp_path):
    with Emulator(tmp_path) as emu:
        from tests.emulator_fixtures import AzureClients

        azure = AzureClients(emu)
        rule = deploy(azure)
        azure.ingestion(rule.endpoints.logs_ingestion).upload(
            rule_id=rule.immutable_id, stream_name="Custom-MyApp",
            logs=[{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": str(i)} for i in range(5)])
    result = CliRunner().invoke(app, ["emulator", "rows", "myapp_cl", "--limit", "2", "--state", str(tmp_path)])
    assert result.exit_code == 0
    assert [json.loads(line)["Message"] for line in result.output.splitlines()] == ["3", "4"]
    # issue 14: a table the emulator does not have is an error, not "no rows"
    unknown = CliRunner().invoke(app, ["emulator", "rows", "Other_CL", "--state", str(tmp_path)])
    assert unknown.exit_code == 1 and unknown.stdout == "" and "the emulator has no table 'Other_CL'" in unknown.stderr
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "state.sqlite3").write_text("not a database")
    broken = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(junk)])
    assert broken.exit_code == 1 and "cannot read the emulator state" in broken.output
    result = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no emulator state" in result.output


def test_serve_knob_flags(tmp_path):
    import pytest
    from azure.core.exceptions import HttpResponseError

    process, env = _serve(tmp_path / "state", tmp_path / "env", "--fault", "503,match=Workspaces_Get,times=1",
                          "--latency", "Workspaces_ListByResourceGroup=0.3", "--lro-seconds", "0.5",
                          "--graph-roles", f"{seed.DEPLOYER_APP_ID}=")
    try:
        la = _Env(env).clients().loganalytics()
        with pytest.raises(HttpResponseError) as raised:
            la.workspaces.get(RG, WS)
        assert raised.value.status_code == 503
        assert la.workspaces.get(RG, WS).name == WS
        start = time.perf_counter()
        list(la.workspaces.list_by_resource_group(RG))
        assert time.perf_counter() - start >= 0.3
        start = time.perf_counter()
        poller = la.tables.begin_create_or_update(RG, WS, "Knob_CL", {"properties": {"schema": {
            "columns": [{"name": "TimeGenerated", "type": "dateTime"}]}}})
        assert poller.result().properties.provisioning_state == "Succeeded"
        assert time.perf_counter() - start >= 0.5  # --lro-seconds: the operation cannot finish earlier
        # --graph-roles APP_ID=: the deployer has no Graph permission, so Graph refuses it (403)
        import ssl
        import urllib.request

        token = _Env(env).clients().credential().get_token("https://graph.microsoft.com/.default").token
        request = urllib.request.Request(f"{env['PROVISION_LOCAL_URL']}/v1.0/servicePrincipals(appId='{seed.SENDER_APP_ID}')",
                                         headers={"Authorization": f"Bearer {token}"})
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(request, context=ssl.create_default_context(cafile=env["REQUESTS_CA_BUNDLE"]))
        assert denied.value.code == 403
    finally:
        assert _stop(process) == 0


def test_serve_port_in_use_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["emulator", "serve", "--port", str(port), "--state", str(tmp_path)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_serve_unwritable_env_file_is_a_clear_error(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(tmp_path / "st"),
                                      "--env-file", str(a_file / "local.env")])
    assert result.exit_code == 1 and "cannot write --env-file" in result.output and "internal error" not in result.output


def test_serve_unusable_state_dir_is_not_a_port_error(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(a_file)])
    assert result.exit_code == 1
    assert "state directory: it is a file" in result.output and "cannot listen" not in result.output


def test_rows_reads_a_state_without_writing_to_it(tmp_path):
    """`rows` beside a running `serve` opens the state read-only (SQLite mode=ro): a read-only file still reads,
    and the database's bytes are the same afterwards."""
    with Emulator(tmp_path) as emu:
        from tests.emulator_fixtures import AzureClients

        azure = AzureClients(emu)
        rule = deploy(azure)
        azure.ingestion(rule.endpoints.logs_ingestion).upload(
            rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "x"}])
    database = tmp_path / "state.sqlite3"
    before = database.read_bytes()
    database.chmod(0o444)
    try:
        result = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(tmp_path)])
    finally:
        database.chmod(0o644)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["Message"] for line in result.output.splitlines()] == ["x"]
    assert database.read_bytes() == before
    import sqlite3

    import pytest

    from provision.emulator.store import Store

    reader = Store(database, read_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.set_meta("touched", "1")  # the reader's connection cannot write, whoever runs it
    finally:
        reader.close()
