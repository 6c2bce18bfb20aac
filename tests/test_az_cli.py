"""The az CLI, unmodified, against `provision emulator serve`: one scripted session, as a pipeline would run it.

az lives in its own virtual environment (its pins conflict with ours): ``.venv-az`` beside the clone, made by .ci/run
with ``python3 -m venv .venv-az && .venv-az/bin/pip install azure-cli`` (or ``PROVISION_AZ_VENV``). That install
takes about 7 minutes (424 s measured for azure-cli 2.91.0 from PyPI into a fresh venv, on the shared 2-core CI
machine; ~730 MB); the two sessions below take 1-3 minutes. Without that venv the module is skipped, unless
``PROVISION_REQUIRE_AZ=1`` (set by .ci/run), which makes its absence a failure, as PROVISION_REQUIRE_SPECS does.

The only settings az gets are the ones a user would give it: its own ``AZURE_CONFIG_DIR``, the emulator's CA
(``REQUESTS_CA_BUNDLE``), MSAL instance discovery off (``AZURE_CORE_INSTANCE_DISCOVERY=false``: MSAL otherwise asks
login.microsoftonline.com whether the authority is known) and no telemetry. Then: ``az cloud register -n Local
--endpoint-resource-manager <url>`` (endpoints discovered from the emulator's /metadata/endpoints), ``az login
--service-principal`` as the deploying app, resource group, workspace and table commands, ``az rest`` PUT of a DCR,
``az resource show --ids`` of it, role assignments by app id (and again: the 409 path az turns into the existing
assignment) and by object id, ``az role assignment list``, ``az ad sp show``, ingestion as the sending app through
``az rest --resource https://monitor.azure.com``, ``provision plan`` of a scenario describing what az made (no
changes), and ``az group delete`` of the group az created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provision.emulator import seed

REPO = Path(__file__).resolve().parent.parent
AZ_VENV = Path(os.environ.get("PROVISION_AZ_VENV") or REPO / ".venv-az")
AZ = AZ_VENV / "bin" / "az"
REQUIRED = os.environ.get("PROVISION_REQUIRE_AZ") == "1"
REASON = (f"the az CLI is not installed at {AZ}: run `python3 -m venv .venv-az && .venv-az/bin/pip install azure-cli` "
          "(or set PROVISION_AZ_VENV) to run the az session")

if REQUIRED and not AZ.is_file():
    raise pytest.UsageError(f"PROVISION_REQUIRE_AZ=1 but {REASON}")

pytestmark = [pytest.mark.skipif(not AZ.is_file(), reason=REASON), pytest.mark.timeout(600)]

SUB = f"/subscriptions/{seed.SUBSCRIPTION_ID}"
RG_ID = f"{SUB}/resourceGroups/{seed.RESOURCE_GROUP}"
DCR_ID = f"{RG_ID}/providers/Microsoft.Insights/dataCollectionRules/dcr-az"
TABLE = "AzEvents_CL"
STREAM = "Custom-AzEventsRaw"
TRANSFORM = "source | extend TimeGenerated = Time | project-away Time"
SCENARIO = f"""\
name: az-session
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {seed.RESOURCE_GROUP}
tables:
  {TABLE}:
    plan: Analytics
    retention_days: 45
    columns:
      TimeGenerated: datetime
      Message: string
      Level: string
rules:
  dcr-az:
    streams:
      {STREAM}:
        Time: datetime
        Message: string
        Level: string
    flows:
      - stream: {STREAM}
        table: {TABLE}
        transform: {TRANSFORM}
publishers:
  - app_id: {seed.SENDER_APP_ID}
