"""Cloud profiles and the client factory (no network: clients are built, not called)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provision.azure import CLOUDS, azure_error, cloud_name, connect, get_cloud
from provision.errors import ProvisionError

SUB = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize("name,arm,authority,audience,graph", [
    ("public", "https://management.azure.com", "https://login.microsoftonline.com", "https://monitor.azure.com",
     "https://graph.microsoft.com"),
    ("usgov", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us", "https://monitor.azure.us",
     "https://graph.microsoft.us"),
    ("china", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn", "https://monitor.azure.cn",
     "https://microsoftgraph.chinacloudapi.cn"),
])
def test_profiles(name, arm, authority, audience, graph):
    # Audiences: azure-contract.md §7 (Authorization header row).
    cloud = get_cloud(name)
    assert (cloud.arm, cloud.authority, cloud.monitor_audience, cloud.graph) == (arm, authority, audience, graph)
    assert cloud.monitor_scope == audience + "/.default"


def test_default_cloud_comes_from_provision_cloud(monkeypatch):
    assert cloud_name(None, {}) == "public"
    assert cloud_name(None, {"PROVISION_CLOUD": "USGov"}) == "usgov"
    assert cloud_name("china", {"PROVISION_CLOUD": "usgov"}) == "china"
    monkeypatch.setenv("PROVISION_CLOUD", "local")
    assert get_cloud().name == "local"


def test_unknown_cloud_is_a_clear_error():
    with pytest.raises(ProvisionError) as info:
        get_cloud("mars")
    assert "unknown cloud 'mars'" in info.value.format() and "public" in info.value.format()


def test_sovereign_cloud_clients_use_its_endpoint_and_audience():
    session = connect("usgov")
    try:
        client = session.monitor(SUB)
        assert client._config.credential_scopes == ["https://management.usgovcloudapi.net/.default"]
        assert client._client._base_url == "https://management.usgovcloudapi.net"
        ingest = session.ingestion("https://x.ingest.monitor.azure.us")
        assert ingest._config.credential_scopes == ["https://monitor.azure.us/.default"]
        assert session.monitor(SUB) is client  # one client per (kind, subscription)
    finally:
        session.close()


def test_help_does_not_import_the_azure_sdks():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom provision.cli import app\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "for cmd in ('plan', 'apply', 'outputs', 'send'):\n"
            "    assert CliRunner().invoke(app, [cmd, '--help']).exit_code == 0\n"
            "print(sorted(m for m in sys.modules if m.startswith('azure')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_azure_error_keeps_the_services_code_and_details():
    from azure.core.exceptions import HttpResponseError
    from azure.core.pipeline.transport import HttpResponse

    class Response(HttpResponse):
        def __init__(self):
            super().__init__(None, None)
            self.status_code = 400
            self.reason = "Bad Request"
            self.headers = {"content-type": "application/json"}

        def body(self):
            return (b'{"error":{"code":"InvalidPayload","message":"Data collection rule is invalid","details":'
                    b'[{"code":"InvalidOutputTable","message":"Table for output stream is not available",'
                    b'"target":"properties.dataFlows[0]"}]}}')

        def text(self, encoding=None):
            return self.body().decode()

    error = azure_error(HttpResponseError(response=Response()), "creating rule dcr-x")
    text = error.format()
    assert "creating rule dcr-x failed (HTTP 400, InvalidPayload): Data collection rule is invalid" in text
    assert "InvalidOutputTable: Table for output stream is not available (target properties.dataFlows[0])" in text


def test_every_profile_is_named():
    assert set(CLOUDS) == {"public", "usgov", "china", "local"}


def test_live_state_through_the_pipeline_entry_point(emu):
    from provision.pipeline import plan_scenario
    from provision.scenario import require_valid

    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as session:
        quickstart = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"
        scenario = require_valid(str(quickstart), environ=session.environ)
        resources, live, _ = plan_scenario(session, scenario)
    assert live.workspace["location"] == "westeurope"
    assert set(live.resources) == {r.id.lower() for r in resources}
    assert all(body is None for body in live.resources.values())  # nothing deployed yet


def _dead_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


def test_unreachable_emulator_says_to_restart_it(emu):
    from provision.azure import connect
    from provision.errors import AzureError

    dead = f"https://127.0.0.1:{_dead_port()}"
    for env in ({**emu.env(), "PROVISION_LOCAL_URL": dead, "AZURE_AUTHORITY_HOST": dead},  # sign-in fails
                {**emu.env(), "PROVISION_LOCAL_URL": dead}):  # sign-in works, ARM does not answer
        with connect("local", environ=env, retry_total=0) as session, pytest.raises(AzureError) as info:
            from provision.live import get_resource

            session.warm_up()
            get_resource(session, "workspace", emu.env()["PROVISION_LOCAL_WORKSPACE_ID"])
        text = info.value.format()
        assert f"cannot connect to {dead} (connection refused)" in text
        assert "provision emulator serve` still running" in text and "Traceback" not in text


def test_stale_or_missing_ca_is_named(emu, tmp_path):
    from typer.testing import CliRunner

    from provision.cli import app
    from provision.emulator import tls
    from provision.errors import AzureError

    (tmp_path / "other").mkdir()
    other_ca = tls.ensure_certificates(tmp_path / "other")  # another state dir's CA
    with connect("local", environ={**emu.env(), "REQUESTS_CA_BUNDLE": str(other_ca)}, retry_total=0) as session, \
            pytest.raises(AzureError) as info:
        session.warm_up()
    assert "not trusted (CERTIFICATE_VERIFY_FAILED)" in info.value.format()
    assert "ca.pem of the running emulator's state dir" in info.value.format()
    quickstart = str(Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml")
    result = CliRunner().invoke(app, ["plan", quickstart, "--cloud", "local"],
                                env={**emu.env(), "REQUESTS_CA_BUNDLE": str(tmp_path / "gone.pem")})
    assert result.exit_code == 1, result.output
    assert "gone.pem (REQUESTS_CA_BUNDLE) does not exist" in result.stderr
    assert "provision emulator serve` printed" in result.stderr
    assert emu.calls == []


def test_unknown_cloud_from_the_environment_names_the_variable():
    from typer.testing import CliRunner

    from provision.cli import app

    quickstart = str(Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml")
    result = CliRunner().invoke(app, ["plan", quickstart], env={"PROVISION_CLOUD": "bogus"})
    assert result.exit_code == 1
    assert "unknown cloud 'bogus' (from $PROVISION_CLOUD)" in result.stderr and "local" in result.stderr
    result = CliRunner().invoke(app, ["plan", quickstart, "--cloud", "mars"], env={"PROVISION_CLOUD": "local"})
    assert result.exit_code == 1 and "unknown cloud 'mars'" in result.stderr and "$PROVISION_CLOUD" not in result.stderr
