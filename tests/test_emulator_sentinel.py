"""Microsoft Sentinel onboarding and the Azure tables it brings (issue 9; ops_sentinel.py, docs/emulator.md).

No official Python SDK for Microsoft.SecurityInsights is a dependency, so the onboarding calls go through the
Log Analytics management client's own pipeline (its ARM token, TLS and retries) with ``send_request``.
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from provision.emulator import seed
from tests.emulator_helpers import RG, create_dcr, dcr_body, grant_sender

ONBOARDING = f"{seed.WORKSPACE_ID}/providers/Microsoft.SecurityInsights/onboardingStates"
VERSION = "api-version=2025-09-01"
CEF_ROW = {"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "CEF:0|vendor|product|1|100|hello|5|"}


def _send(azure, method: str, path: str, body: dict | None = None, who: str = "deployer"):
    client = azure.loganalytics(who)
    request = HttpRequest(method, f"{azure.emu.url}{path}", json=body) if body is not None else \
        HttpRequest(method, f"{azure.emu.url}{path}")
    return client.send_request(request)


def _onboard(azure, who: str = "deployer"):
    return _send(azure, "PUT", f"{ONBOARDING}/default?{VERSION}", {"properties": {"customerManagedKey": False}}, who)


def _cef_rule_body():
    body = dcr_body(table="CommonSecurityLog", columns=(("TimeGenerated", "datetime"), ("Message", "string")))
    body["properties"]["dataFlows"][0]["outputStream"] = "Microsoft-CommonSecurityLog"
    body["properties"]["dataFlows"][0]["transformKql"] = "source | project TimeGenerated, Message"
    return body


def test_a_new_workspace_lacks_sentinel_tables_but_has_the_others(azure):
    la = azure.loganalytics()
    names = {t.name for t in la.tables.list_by_workspace(RG, seed.WORKSPACE_NAME)}
    assert "Syslog" in names and "CommonSecurityLog" not in names and "SecurityEvent" not in names
    with pytest.raises(ResourceNotFoundError):
        la.tables.get(RG, seed.WORKSPACE_NAME, "CommonSecurityLog")
    assert la.tables.get(RG, seed.WORKSPACE_NAME, "Syslog").name == "Syslog"


def test_a_flow_to_a_sentinel_table_before_onboarding_is_refused(azure):
    with pytest.raises(HttpResponseError) as raised:
        create_dcr(azure, "dcr-cef", _cef_rule_body())
    assert raised.value.status_code == 400
    assert "InvalidOutputTable" in json.dumps(raised.value.response.json())


def test_onboarding_brings_the_tables_and_the_rule_then_ingests(azure, emu):
    created = _onboard(azure)
    assert created.status_code == 201
    body = created.json()
    assert body["id"].lower() == f"{ONBOARDING}/default".lower() and body["name"] == "default"
    assert body["type"] == "Microsoft.SecurityInsights/onboardingStates" and body["properties"] == {"customerManagedKey": False}
    assert _onboard(azure).status_code == 200  # a second PUT updates
    la = azure.loganalytics()
    names = {t.name for t in la.tables.list_by_workspace(RG, seed.WORKSPACE_NAME)}
    assert {"CommonSecurityLog", "SecurityEvent", "ASimDnsActivityLogs", "Syslog"} <= names
    rule = create_dcr(azure, "dcr-cef", _cef_rule_body())
    grant_sender(azure, rule.id)
    azure.ingestion(rule.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[CEF_ROW])
    assert emu.rows("CommonSecurityLog") == [CEF_ROW]


def test_get_list_and_delete_follow_the_spec(azure):
    missing = _send(azure, "GET", f"{ONBOARDING}/default?{VERSION}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
    assert _send(azure, "GET", f"{ONBOARDING}?{VERSION}").json() == {"value": []}
    _onboard(azure)
    got = _send(azure, "GET", f"{ONBOARDING}/default?{VERSION}")
    assert got.status_code == 200 and got.json()["name"] == "default"
    assert [s["name"] for s in _send(azure, "GET", f"{ONBOARDING}?{VERSION}").json()["value"]] == ["default"]
    assert _send(azure, "DELETE", f"{ONBOARDING}/default?{VERSION}").status_code == 200
    assert _send(azure, "DELETE", f"{ONBOARDING}/default?{VERSION}").status_code == 204
    assert _send(azure, "GET", f"{ONBOARDING}/default?{VERSION}").status_code == 404
    # the tables Sentinel brought stay (docs/emulator.md "Microsoft Sentinel onboarding")
    assert azure.loganalytics().tables.get(RG, seed.WORKSPACE_NAME, "CommonSecurityLog").name == "CommonSecurityLog"


def test_bad_onboarding_requests(azure):
    other = _send(azure, "PUT", f"{ONBOARDING}/other?{VERSION}", {"properties": {}})
    assert other.status_code == 400 and other.json()["error"]["code"] == "InvalidResourceName"
    cmk = _send(azure, "PUT", f"{ONBOARDING}/default?{VERSION}", {"properties": {"customerManagedKey": "yes"}})
    assert cmk.status_code == 400 and cmk.json()["error"]["code"] == "InvalidRequestContent"
    old = _send(azure, "PUT", f"{ONBOARDING}/default?api-version=2024-03-01", {"properties": {}})
    assert old.status_code == 400 and old.json()["error"]["code"] == "NoRegisteredProviderFound"
    nobody = _onboard(azure, who="nobody")
    assert nobody.status_code == 403 and nobody.json()["error"]["code"] == "AuthorizationFailed"
    ghost = _send(azure, "PUT", f"{seed.WORKSPACE_ID}-nope/providers/Microsoft.SecurityInsights/onboardingStates/default?{VERSION}",
                  {"properties": {}})
    assert ghost.status_code == 404
    assert "CommonSecurityLog" not in {t.name for t in azure.loganalytics().tables.list_by_workspace(RG, seed.WORKSPACE_NAME)}


def test_a_sentinel_table_cannot_be_written_before_onboarding(azure):
    la = azure.loganalytics()
    body = {"properties": {"schema": {"name": "CommonSecurityLog", "columns": [{"name": "Extra_CF", "type": "string"}]}}}
    with pytest.raises(HttpResponseError) as raised:
        la.tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "CommonSecurityLog", body).result()
    assert raised.value.status_code == 400 and "Sentinel" in raised.value.error.message
    _onboard(azure)
    table = la.tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "CommonSecurityLog", body).result()
    assert "Extra_CF" in [c.name for c in table.schema.columns]
