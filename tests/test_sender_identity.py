"""What senders get: ``outputs`` with tenant, publishers and stream columns, a Python snippet that runs as written,
and ``send`` signing in as the publisher (never silently as the deploying identity) and saying who it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import seed

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = str(REPO / "scenarios" / "quickstart.yaml")


def invoke(emu, *args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local", **(env or {})})


def applied(emu):
    result = invoke(emu, "apply", QUICKSTART, "--yes")
    assert result.exit_code == 0, result.output
    return result


def test_outputs_give_tenant_publishers_and_stream_columns(emu):
    applied(emu)
    data = json.loads(invoke(emu, "outputs", QUICKSTART, "--format", "json").stdout)
    assert data["tenant_id"] == emu.env()["AZURE_TENANT_ID"]
    assert data["publishers"] == [{"app_id": seed.SENDER_APP_ID}]
    columns = data["rules"]["dcr-quickstart"]["streams"]["Custom-AppEventsRaw"]["columns"]
    assert columns[:2] == [{"name": "Time", "type": "datetime"}, {"name": "EventId", "type": "string"}]
    text = invoke(emu, "outputs", QUICKSTART).stdout
    assert f"tenant id: {data['tenant_id']}" in text and f"publisher: client id {seed.SENDER_APP_ID}" in text
    assert "    columns: Time datetime, EventId string, Level string" in text
    env = dict(line.split("=", 1) for line in invoke(emu, "outputs", QUICKSTART, "--format", "env").stdout.splitlines())
    assert env["PROVISION_TENANT_ID"] == data["tenant_id"]


def test_the_snippet_runs_as_printed_and_its_rows_arrive(emu, tmp_path):
    applied(emu)
    snippet = invoke(emu, "outputs", QUICKSTART, "--format", "snippet")
    assert snippet.exit_code == 0, snippet.output
    assert "from azure.monitor.ingestion import LogsIngestionClient" in snippet.stdout
    program = tmp_path / "send.py"
    program.write_text(snippet.stdout)
    env = {**os.environ, "PROVISION_SENDER_CLIENT_SECRET": emu.env()["PROVISION_LOCAL_SENDER_CLIENT_SECRET"],
           "AZURE_AUTHORITY_HOST": emu.env()["AZURE_AUTHORITY_HOST"], "REQUESTS_CA_BUNDLE": emu.env()["REQUESTS_CA_BUNDLE"]}
    done = subprocess.run([sys.executable, str(program)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "sent 1 row(s) to Custom-AppEventsRaw\n"
    (row,) = emu.rows("AppEvents_CL")
    assert row["Level"] == "example" and row["DurationMs"] == 1.5 and len(row["EventId"]) == 36


def test_send_says_it_signs_in_as_the_local_sending_app_by_default(emu):
    applied(emu)
    sent = invoke(emu, "send", QUICKSTART, "--sample", 1)
    assert sent.exit_code == 0, sent.output
    assert f"signing in as the local Azure's sending app {seed.SENDER_APP_ID} (PROVISION_LOCAL_SENDER_CLIENT_ID)" in sent.stderr


def test_send_signs_in_as_the_publisher_from_the_documented_variables(emu):
    applied(emu)
    secret = emu.env()["PROVISION_LOCAL_SENDER_CLIENT_SECRET"]
    sent = invoke(emu, "send", QUICKSTART, "--sample", 2, env={"PROVISION_SENDER_CLIENT_SECRET": secret})
    assert sent.exit_code == 0, sent.output
    tenant = emu.env()["AZURE_TENANT_ID"]
    # the client id defaults to the scenario's only app_id publisher, the tenant to the deploying identity's
    assert (f"signing in as publisher {seed.SENDER_APP_ID} (tenant {tenant}) with its secret from "
            "PROVISION_SENDER_CLIENT_SECRET") in sent.stderr
    assert secret not in sent.output
    assert len(emu.rows("AppEvents_CL")) == 2
    wrong = invoke(emu, "send", QUICKSTART, "--sample", 1, "--client-id", seed.SENDER_APP_ID,
                   env={"PROVISION_SENDER_CLIENT_SECRET": "not-the-secret"})
    assert wrong.exit_code == 1 and "not-the-secret" not in wrong.output
    assert f"signing in as publisher {seed.SENDER_APP_ID}" in wrong.stderr


def test_send_as_the_deployer_only_when_asked_and_then_it_is_refused_without_the_role(emu):
    applied(emu)
    sent = invoke(emu, "send", QUICKSTART, "--sample", 1, "--as-deployer")
    assert sent.exit_code == 1
    assert "signing in as the deploying identity (--as-deployer" in sent.stderr
    assert "HTTP 403" in sent.stderr  # the deploying identity does not hold Monitoring Metrics Publisher
    assert emu.rows("AppEvents_CL") == []


def test_on_a_real_cloud_send_without_a_publisher_sign_in_says_how_before_any_call():
    result = CliRunner().invoke(app, ["send", QUICKSTART, "--sample", 1, "--cloud", "public"])
    assert result.exit_code == 1
    assert "send signs in as a publisher of the scenario, and none is given" in result.stderr
    assert "PROVISION_SENDER_CLIENT_ID" in result.stderr and "--as-deployer" in result.stderr


def test_send_refuses_two_sign_ins_at_once(tmp_path):
    certificate = tmp_path / "c.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    result = CliRunner().invoke(app, ["send", QUICKSTART, "--sample", 1, "--cloud", "public", "--certificate", str(certificate)],
                                env={"PROVISION_SENDER_CLIENT_SECRET": "s3cr3t", "PROVISION_SENDER_CLIENT_ID": seed.SENDER_APP_ID})
    assert result.exit_code == 1
    assert f"send needs exactly one sign-in for publisher {seed.SENDER_APP_ID}, not 2 (secret, certificate)" in result.stderr
    assert "s3cr3t" not in result.output
