"""Client assertions at the emulator's token endpoint: certificate credentials and workload identity federation.

An app may authenticate with a signed JWT instead of a secret (``client_assertion_type`` =
``urn:ietf:params:oauth:client-assertion-type:jwt-bearer``, RFC 7523 §2.2), two ways, as Entra tells them apart:

- **certificate credential** (``ClientCertificateCredential``): the app signs the JWT itself, so ``iss`` = ``sub`` =
  the client id and ``aud`` is the token endpoint; the header names the certificate by ``x5t`` (SHA-1 thumbprint)
  or ``x5t#S256`` (SHA-256), RS256 or PS256 (learn.microsoft.com/entra/identity-platform/certificate-credentials,
  "Assertion format"). The certificate must be registered on the app (``Emulator.add_certificate``).
- **federated credential** (``WorkloadIdentityCredential``, ``ClientAssertionCredential``, GitHub Actions' OIDC
  token): another issuer signed it; the app must carry a federated identity credential whose ``issuer`` and
  ``subject`` equal the token's and whose ``audiences`` hold its ``aud`` (Graph's federatedIdentityCredential
  resource; ``Emulator.add_federated_credential``). Only then are the issuer's keys fetched, from its OpenID
  discovery document's ``jwks_uri`` (learn.microsoft.com/entra/workload-id/workload-identity-federation: Entra
  "validates the token against the issuer's OIDC keys"), so a request cannot make the emulator fetch arbitrary
  URLs. The emulator is such an issuer itself (``/issuer``, ``Emulator.federated_token``).

Error codes and texts are Entra's (learn.microsoft.com/entra/identity-platform/reference-error-codes): AADSTS70021
no matching federated record (text as quoted in Azure/azure-workload-identity docs/book/src/troubleshooting.md),
AADSTS700027 signature or certificate not registered, AADSTS700024 outside the valid time range, AADSTS50027
malformed JWT, AADSTS50166 the external OIDC endpoint could not be reached.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from provision.emulator import signing
from provision.emulator.errors import TokenError

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The audience Entra expects in a federated token ("api://AzureADTokenExchange", Graph federatedIdentityCredential).
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
CLOCK_SKEW_SECONDS = 300  # as for access tokens (identity.CLOCK_SKEW_SECONDS)
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024  # a discovery document or JWKS is a few KB; refuse a flood


@dataclass(frozen=True)
class Certificate:
    """A certificate registered on an app: its thumbprints (hex SHA-1, base64url SHA-1 and SHA-256) and public key."""

    thumbprint: str  # upper-case hex SHA-1, as the portal and Graph's keyCredentials show it
    x5t: str
    x5t_s256: str
    key: rsa.RSAPublicKey

    @classmethod
    def from_pem(cls, pem: str) -> Certificate:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except ValueError as error:
            raise ValueError(f"not a PEM certificate: {error}") from None
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            der = cert.public_bytes(serialization.Encoding.DER)
            sha1 = hashlib.sha1(der, usedforsecurity=False).digest()
            return cls(sha1.hex().upper(), signing.b64(sha1), signing.b64(hashlib.sha256(der).digest()), key)
        # A user's certificate of another key type is a bad value, not a programming error.
        raise ValueError("Entra certificate credentials are RSA keys; this certificate's key is not")


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential on an app (Graph federatedIdentityCredential: name, issuer, subject, audiences)."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...] = (FEDERATED_AUDIENCE,)

    def as_dict(self) -> dict:
        return {"name": self.name, "issuer": self.issuer, "subject": self.subject, "audiences": list(self.audiences)}


def _malformed(detail: str) -> TokenError:
    return TokenError(400, "invalid_request", 50027, f"JWT token is invalid or malformed: {detail}")


def _time_range(claims: dict) -> None:
    """AADSTS700024 unless now is within [nbf - skew, exp + skew]."""
    try:
        exp = float(claims["exp"])
        nbf = float(claims.get("nbf", claims.get("iat", 0)))
    except (KeyError, TypeError, ValueError):
        raise _malformed("the assertion needs a numeric 'exp' (and 'nbf' or 'iat') claim") from None
    now = time.time()
    if not nbf - CLOCK_SKEW_SECONDS <= now <= exp + CLOCK_SKEW_SECONDS:
        raise TokenError(400, "invalid_client", 700024,
                         f"Client assertion is not within its valid time range. Current time: {_iso(now)}, assertion valid "
                         f"from {_iso(nbf)}, expiry time of assertion {_iso(exp)}.")


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(stamp))


def _bad_signature(reason: str) -> TokenError:
    return TokenError(401, "invalid_client", 700027, f"Client assertion failed signature validation. [Reason - {reason}]")


def _audiences(claims: dict) -> list[str]:
    aud = claims.get("aud")
    return [str(a) for a in aud] if isinstance(aud, list) else [str(aud)] if aud is not None else []


def check(assertion: str, assertion_type: str, app_id: str, token_paths: tuple[str, ...],
          certificates: list[Certificate], federated: list[FederatedCredential],
          issuer_keys: Callable[[str], dict]) -> str:
    """Validate a client assertion for ``app_id``; return how it authenticated ('certificate' or 'federated:NAME').

    ``token_paths``: the token endpoint paths a certificate assertion's ``aud`` may name (lower case);
    ``issuer_keys(issuer)``: that issuer's JWKS (raises TokenError when it cannot be had)."""
    if assertion_type != JWT_BEARER:
        raise TokenError(400, "invalid_request", 9002313,
                         f"Invalid request. Request is malformed or invalid: client_assertion_type must be '{JWT_BEARER}', "
                         f"not '{assertion_type}'.")
    try:
        header, claims, signing_input, signature = signing.split(assertion)
    except signing.BadSignature as problem:
        raise _malformed(str(problem)) from None
    issuer = str(claims.get("iss", ""))
    if issuer.lower() == app_id.lower():
        return _certificate(header, claims, signing_input, signature, app_id, token_paths, certificates)
    return _federated(header, claims, signing_input, signature, federated, issuer_keys)


