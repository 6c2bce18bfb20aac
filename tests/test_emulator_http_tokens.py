"""Tokens only for the emulator's tenant, and token checks of tid, nbf and exp (issue 12, item 9).

Entra answers an unknown tenant with AADSTS90002 (``invalid_tenant`` from discovery, ``invalid_request`` from
the token endpoint); the tenant may be named by its id or its verified domain, and the token's ``tid`` is
the id either way. ARM refuses a token of another tenant with InvalidAuthenticationTokenTenant, one whose
``nbf`` is more than the 5-minute clock skew ahead with InvalidAuthenticationToken; the ingestion endpoint
answers InvalidToken for both.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

import pytest
from azure.core.exceptions import ClientAuthenticationError

from provision.emulator import seed
from tests.emulator_helpers import RG, WS, deploy
from tests.test_emulator_identity import StaticToken, _raw

ARM = "https://management.azure.com"
MONITOR = "https://monitor.azure.com"


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _token_request(emu, tenant: str) -> tuple[int, dict]:
    form = urlencode({"grant_type": "client_credentials", "client_id": seed.DEPLOYER_APP_ID,
                      "client_secret": seed.DEPLOYER_SECRET, "scope": f"{ARM}/.default"}).encode()
    status, _, body = _raw(emu, f"/{tenant}/oauth2/v2.0/token", method="POST", data=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    return status, json.loads(body)


@pytest.mark.parametrize("tenant", ["evil-tenant.example", "33333333-3333-4333-8333-333333333333", "common"])
def test_token_endpoint_refuses_unknown_tenant_with_aadsts90002(emu, tenant):
    status, body = _token_request(emu, tenant)
    assert status == 400 and body["error"] == "invalid_request" and body["error_codes"] == [90002]
    assert body["error_description"].startswith(f"AADSTS90002: Tenant '{tenant}' not found.")
    assert "access_token" not in body


def test_discovery_refuses_unknown_tenant_and_msal_says_so(emu, azure):
    status, _, body = _raw(emu, "/evil-tenant.example/v2.0/.well-known/openid-configuration")
    error = json.loads(body)
    assert status == 400 and error["error"] == "invalid_tenant" and error["error_codes"] == [90002]
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential("evil-tenant.example", seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET,
                                        authority=emu.url, disable_instance_discovery=True, connection_verify=azure.ca)
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):
        credential.get_token(f"{ARM}/.default")


@pytest.mark.parametrize("tenant", [seed.TENANT_DOMAIN, seed.TENANT_DOMAIN.upper(), seed.TENANT_ID.upper()])
def test_tenant_by_verified_domain_or_any_case_gets_a_token_with_the_tenant_id(emu, azure, tenant):
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(tenant, seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET, authority=emu.url,
                                        disable_instance_discovery=True, connection_verify=azure.ca)
    token = credential.get_token(f"{ARM}/.default").token
    assert _claims(token)["tid"] == seed.TENANT_ID
    assert azure.loganalytics(credential=credential).workspaces.get(RG, WS).name == WS
    _, _, body = _raw(emu, f"/{tenant}/v2.0/.well-known/openid-configuration")
    assert json.loads(body)["token_endpoint"] == f"{emu.url}/{seed.TENANT_ID}/oauth2/v2.0/token"


def test_arm_refuses_a_token_of_another_tenant(emu, azure):
    token = emu.issue_token(seed.DEPLOYER_APP_ID, ARM, tenant="44444444-4444-4444-8444-444444444444")
    with pytest.raises(ClientAuthenticationError) as raised:
        azure.loganalytics(credential=StaticToken(token)).workspaces.get(RG, WS)
    assert raised.value.error.code == "InvalidAuthenticationTokenTenant"
    assert "wrong issuer 'https://sts.windows.net/44444444-4444-4444-8444-444444444444/'" in raised.value.error.message
    assert f"'{emu.url}/{seed.TENANT_ID}'" in raised.value.error.message


def test_ingestion_refuses_a_token_of_another_tenant(emu, azure):
    rule = deploy(azure)
    token = emu.issue_token(seed.SENDER_APP_ID, MONITOR, tenant="evil-tenant.example")
    client = azure.ingestion(rule.endpoints.logs_ingestion, credential=StaticToken(token))
    with pytest.raises(ClientAuthenticationError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[{"Message": "x"}])
    assert raised.value.status_code == 401 and raised.value.error.code == "InvalidToken"
    assert emu.rows("MyApp_CL") == []


def test_token_not_yet_valid_is_refused_beyond_the_clock_skew(emu, azure):
    early = emu.issue_token(seed.DEPLOYER_APP_ID, ARM, not_before=time.time() + 600)
    with pytest.raises(ClientAuthenticationError) as raised:
        azure.loganalytics(credential=StaticToken(early)).workspaces.get(RG, WS)
    assert raised.value.error.code == "InvalidAuthenticationToken"
    assert "not yet valid" in raised.value.error.message
    within_skew = emu.issue_token(seed.DEPLOYER_APP_ID, ARM, not_before=time.time() + 120)
    assert azure.loganalytics(credential=StaticToken(within_skew)).workspaces.get(RG, WS).name == WS


def test_ingestion_refuses_a_token_not_yet_valid(emu, azure):
    rule = deploy(azure)
    early = emu.issue_token(seed.SENDER_APP_ID, MONITOR, not_before=time.time() + 600)
    client = azure.ingestion(rule.endpoints.logs_ingestion, credential=StaticToken(early))
    with pytest.raises(ClientAuthenticationError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[{"Message": "x"}])
    assert raised.value.error.code == "InvalidToken" and "not yet valid" in raised.value.error.message


@pytest.mark.parametrize("missing", ["tid", "nbf", "exp"])
def test_signed_token_without_a_lifetime_or_tenant_claim_is_invalid(emu, azure, missing):
    """A token must say who issued it for which tenant and when it is valid; signed but incomplete is refused."""
    claims = _claims(emu.issue_token(seed.DEPLOYER_APP_ID, ARM))
    del claims[missing]
    token = emu.running.tokens.sign(claims)
    with pytest.raises(ClientAuthenticationError) as raised:
        azure.loganalytics(credential=StaticToken(token)).workspaces.get(RG, WS)
    assert raised.value.error.code == "InvalidAuthenticationToken"
