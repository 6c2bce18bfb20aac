"""Entra ID, Graph and token checks (security), through azure-identity and the mgmt/ingestion clients.

Token rules: signed (HMAC), audience per route with or without trailing slash,
expiry; 401 with WWW-Authenticate like ARM. Token errors AADSTS-style
(sdk-notes.md §4.1): AADSTS7000215 wrong secret, AADSTS700016 unknown app.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.request

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from provision.emulator import seed
from tests.emulator_helpers import RG, WS, deploy


class StaticToken:
    """A TokenCredential that hands out a fixed token (to send crafted tokens through the official clients)."""

    def __init__(self, token: str):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, int(time.time()) + 3600)


def _raw(emu, path, method="GET", headers=None, data=None):
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    request = urllib.request.Request(emu.url + path, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_wrong_secret_is_aadsts7000215(azure):
    cred = azure.credential("deployer", secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token("https://management.azure.com/.default")


def test_unknown_client_is_aadsts700016(azure):
    cred = azure.credential("deployer", client_id="99999999-0000-4000-8000-000000000000")
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        cred.get_token("https://management.azure.com/.default")


def test_unknown_resource_is_aadsts500011(azure):
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        azure.credential().get_token("https://vault.azure.net/.default")


def test_token_carries_claims(azure, emu):
    token = azure.credential("sender").get_token("https://monitor.azure.com/.default").token
    payload = token.split(".")[1]
    claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["appid"] == seed.SENDER_APP_ID and claims["oid"] == seed.SENDER_OBJECT_ID
    assert claims["tid"] == seed.TENANT_ID and claims["aud"] == "https://monitor.azure.com"
    assert claims["exp"] > time.time() + 3000


def test_no_token_is_401_with_challenge(emu):
    status, headers, body = _raw(emu, f"{seed.WORKSPACE_ID}?api-version=2025-07-01")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "AuthenticationFailed"
    assert headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
    assert headers["x-ms-request-id"]


def test_wrong_audience_is_401(azure, emu):
    graph_token = emu.issue_token(seed.DEPLOYER_APP_ID, "https://graph.microsoft.com")
    la = azure.loganalytics(credential=StaticToken(graph_token))
    with pytest.raises(ClientAuthenticationError) as raised:
        la.workspaces.get(RG, WS)
    assert raised.value.error.code == "InvalidAuthenticationTokenAudience"


def test_audience_with_trailing_slash_is_accepted(azure, emu):
    token = emu.issue_token(seed.DEPLOYER_APP_ID, "https://management.azure.com/")
    assert azure.loganalytics(credential=StaticToken(token)).workspaces.get(RG, WS).name == WS


def test_expired_token_is_401(azure, emu):
    token = emu.issue_token(seed.DEPLOYER_APP_ID, "https://management.azure.com", lifetime=-5)
    with pytest.raises(ClientAuthenticationError) as raised:
        azure.loganalytics(credential=StaticToken(token)).workspaces.get(RG, WS)
    assert raised.value.error.code == "ExpiredAuthenticationToken"


def test_tampered_token_is_401(azure, emu):
    token = emu.issue_token(seed.NOBODY_APP_ID, "https://management.azure.com")
    header, payload, signature = token.split(".")
    claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["oid"] = seed.DEPLOYER_OBJECT_ID  # try to become the Owner
    forged = __import__("base64").urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(ClientAuthenticationError) as raised:
        azure.loganalytics(credential=StaticToken(f"{header}.{forged}.{signature}")).workspaces.get(RG, WS)
    assert raised.value.error.code == "InvalidAuthenticationToken"


def test_ingestion_refuses_arm_audience(azure, emu):
    rule = deploy(azure)
    arm_token = emu.issue_token(seed.SENDER_APP_ID, "https://management.azure.com")
    client = azure.ingestion(rule.endpoints.logs_ingestion, credential=StaticToken(arm_token))
    with pytest.raises(ClientAuthenticationError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[{"Message": "x"}])
    assert raised.value.status_code == 401


def test_graph_service_principal_by_app_id(emu):
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(seed.TENANT_ID, seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET, authority=emu.url,
                                  disable_instance_discovery=True, connection_verify=str(emu.ca_path))
    token = cred.get_token("https://graph.microsoft.com/.default").token
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = _raw(emu, f"/v1.0/servicePrincipals(appId='{seed.SENDER_APP_ID}')", headers=auth)
    assert status == 200 and json.loads(body)["id"] == seed.SENDER_OBJECT_ID
    status, _, body = _raw(emu, "/v1.0/servicePrincipals(appId='00000000-0000-4000-8000-000000000000')", headers=auth)
    assert status == 404 and json.loads(body)["error"]["code"] == "Request_ResourceNotFound"
    arm_token = cred.get_token("https://management.azure.com/.default").token
    status, _, _ = _raw(emu, f"/v1.0/servicePrincipals(appId='{seed.SENDER_APP_ID}')", headers={"Authorization": f"Bearer {arm_token}"})
    assert status == 401


def test_openid_configuration_has_msal_fields(emu):
    status, _, body = _raw(emu, f"/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration")
    config = json.loads(body)
    assert status == 200 and config["token_endpoint"].startswith(emu.url) and "authorization_endpoint" in config


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused(emu):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(emu.ca_path))
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        urllib.request.urlopen(urllib.request.Request(emu.url + "/x"), context=context)


def test_certificate_valid_for_localhost(emu):
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    url = emu.url.replace("127.0.0.1", "localhost") + f"/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration"
    with urllib.request.urlopen(url, context=context) as response:
        assert response.status == 200


def test_nobody_gets_authorization_failed(azure):
    with pytest.raises(HttpResponseError) as raised:
        azure.loganalytics("nobody").workspaces.get(RG, WS)
    assert raised.value.status_code == 403 and raised.value.error.code == "AuthorizationFailed"
    assert seed.NOBODY_OBJECT_ID in raised.value.error.message


def test_env_drives_environment_credential(emu, monkeypatch):
    """What `serve` prints is enough for azure-identity's EnvironmentCredential (sdk-notes.md §5.1)."""
    from azure.identity import EnvironmentCredential
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient

    for key, value in emu.env().items():
        monkeypatch.setenv(key, value)
    cred = EnvironmentCredential(disable_instance_discovery=True)
    la = LogAnalyticsManagementClient(cred, emu.env()["AZURE_SUBSCRIPTION_ID"], base_url=emu.env()["PROVISION_LOCAL_URL"],
                                      retry_total=0)  # REQUESTS_CA_BUNDLE from env() makes the CA trusted
    assert la.workspaces.get(RG, WS).id == emu.env()["PROVISION_LOCAL_WORKSPACE_ID"]


