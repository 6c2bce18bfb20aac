"""Entra ID as SDKs and CI use it (issue 11): RS256 tokens a standard validator accepts from the served jwks_uri,
client_secret_basic, certificate credentials and workload identity federation through the emulator's own issuer.

Every test drives the real clients (azure-identity, PyJWT, urllib) over HTTPS against the emulator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jwt
import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError

from provision.emulator import Emulator, seed

ARM = "https://management.azure.com"
RG, WS = seed.RESOURCE_GROUP, seed.WORKSPACE_NAME
SUBJECT = "repo:contoso/pipeline:ref:refs/heads/main"


def _raw(emu, path, method="GET", headers=None, data=None):
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    request = urllib.request.Request(emu.url + path, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _token_request(emu, form: dict, headers=None):
    body = urllib.parse.urlencode(form).encode()
    status, _, payload = _raw(emu, f"/{seed.TENANT_ID}/oauth2/v2.0/token", "POST",
                              {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}, body)
    return status, json.loads(payload)


def _basic(client_id: str, secret: str) -> str:
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _config(emu) -> dict:
    status, _, body = _raw(emu, f"/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration")
    assert status == 200
    return json.loads(body)


# ---------------------------------------------------------------- RS256 and the JWKS

def test_a_standard_validator_accepts_the_token_from_the_served_jwks(emu, azure):
    token = azure.credential().get_token(f"{ARM}/.default").token
    config = _config(emu)
    assert config["jwks_uri"] == f"{emu.url}/{seed.TENANT_ID}/discovery/v2.0/keys"
    client = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ssl.create_default_context(cafile=str(emu.ca_path)))
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=ARM)
    assert claims["appid"] == seed.DEPLOYER_APP_ID and claims["tid"] == seed.TENANT_ID
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_the_jwks_has_public_keys_only(emu):
    status, _, body = _raw(emu, f"/{seed.TENANT_ID}/discovery/v2.0/keys")
    keys = json.loads(body)["keys"]
    assert status == 200 and len(keys) == 1
    assert set(keys[0]) == {"kty", "use", "kid", "x5t", "n", "e"}  # no private member (d, p, q, dp, dq, qi)


def test_the_jwks_of_an_unknown_tenant_is_aadsts90002(emu):
    status, _, body = _raw(emu, "/evil.example/discovery/v2.0/keys")
    assert status == 400 and json.loads(body)["error_codes"] == [90002]


def test_the_signing_key_survives_a_restart_and_differs_per_state_dir(tmp_path):
    with Emulator(tmp_path / "a") as first:
        token = first.issue_token(seed.DEPLOYER_APP_ID, ARM)
        first_keys = _raw(first, f"/{seed.TENANT_ID}/discovery/v2.0/keys")[2]
    with Emulator(tmp_path / "a") as again:
        assert _raw(again, f"/{seed.TENANT_ID}/discovery/v2.0/keys")[2] == first_keys
        again.running.tokens.verify(f"Bearer {token}", ARM)
    with Emulator(tmp_path / "b") as other:
        assert _raw(other, f"/{seed.TENANT_ID}/discovery/v2.0/keys")[2] != first_keys
        status, _, _ = _raw(other, f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourcegroups/{RG}?api-version=2021-04-01",
                            headers={"Authorization": f"Bearer {token}"})
        assert status == 401


def test_a_token_signed_hs256_with_the_public_key_is_refused(emu):
    """The algorithm-confusion forgery (RFC 8725 §2.1): HMAC keyed with the published key must not verify."""
    real = emu.issue_token(seed.DEPLOYER_APP_ID, ARM)
    header = jwt.get_unverified_header(real)
    claims = jwt.decode(real, options={"verify_signature": False})
    jwk = json.loads(_raw(emu, f"/{seed.TENANT_ID}/discovery/v2.0/keys")[2])["keys"][0]
    forged = _hs256({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}, claims, json.dumps(jwk).encode())
    status, _, body = _raw(emu, f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourcegroups/{RG}?api-version=2021-04-01",
                           headers={"Authorization": f"Bearer {forged}"})
    assert status == 401 and json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"


def _hs256(header: dict, claims: dict, secret: bytes) -> str:
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_the_openid_configuration_lists_only_what_is_served(emu):
    config = _config(emu)
    assert config["grant_types_supported"] == ["client_credentials"]
    assert config["token_endpoint_auth_methods_supported"] == ["client_secret_post", "client_secret_basic", "private_key_jwt"]
    assert "device_authorization_endpoint" not in config and "scopes_supported" not in config
    assert _raw(emu, urllib.parse.urlsplit(config["jwks_uri"]).path)[0] == 200


# ---------------------------------------------------------------- client_secret_basic

def test_client_secret_basic_gets_a_token(emu):
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default"},
                                  {"Authorization": _basic(seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)})
    assert status == 200 and body["token_type"] == "Bearer"
    emu.running.tokens.verify(f"Bearer {body['access_token']}", ARM)


def test_client_secret_basic_with_a_wrong_secret_is_aadsts7000215(emu):
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default"},
                                  {"Authorization": _basic(seed.DEPLOYER_APP_ID, "wrong")})
    assert status == 401 and body["error"] == "invalid_client" and body["error_codes"] == [7000215]


def test_two_client_authentication_methods_in_one_request_are_refused(emu):
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_secret": seed.DEPLOYER_SECRET},
                                  {"Authorization": _basic(seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)})
    assert status == 400 and body["error"] == "invalid_request" and "use one" in body["error_description"]


def test_a_basic_header_that_is_not_base64_is_invalid_request(emu):
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default"},
                                  {"Authorization": "Basic !!!not-base64"})
    assert status == 400 and body["error"] == "invalid_request"


def test_no_client_credential_at_all_is_aadsts7000218(emu):
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_id": seed.DEPLOYER_APP_ID})
    assert status == 401 and body["error_codes"] == [7000218]


# ---------------------------------------------------------------- certificate credentials

def _rsa_leaf(name: str):
    rsa = trustme.KeyType.RSA  # Entra certificate credentials are RSA (trustme's default is ECDSA)
    return trustme.CA(key_type=rsa).issue_cert(name, key_type=rsa)


def _other_key() -> str:
    return _rsa_leaf("someone-else").private_key_pem.bytes().decode()


@pytest.fixture
def certificate():
    """An RSA certificate and its key (PEM), as a user would make for an app registration."""
    leaf = _rsa_leaf("provision-local-deployer")
    return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode()


def _cert_credential(emu, key_and_cert: bytes, **extra):
    from azure.identity import CertificateCredential

    return CertificateCredential(seed.TENANT_ID, seed.DEPLOYER_APP_ID, certificate_data=key_and_cert,
                                 authority=emu.url, disable_instance_discovery=True,
                                 connection_verify=str(emu.ca_path), **extra)


def test_client_certificate_credential_signs_in_with_a_registered_certificate(emu, azure, certificate):
    cert_pem, key_pem = certificate
    thumbprint = emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    assert len(thumbprint) == 40
    credential = _cert_credential(emu, (key_pem + cert_pem).encode())
    assert azure.loganalytics(credential=credential).workspaces.get(RG, WS).name == WS


def test_an_unregistered_certificate_is_aadsts700027(emu, certificate):
    cert_pem, key_pem = certificate
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027") as raised:
        _cert_credential(emu, (key_pem + cert_pem).encode()).get_token(f"{ARM}/.default")
    assert "not registered on application" in str(raised.value)


def _cert_assertion(emu, key_pem: str, cert_pem: str, alg: str, header: dict, **claims) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(Encoding.DER)
    thumbs = {"x5t": base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode(),
              "x5t#S256": base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()}
    now = int(time.time())
    body = {"iss": seed.DEPLOYER_APP_ID, "sub": seed.DEPLOYER_APP_ID, "jti": str(uuid.uuid4()),
            "aud": f"{emu.url}/{seed.TENANT_ID}/oauth2/v2.0/token", "nbf": now, "exp": now + 600, **claims}
    return jwt.encode(body, key_pem, algorithm=alg, headers={k: thumbs[k] for k in header})


@pytest.mark.parametrize(("alg", "thumb"), [("RS256", "x5t"), ("PS256", "x5t#S256")])
def test_a_certificate_assertion_signed_rs256_or_ps256_is_accepted(emu, certificate, alg, thumb):
    cert_pem, key_pem = certificate
    emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    assertion = _cert_assertion(emu, key_pem, cert_pem, alg, {thumb: True})
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_id": seed.DEPLOYER_APP_ID, "client_assertion": assertion,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert status == 200, body
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["appid"] == seed.DEPLOYER_APP_ID


def test_a_certificate_assertion_signed_by_another_key_fails_signature_validation(emu, certificate):
    cert_pem, _ = certificate
    emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    other_key = _other_key()
    assertion = _cert_assertion(emu, other_key, cert_pem, "RS256", {"x5t": True})
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_id": seed.DEPLOYER_APP_ID, "client_assertion": assertion,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert status == 401 and body["error_codes"] == [700027] and "signature validation" in body["error_description"]


def test_an_expired_certificate_assertion_is_aadsts700024(emu, certificate):
    cert_pem, key_pem = certificate
    emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    past = int(time.time()) - 3600
    assertion = _cert_assertion(emu, key_pem, cert_pem, "RS256", {"x5t": True}, nbf=past - 600, exp=past)
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_id": seed.DEPLOYER_APP_ID, "client_assertion": assertion,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert status == 400 and body["error_codes"] == [700024]


def test_a_certificate_assertion_for_another_audience_is_malformed(emu, certificate):
    cert_pem, key_pem = certificate
    emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    assertion = _cert_assertion(emu, key_pem, cert_pem, "RS256", {"x5t": True}, aud="https://elsewhere.example/token")
    status, body = _token_request(emu, {"grant_type": "client_credentials", "scope": f"{ARM}/.default",
                                        "client_id": seed.DEPLOYER_APP_ID, "client_assertion": assertion,
                                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert status == 400 and body["error_codes"] == [50027]


def test_reset_forgets_registered_certificates(emu, certificate):
    cert_pem, key_pem = certificate
    emu.add_certificate(seed.DEPLOYER_APP_ID, cert_pem)
    emu.reset()
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        _cert_credential(emu, (key_pem + cert_pem).encode()).get_token(f"{ARM}/.default")


# ---------------------------------------------------------------- workload identity federation

def test_the_emulator_is_an_oidc_issuer(emu):
    status, _, body = _raw(emu, "/issuer/.well-known/openid-configuration")
    config = json.loads(body)
    assert status == 200 and config["issuer"] == emu.issuer_url and config["jwks_uri"] == emu.issuer_url + "/keys"
    token = emu.federated_token(SUBJECT)
    client = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ssl.create_default_context(cafile=str(emu.ca_path)))
    claims = jwt.decode(token, client.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                        audience="api://AzureADTokenExchange", issuer=emu.issuer_url)
    assert claims["sub"] == SUBJECT


def _workload_credential(emu, token_file, client_id=seed.DEPLOYER_APP_ID):
    from azure.identity import WorkloadIdentityCredential

    return WorkloadIdentityCredential(tenant_id=seed.TENANT_ID, client_id=client_id, token_file_path=str(token_file),
                                      authority=emu.url, disable_instance_discovery=True, connection_verify=str(emu.ca_path))


def test_workload_identity_credential_signs_in_through_the_emulators_issuer(emu, azure, tmp_path):
    emu.add_federated_credential(seed.SENDER_APP_ID, emu.issuer_url, SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emu.federated_token(SUBJECT))
    access = _workload_credential(emu, token_file, seed.SENDER_APP_ID).get_token(f"{ARM}/.default").token
    assert emu.running.tokens.verify(f"Bearer {access}", ARM).appid == seed.SENDER_APP_ID


def test_default_azure_credential_with_azure_federated_token_file(emu, azure, tmp_path, monkeypatch):
    """The GitHub Actions flow, locally: AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID."""
    from azure.identity import DefaultAzureCredential

    emu.add_federated_credential(seed.DEPLOYER_APP_ID, emu.issuer_url, SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emu.federated_token(SUBJECT))
    for name, value in {"AZURE_TENANT_ID": seed.TENANT_ID, "AZURE_CLIENT_ID": seed.DEPLOYER_APP_ID,
                        "AZURE_FEDERATED_TOKEN_FILE": str(token_file), "AZURE_AUTHORITY_HOST": emu.url,
                        "REQUESTS_CA_BUNDLE": str(emu.ca_path)}.items():
        monkeypatch.setenv(name, value)
    credential = DefaultAzureCredential(disable_instance_discovery=True, exclude_managed_identity_credential=True,
                                        exclude_developer_cli_credential=True, exclude_cli_credential=True,
                                        exclude_powershell_credential=True)
    assert azure.loganalytics(credential=credential).workspaces.get(RG, WS).name == WS


@pytest.mark.parametrize(("subject", "audience"), [("repo:contoso/other:ref:refs/heads/main", None),
                                                   (SUBJECT, "api://SomethingElse")])
def test_a_federated_token_no_credential_matches_is_aadsts70021(emu, tmp_path, subject, audience):
    emu.add_federated_credential(seed.DEPLOYER_APP_ID, emu.issuer_url, SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emu.federated_token(subject, audience))
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021") as raised:
        _workload_credential(emu, token_file).get_token(f"{ARM}/.default")
    assert f"Assertion Subject: '{subject}'" in str(raised.value)


def test_an_expired_federated_token_is_aadsts700024(emu, tmp_path):
    emu.add_federated_credential(seed.DEPLOYER_APP_ID, emu.issuer_url, SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emu.federated_token(SUBJECT, lifetime=-600))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700024"):
        _workload_credential(emu, token_file).get_token(f"{ARM}/.default")


def test_a_federated_token_signed_by_another_key_fails_signature_validation(emu, tmp_path):
    """A token naming the emulator's issuer but signed by some other key: the issuer's JWKS does not verify it."""
    emu.add_federated_credential(seed.DEPLOYER_APP_ID, emu.issuer_url, SUBJECT)
    genuine = emu.federated_token(SUBJECT)
    other_key = _other_key()
    forged = jwt.encode(jwt.decode(genuine, options={"verify_signature": False}), other_key, algorithm="RS256",
                        headers={"kid": jwt.get_unverified_header(genuine)["kid"]})
    token_file = tmp_path / "federated-token"
    token_file.write_text(forged)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        _workload_credential(emu, token_file).get_token(f"{ARM}/.default")


def test_an_unreachable_issuer_is_aadsts50166(emu, tmp_path):
    issuer = "https://127.0.0.1:9/unreachable"  # port 9 (discard): nothing listens on loopback
    emu.add_federated_credential(seed.DEPLOYER_APP_ID, issuer, SUBJECT)
    token = jwt.encode({"iss": issuer, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": int(time.time()) + 600,
                        "nbf": int(time.time())}, _other_key(),
                       algorithm="RS256")
    token_file = tmp_path / "federated-token"
    token_file.write_text(token)
    with pytest.raises(ClientAuthenticationError, match="AADSTS50166"):
        _workload_credential(emu, token_file).get_token(f"{ARM}/.default")


def test_a_token_from_an_issuer_no_app_trusts_is_never_fetched(emu, tmp_path):
    """Matching the federated credential comes first, so a request cannot make the emulator fetch a URL it names."""
    token = jwt.encode({"iss": "https://127.0.0.1:9/attacker", "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
                        "exp": int(time.time()) + 600}, "k" * 32, algorithm="HS256")
    token_file = tmp_path / "federated-token"
    token_file.write_text(token)
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        _workload_credential(emu, token_file).get_token(f"{ARM}/.default")