def _certificate(header, claims, signing_input, signature, app_id, token_paths, certificates) -> str:
    if str(claims.get("sub", "")).lower() != app_id.lower():
        raise _malformed("a certificate assertion's 'sub' must be the client id, as its 'iss' is")
    if not any(urlsplit(a).path.rstrip("/").lower() in token_paths for a in _audiences(claims)):
        raise _malformed(f"the assertion's audience {_audiences(claims)} is not this tenant's token endpoint")
    named = header.get("x5t#S256") or header.get("x5t")
    if not isinstance(named, str):
        raise _malformed("a certificate assertion's header must name its certificate by 'x5t' or 'x5t#S256'")
    named = named.rstrip("=")  # MSAL Python sends the thumbprint base64url-encoded with its '=' padding
    match = next((c for c in certificates if named in (c.x5t, c.x5t_s256)), None)
    if match is None:
        try:
            shown = signing.unb64(named).hex().upper()
        except ValueError:
            shown = named
        raise TokenError(401, "invalid_client", 700027,
                         "The certificate with identifier used to sign the client assertion is not registered on application. "
                         f"[Reason - The key was not found., Thumbprint of key used by client: '{shown}', Please visit the "
                         f"Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'.]")
    try:
        signing.verify(header, signing_input, signature, match.key)
    except signing.BadSignature as problem:
        raise _bad_signature(str(problem)) from None
    _time_range(claims)
    return "certificate"


def _federated(header, claims, signing_input, signature, federated, issuer_keys) -> str:
    issuer, subject, audiences = str(claims.get("iss", "")), str(claims.get("sub", "")), _audiences(claims)
    # Exact, case-sensitive comparisons: Entra matches issuer and subject as the strings configured.
    match = next((f for f in federated if f.issuer == issuer and f.subject == subject
                  and any(a in f.audiences for a in audiences)), None)
    if match is None:
        raise TokenError(400, "invalid_request", 70021,
                         "No matching federated identity record found for presented assertion. "
                         f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: "
                         f"'{','.join(audiences)}'.")
    _time_range(claims)
    jwks = issuer_keys(issuer)
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)] if isinstance(jwks, dict) else []
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if not candidates:
        raise _bad_signature(f"The key was not found: issuer '{issuer}' publishes no key with kid '{kid}'.")
    last = signing.BadSignature("no key")
    for jwk in candidates:
        try:
            signing.verify(header, signing_input, signature, signing.key_from_jwk(jwk))
            return f"federated:{match.name}"
        except signing.BadSignature as problem:
            last = problem
    raise _bad_signature(str(last))


def fetch_issuer_keys(issuer: str, cafile: Path | None = None) -> dict:
    """The JWKS of an OIDC issuer: GET {issuer}/.well-known/openid-configuration, check its ``issuer`` is the one
    asked for (OpenID Connect Discovery 1.0 §4.3), then GET its ``jwks_uri``. HTTPS only; the system's trusted CAs
    plus ``cafile`` (the emulator's own CA, so its ``/issuer`` can be reached). AADSTS50166 when any of it fails."""
    def failed(reason: str) -> TokenError:
        return TokenError(400, "invalid_request", 50166, f"Request to External OIDC endpoint failed: {reason}")

    if urlsplit(issuer).scheme != "https":
        raise failed(f"the issuer '{issuer}' is not an https URL")
    context = ssl.create_default_context()
    if cafile is not None and cafile.is_file():
        context.load_verify_locations(str(cafile))

    def get(url: str) -> dict:
        if urlsplit(url).scheme != "https":
            raise failed(f"'{url}' is not an https URL")
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS, context=context) as response:
                data = response.read(MAX_DOCUMENT_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise failed(f"GET {url}: {getattr(error, 'reason', None) or error}") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise failed(f"GET {url}: the document is over {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = json.loads(data)
        except ValueError:
            raise failed(f"GET {url}: not JSON") from None
        if not isinstance(document, dict):
            raise failed(f"GET {url}: not a JSON object")
        return document

    config = get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if config.get("issuer") != issuer:
        raise failed(f"the discovery document names issuer '{config.get('issuer')}', not '{issuer}'")
    jwks_uri = config.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise failed("the discovery document has no jwks_uri")
    return get(jwks_uri)