"""


def _dcr_body() -> dict:
    """The rule a user writes by hand for `az rest` (the same one the scenario above describes)."""
    columns = [{"name": "Time", "type": "datetime"}, {"name": "Message", "type": "string"}, {"name": "Level", "type": "string"}]
    return {"location": "westeurope", "kind": "Direct", "properties": {
        "streamDeclarations": {STREAM: {"columns": columns}},
        "destinations": {"logAnalytics": [{"workspaceResourceId": seed.WORKSPACE_ID, "name": "workspace"}]},
        "dataFlows": [{"streams": [STREAM], "destinations": ["workspace"], "transformKql": TRANSFORM,
                       "outputStream": f"Custom-{TABLE}"}]}}


class Az:
    """Runs az with its own config dir, trusting the emulator's CA; fails the test on a non-zero exit."""

    def __init__(self, config_dir: Path, ca: str):
        inherited = {k: v for k, v in os.environ.items()
                     if not k.startswith(("AZURE_", "PROVISION_", "REQUESTS_CA_BUNDLE", "SSL_CERT", "VIRTUAL_ENV"))}
        self.env = {**inherited, "AZURE_CONFIG_DIR": str(config_dir), "REQUESTS_CA_BUNDLE": ca,
                    "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_COLLECT_TELEMETRY": "false",
                    "AZURE_CORE_SURVEY_MESSAGE": "false", "AZURE_CORE_NO_COLOR": "true", "AZURE_CORE_OUTPUT": "json"}

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(AZ), *args], env=self.env, capture_output=True, text=True, timeout=180)
        if ok:
            assert result.returncode == 0, f"az {' '.join(args)} -> {result.returncode}\n{result.stderr}"
        return result

    def json(self, *args: str):
        out = self.run(*args).stdout
        return json.loads(out) if out.strip() else None

    def sign_in(self, url: str, app_id: str, secret: str) -> list[dict]:
        self.run("cloud", "register", "-n", "Local", "--endpoint-resource-manager", url)
        self.run("cloud", "set", "-n", "Local")
        return self.json("login", "--service-principal", "-u", app_id, "-p", secret, "--tenant", seed.TENANT_ID)


