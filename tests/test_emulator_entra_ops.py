"""Operating the emulator for foreign clients (issue 11): the request log (``serve --log``, ``PROVISION_DEBUG``),
one emulator per state directory (the lock; ``--cloud local`` attaches to a running ``serve``), and what ``serve``
prints for Node.js, curl and MSAL.
"""

from __future__ import annotations

import base64
import io
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import Emulator, StateDirInUse, running_emulator, seed

ARM = "https://management.azure.com"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|PUT|POST|PATCH|DELETE|HEAD) (\S+) (\d{1,3}) "
                  r"(\d+\.\d)ms app=(\S+) error=(\S+)$")


def _post_token(emu, form: dict, headers=None, query: str = ""):
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    request = urllib.request.Request(f"{emu.url}/{seed.TENANT_ID}/oauth2/v2.0/token{query}", method="POST",
                                     data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _lines(log: io.StringIO) -> list[re.Match]:
    matches = [LINE.match(line) for line in log.getvalue().splitlines()]
    assert all(matches), log.getvalue()
    return [m for m in matches if m]


# ---------------------------------------------------------------- the request log

def test_the_request_log_has_one_line_per_request_with_caller_and_error(tmp_path):
    from tests.emulator_fixtures import AzureClients

    log = io.StringIO()
    with Emulator(tmp_path, request_log=log) as emu:
        azure = AzureClients(emu)
        azure.loganalytics().workspaces.get(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME)
        with pytest.raises(Exception, match="AuthorizationFailed"):
            azure.loganalytics("nobody").workspaces.get(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME)
        assert _post_token(emu, {"grant_type": "client_credentials", "client_id": seed.SENDER_APP_ID,
                                 "client_secret": "wrong", "scope": f"{ARM}/.default"}) == 401
        calls = len(emu.calls)
    lines = _lines(log)
    assert len(lines) == calls
    workspace = [m for m in lines if "/workspaces/" in m[2]]
    assert [(m[3], m[5], m[6]) for m in workspace] == [("200", seed.DEPLOYER_APP_ID, "-"),
                                                       ("403", seed.NOBODY_APP_ID, "AuthorizationFailed")]
    assert "?api-version=" in workspace[0][2]  # path and query as sent
    refused = lines[-1]
    assert (refused[1], refused[3], refused[5], refused[6]) == ("POST", "401", seed.SENDER_APP_ID, "AADSTS7000215")


def test_the_request_log_never_holds_a_token_or_a_secret(tmp_path):
    from tests.emulator_fixtures import AzureClients

    log = io.StringIO()
    with Emulator(tmp_path, request_log=log) as emu:
        azure = AzureClients(emu)
        credential = azure.credential()
        token = credential.get_token(f"{ARM}/.default").token
        azure.loganalytics(credential=credential).workspaces.get(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME)
        basic = base64.b64encode(f"{seed.SENDER_APP_ID}:{seed.SENDER_SECRET}".encode()).decode()
        _post_token(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default"}, {"Authorization": f"Basic {basic}"})
        # A client that puts credentials in the query string: the names stay, the values do not.
        _post_token(emu, {"grant_type": "client_credentials", "client_id": seed.SENDER_APP_ID,
                          "client_secret": seed.SENDER_SECRET, "scope": f"{ARM}/.default"},
                    query=f"?client_secret={seed.DEPLOYER_SECRET}&access_token={token}&sig=c2VjcmV0c2ln&api-version=1")
        assertion = emu.federated_token("repo:x/y:ref:refs/heads/main")
        _post_token(emu, {"grant_type": "client_credentials", "client_id": seed.SENDER_APP_ID, "client_assertion": assertion,
                          "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                          "scope": f"{ARM}/.default"})
    text = log.getvalue()
    for secret in (seed.DEPLOYER_SECRET, seed.SENDER_SECRET, token, token.split(".")[2], basic, assertion,
                   assertion.split(".")[1], "c2VjcmV0c2ln"):
        assert secret not in text
    assert "client_secret=REDACTED&access_token=REDACTED&sig=REDACTED&api-version=1" in text
    assert text.count("\n") == len(_lines(log)) >= 5


def test_serve_log_writes_the_request_log_to_a_file(tmp_path):
    log = tmp_path / "requests.log"
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(tmp_path / "state"),
                                "--log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        printed = _read_until(process, "# MSAL")
        env = dict(line.split("=", 1) for line in printed if "=" in line and not line.startswith("#"))
        hints = [line for line in printed if line.startswith("#")]
        ca = env["REQUESTS_CA_BUNDLE"]
        assert f"# Node.js (@azure/identity, @azure/arm-*, @azure/monitor-ingestion): export NODE_EXTRA_CA_CERTS={ca}" in hints
        assert any(line.startswith(f"# curl: curl --cacert {ca} {env['PROVISION_LOCAL_URL']}/") for line in hints)
        assert any("disable_instance_discovery=True" in line and "disableInstanceDiscovery: true" in line for line in hints)
        assert "PRIVATE KEY" not in "\n".join(printed)  # the signing key and the CA key stay in the state dir
        status = urllib.request.urlopen(f"{env['PROVISION_LOCAL_URL']}/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration",
                                        context=ssl.create_default_context(cafile=ca)).status
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    [line] = log.read_text().splitlines()
    assert re.match(LINE, line) and " GET /22222222-2222-4222-8222-222222222222/v2.0/.well-known/openid-configuration 200 " in line


def _read_until(process: subprocess.Popen, prefix: str, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"serve printed no line starting {prefix!r}: {lines} {process.stderr.read() if process.poll() else ''}")


def test_provision_debug_logs_the_in_process_emulators_requests(tmp_path, monkeypatch):
    from provision.azure import connect
    from provision.live import get_resource

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with connect("local", state_dir=tmp_path, environ={"PROVISION_DEBUG": "1"}, retry_total=0) as session:
        get_resource(session, "workspace", seed.WORKSPACE_ID)
    assert any(m[3] == "200" and m[5] == seed.DEPLOYER_APP_ID and "/workspaces/" in m[2] for m in _lines(stderr))


def test_without_provision_debug_the_in_process_emulator_logs_nothing(tmp_path, monkeypatch):
    from provision.azure import connect
    from provision.live import get_resource

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with connect("local", state_dir=tmp_path, environ={}, retry_total=0) as session:
        get_resource(session, "workspace", seed.WORKSPACE_ID)
    assert stderr.getvalue() == ""


# ---------------------------------------------------------------- one emulator per state directory

def test_a_second_emulator_on_the_same_state_dir_is_refused(tmp_path):
    with Emulator(tmp_path) as first:
        second = Emulator(tmp_path)
        with pytest.raises(StateDirInUse) as refused:
            second.start()
        assert f"in use by another emulator (pid {os.getpid()} at {first.url})" in str(refused.value)
        assert refused.value.running["url"] == first.url
        assert running_emulator(tmp_path)["url"] == first.url
    assert running_emulator(tmp_path) is None  # stopped: the lock is free and the file says nothing
    with Emulator(tmp_path) as again:  # and the state dir can be served again
        assert running_emulator(tmp_path)["url"] == again.url


def test_a_second_serve_on_the_same_state_refuses_clearly(tmp_path):
    with Emulator(tmp_path) as running:
        result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(tmp_path)])
        assert result.exit_code != 0
        assert "is in use by another emulator" in result.output and running.url in result.output
        assert "Traceback" not in result.output


def test_a_killed_emulator_leaves_no_lock_behind(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _read_until(process, "REQUESTS_CA_BUNDLE=")
        assert running_emulator(tmp_path)["pid"] == process.pid
    finally:
        process.kill()
        process.wait(timeout=10)
    assert running_emulator(tmp_path) is None
    with Emulator(tmp_path):
        pass


def test_cloud_local_uses_the_emulator_serving_its_state_dir(tmp_path):
    from provision.azure import connect
    from provision.live import get_resource

    with Emulator(tmp_path) as serving:
        before = serving.count(operation="Workspaces_Get")
        with connect("local", state_dir=tmp_path, environ={}, retry_total=0) as session:
            assert get_resource(session, "workspace", seed.WORKSPACE_ID)["name"] == seed.WORKSPACE_NAME
        assert serving.count(operation="Workspaces_Get") == before + 1  # answered by the running one, not a second
        assert running_emulator(tmp_path)["url"] == serving.url  # and it keeps serving after the session


# ---------------------------------------------------------------- honest advertising: metricsIngestion

def _send(url: str, ca, token: str | None):
    request = urllib.request.Request(url, method="POST", data=b"[]", headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(ca))) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_advertised_metrics_and_configuration_endpoints_answer_not_implemented(emu, azure):
    """Azure returns endpoints.metricsIngestion on a Direct DCR and metricsIngestion/configurationAccess on a DCE, so
    the emulator does too; it serves no metrics, and says so with 501 (after the token check) instead of a 404."""
    import json

    from tests.emulator_helpers import RG, deploy

    rule = deploy(azure)
    dce = azure.monitor().data_collection_endpoints.create(RG, "dce-local", {"location": seed.LOCATION})
    token = emu.issue_token(seed.SENDER_APP_ID, "https://monitor.azure.com")
    remote_write = (f"{rule.endpoints.metrics_ingestion}/dataCollectionRules/{rule.immutable_id}/streams/"
                    "Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24")
    urls = [remote_write, dce.metrics_ingestion.endpoint, dce.configuration_access.endpoint]
    for url in urls:
        assert url.startswith(emu.url)
        status, headers, body = _send(url, emu.ca_path, token)
        assert status == 501 and headers["x-ms-error-code"] == "NotImplemented", url
        assert "does not serve" in json.loads(body)["error"]["message"]
        assert _send(url, emu.ca_path, None)[0] == 401  # a token first, as every ingestion endpoint


# ---------------------------------------------------------------- serve's credential flags and federated-token

def test_serve_registers_credentials_and_federated_token_mints_for_its_issuer(tmp_path):
    import trustme
    from azure.identity import CertificateCredential, WorkloadIdentityCredential

    from tests.emulator_fixtures import AzureClients

    rsa = trustme.KeyType.RSA
    leaf = trustme.CA(key_type=rsa).issue_cert("deployer", key_type=rsa)
    cert_file = tmp_path / "deployer.pem"
    cert_file.write_bytes(leaf.cert_chain_pems[0].bytes())
    subject = "repo:contoso/app:ref:refs/heads/main"
    state = tmp_path / "state"
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(state),
                                "--federated-credential", f"{seed.SENDER_APP_ID}={subject}",
                                "--certificate", f"{seed.DEPLOYER_APP_ID}={cert_file}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        env = dict(line.split("=", 1) for line in _read_until(process, "REQUESTS_CA_BUNDLE=") if "=" in line)
        url, ca = env["PROVISION_LOCAL_URL"], env["REQUESTS_CA_BUNDLE"]
        result = CliRunner().invoke(app, ["emulator", "federated-token", "--subject", subject, "--state", str(state)])
        assert result.exit_code == 0, result.output
        token_file = tmp_path / "token"
        token_file.write_text(result.stdout.strip())
        workload = WorkloadIdentityCredential(tenant_id=seed.TENANT_ID, client_id=seed.SENDER_APP_ID,
                                              token_file_path=str(token_file), authority=url,
                                              disable_instance_discovery=True, connection_verify=ca)
        assert workload.get_token(f"{ARM}/.default").token.count(".") == 2
        azure = AzureClients(type("E", (), {"url": url, "ca_path": Path(ca)})())
        certificate = CertificateCredential(seed.TENANT_ID, seed.DEPLOYER_APP_ID,
                                            certificate_data=leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes(),
                                            authority=url, disable_instance_discovery=True, connection_verify=ca)
        assert azure.loganalytics(credential=certificate).workspaces.get(seed.RESOURCE_GROUP, seed.WORKSPACE_NAME).name
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_federated_token_without_a_running_serve_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["emulator", "federated-token", "--subject", "x", "--state", str(tmp_path)])
    assert result.exit_code == 1 and "no emulator serves" in result.stderr and "provision emulator serve" in result.stderr


@pytest.mark.parametrize("flag", [["--federated-credential", "no-equals-sign"], ["--certificate", "a1a1=/no/such/file.pem"],
                                  ["--federated-credential", "00000000-0000-4000-8000-000000000000=repo:x"]])
def test_serve_rejects_bad_credential_flags(tmp_path, flag):
    result = CliRunner().invoke(app, ["emulator", "serve", "--state", str(tmp_path), *flag])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert running_emulator(tmp_path) is None  # refused before or stopped after start: nothing left serving