@pytest.mark.parametrize("who", ["sender", "nobody"])
def test_graph_refuses_apps_without_application_read_all(emu, azure, who):
    # Graph's answer to an app whose token has no Application.Read.All role: 403 Authorization_RequestDenied,
    # "Insufficient privileges to complete the operation.", in Graph's envelope with innerError.
    token = azure.credential(who).get_token("https://graph.microsoft.com/.default").token
    status, _, body = _raw(emu, f"/v1.0/servicePrincipals(appId='{seed.SENDER_APP_ID}')",
                           headers={"Authorization": f"Bearer {token}", "client-request-id": "c-1"})
    error = json.loads(body)["error"]
    assert status == 403 and error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["client-request-id"] == "c-1"


def test_graph_roles_knob_and_token_roles_claim(emu, azure):
    def graph(token):
        return _raw(emu, f"/v1.0/servicePrincipals(appId='{seed.SENDER_APP_ID}')",
                    headers={"Authorization": f"Bearer {token}"})

    def roles(token):
        payload = token.split(".")[1]
        return json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("roles")

    deployer = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token
    assert roles(deployer) == ["Application.Read.All"] and graph(deployer)[0] == 200
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ())  # consent withdrawn: from the next token on
    revoked = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token
    assert roles(revoked) is None and graph(revoked)[0] == 403
    emu.set_graph_roles(seed.SENDER_APP_ID, ["Directory.Read.All"])
    sender = azure.credential("sender").get_token("https://graph.microsoft.com/.default").token
    assert graph(sender)[0] == 200
    arm = azure.credential("deployer").get_token("https://management.azure.com/.default").token
    assert roles(arm) is None  # Graph permissions are only in Graph tokens
    emu.reset()
    fresh = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token
    assert graph(fresh)[0] == 200
    with pytest.raises(ValueError, match="unknown app id"):
        emu.set_graph_roles("00000000-0000-4000-8000-000000000000", ())


def test_graph_service_principal_by_object_id(emu, azure):
    token = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = _raw(emu, f"/v1.0/servicePrincipals/{seed.SENDER_OBJECT_ID}", headers=auth)
    assert status == 200 and json.loads(body)["appId"] == seed.SENDER_APP_ID
    status, _, body = _raw(emu, "/v1.0/servicePrincipals/b9b9b9b9-0000-4000-8000-000000000009", headers=auth)
    error = json.loads(body)["error"]
    assert status == 404 and error["code"] == "Request_ResourceNotFound" and "innerError" in error