def _serve(tmp_path: Path, *extra: str):
    """`provision emulator serve` on its own state; yields the variables it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "provision", "emulator", "serve", "--state", str(tmp_path / "state"), "--env-file",
         str(tmp_path / "local.env"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env: dict[str, str] = {}
    deadline = time.time() + 30
    while "REQUESTS_CA_BUNDLE" not in env and time.time() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        key, _, value = line.strip().partition("=")
        env[key] = value
    assert "REQUESTS_CA_BUNDLE" in env, process.stderr.read() if process.stderr else ""
    try:
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture
def served(tmp_path):
    """Directory.Read.All for the deployer: az resolves object ids and the principal names of `role assignment
    list` with directoryObjects/getByIds, which needs it."""
    yield from _serve(tmp_path, "--graph-roles", f"{seed.DEPLOYER_APP_ID}=Application.Read.All,Directory.Read.All")


@pytest.fixture
def served_as_seeded(tmp_path):
    yield from _serve(tmp_path)


def test_az_session(served, tmp_path):
    url, ca = served["PROVISION_LOCAL_URL"], served["REQUESTS_CA_BUNDLE"]
    az = Az(tmp_path / "az-deployer", ca)

    # sign in: endpoints from /metadata/endpoints, the subscription from /subscriptions
    accounts = az.sign_in(url, seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)
    assert [(a["id"], a["tenantId"], a["isDefault"]) for a in accounts] == [(seed.SUBSCRIPTION_ID, seed.TENANT_ID, True)]
    assert az.json("account", "show")["user"] == {"name": seed.DEPLOYER_APP_ID, "type": "servicePrincipal"}

    # providers (a pipeline's usual first step), then resource groups (az sends resources 2024-11-01)
    assert az.json("provider", "register", "--namespace", "Microsoft.Insights", "--wait") is None
    assert az.json("provider", "show", "-n", "Microsoft.Insights")["registrationState"] == "Registered"
    assert az.json("group", "show", "-n", seed.RESOURCE_GROUP)["id"] == RG_ID
    assert az.json("group", "create", "-n", "rg-az", "-l", "westeurope")["properties"]["provisioningState"] == "Succeeded"
    assert [g["name"] for g in az.json("group", "list")] == ["rg-az", seed.RESOURCE_GROUP]
    assert az.run("group", "exists", "-n", "rg-az").stdout.strip() == "true"
    assert az.run("group", "exists", "-n", "rg-none").stdout.strip() == "false"

    # workspace and tables (long-running operations, polled by az)
    ws = ["-g", seed.RESOURCE_GROUP, "--workspace-name", seed.WORKSPACE_NAME]
    assert az.json("monitor", "log-analytics", "workspace", "show", "-g", seed.RESOURCE_GROUP, "-n",
                   seed.WORKSPACE_NAME)["customerId"] == seed.WORKSPACE_CUSTOMER_ID
    assert seed.WORKSPACE_NAME in [w["name"] for w in az.json("monitor", "log-analytics", "workspace", "list")]
    created = az.json("monitor", "log-analytics", "workspace", "table", "create", *ws, "-n", TABLE, "--columns",
                      "TimeGenerated=datetime", "Message=string", "Level=string", "--retention-time", "30")
    assert created["provisioningState"] == "Succeeded" and created["retentionInDays"] == 30
    # az's update is read-modify-write: it sends the total retention it read (30) back, so both are given
    updated = az.json("monitor", "log-analytics", "workspace", "table", "update", *ws, "-n", TABLE, "--retention-time", "45",
                      "--total-retention-time", "45")
    assert (updated["retentionInDays"], updated["totalRetentionInDays"]) == (45, 45)
    shown = az.json("monitor", "log-analytics", "workspace", "table", "show", *ws, "-n", TABLE)
    assert [c["name"] for c in shown["schema"]["columns"]] == ["TimeGenerated", "Message", "Level"]
    az.run("monitor", "log-analytics", "workspace", "table", "create", *ws, "-n", "AzScratch_CL", "--columns",
           "TimeGenerated=datetime")
    az.run("monitor", "log-analytics", "workspace", "table", "delete", *ws, "-n", "AzScratch_CL", "--yes")
    names = [t["name"] for t in az.json("monitor", "log-analytics", "workspace", "table", "list", *ws)]
    assert TABLE in names and "AzScratch_CL" not in names

    # the DCR through az rest, then read back through the provider's api-versions (az resource show)
    body = tmp_path / "dcr.json"
    body.write_text(json.dumps(_dcr_body()))
    rule = az.json("rest", "--method", "put", "--url", f"{url}{DCR_ID}?api-version=2023-03-11", "--body", f"@{body}")
    immutable_id, ingestion = rule["properties"]["immutableId"], rule["properties"]["endpoints"]["logsIngestion"]
    assert immutable_id.startswith("dcr-")
    assert az.json("resource", "show", "--ids", DCR_ID)["properties"]["immutableId"] == immutable_id

    # role assignments: by app id (Graph servicePrincipals filter), again (409 -> az returns the existing one),
    # by object id (Graph getByIds), then list (principal names through getByIds)
    role = "Monitoring Metrics Publisher"
    first = az.json("role", "assignment", "create", "--assignee", seed.SENDER_APP_ID, "--role", role, "--scope", DCR_ID)
    assert first["principalId"] == seed.SENDER_OBJECT_ID and first["principalType"] == "ServicePrincipal"
    again = az.json("role", "assignment", "create", "--assignee", seed.SENDER_APP_ID, "--role", role, "--scope", DCR_ID)
    assert again["id"] == first["id"]
    by_object = az.json("role", "assignment", "create", "--assignee", seed.NOBODY_OBJECT_ID, "--role", "Reader",
                        "--scope", f"{SUB}/resourceGroups/rg-az")
    assert by_object["principalId"] == seed.NOBODY_OBJECT_ID and by_object["principalType"] == "ServicePrincipal"
    listed = az.json("role", "assignment", "list", "--scope", DCR_ID)
    assert [(a["principalId"], a["roleDefinitionName"], a["principalName"]) for a in listed] == [
        (seed.SENDER_OBJECT_ID, role, seed.SENDER_APP_ID)]
    assert az.json("ad", "sp", "show", "--id", seed.SENDER_APP_ID)["id"] == seed.SENDER_OBJECT_ID

    # ingestion as the sending app (it sees the subscription now that it holds a role in it)
    sender = Az(tmp_path / "az-sender", ca)
    assert [a["id"] for a in sender.sign_in(url, seed.SENDER_APP_ID, seed.SENDER_SECRET)] == [seed.SUBSCRIPTION_ID]
    rows = [{"Time": "2026-01-01T00:00:00Z", "Message": "from az", "Level": "Info"}]
    sent = sender.run("rest", "--method", "post", "--resource", "https://monitor.azure.com", "--url",
                      f"{ingestion}/dataCollectionRules/{immutable_id}/streams/{STREAM}?api-version=2023-01-01",
                      "--body", json.dumps(rows), "--headers", "Content-Type=application/json")
    assert sent.stdout.strip() == ""  # 204
    stored = subprocess.run([sys.executable, "-m", "provision", "emulator", "rows", TABLE, "--state",
                             str(tmp_path / "state")], capture_output=True, text=True, timeout=60)
    assert [json.loads(line)["Message"] for line in stored.stdout.splitlines()] == ["from az"], stored.stderr

    # the toolkit reads what az made as the scenario it describes
    scenario = tmp_path / "az.yaml"
    scenario.write_text(SCENARIO)
    plan = subprocess.run([sys.executable, "-m", "provision", "plan", str(scenario), "--detailed-exitcode"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **served, "PROVISION_CLOUD": "local"})
    assert plan.returncode == 0 and "No changes" in plan.stdout, plan.stdout + plan.stderr

    # clean-up as a pipeline does it: the group az made goes, with the assignment in it
    az.run("group", "delete", "-n", "rg-az", "--yes")
    assert az.run("group", "exists", "-n", "rg-az").stdout.strip() == "false"
    assert az.json("role", "assignment", "list", "--assignee", seed.NOBODY_OBJECT_ID, "--all") == []


def test_az_without_directory_read_falls_back_as_against_azure(served_as_seeded, tmp_path):
    """The seeded deployer has Application.Read.All only: getByIds answers 403, and az does what it does against
    Azure then: it warns, takes the GUID as an object id, and lists assignments without principal names."""
    az = Az(tmp_path / "az", served_as_seeded["REQUESTS_CA_BUNDLE"])
    az.sign_in(served_as_seeded["PROVISION_LOCAL_URL"], seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)
    created = az.run("role", "assignment", "create", "--assignee", seed.NOBODY_OBJECT_ID, "--role", "Reader", "--scope", RG_ID)
    assert json.loads(created.stdout)["principalId"] == seed.NOBODY_OBJECT_ID
    assert f"Assuming {seed.NOBODY_OBJECT_ID} as an object ID" in created.stderr
    listed = az.json("role", "assignment", "list", "--scope", RG_ID)
    assert [(a["principalId"], a["roleDefinitionName"], a.get("principalName")) for a in listed] == [
        (seed.NOBODY_OBJECT_ID, "Reader", None)]
    by_app_id = az.json("role", "assignment", "create", "--assignee", seed.SENDER_APP_ID, "--role", "Reader", "--scope", RG_ID)
    assert by_app_id["principalId"] == seed.SENDER_OBJECT_ID  # servicePrincipals needs Application.Read.All only


def test_az_private_link_scope_then_import_and_plan(served_as_seeded, tmp_path):
    """A pipeline's network step: az makes an Azure Monitor private link scope and associates a DCE with it
    (`az monitor private-link-scope`, which sends 2019-10-17-preview); `provision import` then writes the association
    into `private_link_scopes`, and `provision plan` of that file has nothing to do."""
    url, ca = served_as_seeded["PROVISION_LOCAL_URL"], served_as_seeded["REQUESTS_CA_BUNDLE"]
    az = Az(tmp_path / "az", ca)
    az.sign_in(url, seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)
    dce_id = f"{RG_ID}/providers/Microsoft.Insights/dataCollectionEndpoints/dce-az"
    dce = tmp_path / "dce.json"
    dce.write_text(json.dumps({"location": "westeurope", "properties": {"networkAcls": {"publicNetworkAccess": "Disabled"}}}))
    az.json("rest", "--method", "put", "--url", f"{url}{dce_id}?api-version=2023-03-11", "--body", f"@{dce}")
    scope = az.json("monitor", "private-link-scope", "create", "-n", "ampls-az", "-g", seed.RESOURCE_GROUP)
    assert scope["name"] == "ampls-az" and scope["provisioningState"] == "Succeeded"
    linked = az.json("monitor", "private-link-scope", "scoped-resource", "create", "-g", seed.RESOURCE_GROUP,
                     "--scope-name", "ampls-az", "-n", "dce-az-link", "--linked-resource", dce_id)
    assert linked["linkedResourceId"].lower() == dce_id.lower() and linked["provisioningState"] == "Succeeded"
    listed = az.json("monitor", "private-link-scope", "scoped-resource", "list", "-g", seed.RESOURCE_GROUP,
                     "--scope-name", "ampls-az")
    assert [r["name"] for r in listed] == ["dce-az-link"]
    rule = _dcr_body()
    rule.pop("kind")  # bound to the DCE: the endpoint senders use is the DCE's
    rule["properties"]["dataCollectionEndpointId"] = dce_id
    body = tmp_path / "dcr.json"
    body.write_text(json.dumps(rule))
    az.run("monitor", "log-analytics", "workspace", "table", "create", "-g", seed.RESOURCE_GROUP, "--workspace-name",
           seed.WORKSPACE_NAME, "-n", TABLE, "--columns", "TimeGenerated=datetime", "Message=string", "Level=string")
    az.json("rest", "--method", "put", "--url", f"{url}{DCR_ID}?api-version=2023-03-11", "--body", f"@{body}")

    env = {**os.environ, **served_as_seeded, "PROVISION_CLOUD": "local"}
    out = tmp_path / "imported.yaml"
    imported = subprocess.run([sys.executable, "-m", "provision", "import", "--rule", "dcr-az", "--out", str(out)],
                              capture_output=True, text=True, timeout=120, env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    text = out.read_text()
    assert "  public_network_access: Disabled\n  private_link_scopes:\n    - {scope: ampls-az, name: dce-az-link}\n" in text
    plan = subprocess.run([sys.executable, "-m", "provision", "plan", str(out), "--detailed-exitcode"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert plan.returncode == 0 and "No changes" in plan.stdout, plan.stdout + plan.stderr
