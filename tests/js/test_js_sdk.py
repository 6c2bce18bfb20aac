"""The Azure SDK for JavaScript (@azure/identity, @azure/arm-operationalinsights, @azure/arm-monitor,
@azure/arm-authorization, @azure/monitor-ingestion) against the emulator (issue 11): a table as an LRO, a DCR, a
role assignment, ``LogsIngestionClient.upload`` of a few thousand rows, ``WorkloadIdentityCredential`` through the
emulator's issuer, and ARM's 401 for a wrong-audience token.

Needs ``node`` and the packages pinned in tests/js/package.json (lockfile beside it): ``npm ci --prefix tests/js``.
The test installs them itself (once, into tests/js/node_modules, git-ignored; about 30 s) when npm is present, as
tests/kql/test_differential.py does for Microsoft's KQL parser; without node/npm or the registry it skips, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provision.emulator import seed

HERE = Path(__file__).parent
PACKAGES = ("identity", "arm-operationalinsights", "arm-monitor", "arm-authorization", "monitor-ingestion")
INSTALL = "npm ci --prefix tests/js --no-audit --no-fund"
ROWS = 3000


def _installed() -> bool:
    return all((HERE / "node_modules" / "@azure" / name / "package.json").exists() for name in PACKAGES)


def _node_available() -> bool:
    if shutil.which("node") is None:
        return False
    if _installed():
        return True
    if shutil.which("npm"):
        subprocess.run(INSTALL.split(), cwd=HERE.parent.parent, check=False, timeout=600, capture_output=True)
    return _installed()


pytestmark = pytest.mark.skipif(not _node_available(), reason=f"needs node and the Azure SDK for JavaScript: {INSTALL}")


def test_the_javascript_sdk_flow_against_the_emulator(emu, tmp_path):
    subject = "repo:contoso/sender:environment:ci"
    emu.add_federated_credential(seed.DEPLOYER_APP_ID, emu.issuer_url, subject)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emu.federated_token(subject))
    flow = {
        "url": emu.url, "tenantId": seed.TENANT_ID, "subscriptionId": seed.SUBSCRIPTION_ID,
        "deployerId": seed.DEPLOYER_APP_ID, "deployerSecret": seed.DEPLOYER_SECRET,
        "senderId": seed.SENDER_APP_ID, "senderSecret": seed.SENDER_SECRET, "senderObjectId": seed.SENDER_OBJECT_ID,
        "resourceGroup": seed.RESOURCE_GROUP, "workspace": seed.WORKSPACE_NAME, "workspaceId": seed.WORKSPACE_ID,
        "location": seed.LOCATION, "table": "JsApp_CL", "rule": "dcr-jsapp", "rows": ROWS,
        "publisherRoleId": seed.MONITORING_METRICS_PUBLISHER_ROLE_ID, "federatedTokenFile": str(token_file),
    }
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(emu.ca_path)}  # what `serve` prints for Node
    proc = subprocess.run(["node", str(HERE / "flow.mjs")], input=json.dumps(flow), capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)

    assert result["table"] == {"name": "JsApp_CL", "provisioningState": "Succeeded"}
    assert emu.count("PUT", "Tables_CreateOrUpdate", 202) == 1  # created as a long-running operation, polled to the end
    assert result["rule"]["logsIngestion"].startswith(emu.url) and result["rule"]["immutableId"].startswith("dcr-")
    assert result["roleAssignment"]["principalId"] == seed.SENDER_OBJECT_ID
    assert result["uploaded"] == ROWS
    stored = emu.rows("JsApp_CL")
    assert sorted(row["Seq"] for row in stored) == list(range(ROWS))
    assert emu.count("POST", "Ingest_Upload", 204) > 1  # the client split the rows into 1 MB requests
    assert result["workloadIdentity"] == {"workspace": seed.WORKSPACE_NAME}
    assert result["wrongAudience"] == {"status": 401, "code": "InvalidAuthenticationTokenAudience"}
