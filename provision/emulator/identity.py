"""Entra ID for the emulator: the seeded apps, the client-credentials token endpoint, signed tokens.

Tokens are JWTs signed with HMAC-SHA256 and a secret kept in the state dir, so an
altered token fails its signature check. They carry what Azure's do and what the
routes check: ``aud``, ``appid``, ``oid``, ``tid``, ``iat``/``nbf``/``exp``. Verification requires
``tid`` to be the emulator's tenant and ``nbf`` not more than the 5-minute clock skew ahead; the token
endpoint and discovery know that one tenant only (by id or verified domain), else AADSTS90002.
Graph tokens also carry ``roles``: the Microsoft Graph application permissions
consented for the app (Entra omits the claim when there are none). Graph
routes check it as Graph does: reading service principals needs
Application.Read.All (or a wider permission), else 403
``Authorization_RequestDenied`` (learn.microsoft.com, "Get servicePrincipal":
permissions table; Graph error envelope with ``innerError``).
A Graph token may be asked for ``https://graph.microsoft.com`` or for the emulator's own URL (what its cloud
metadata document names as Graph, cloud_metadata.py); either is accepted where Graph is (``audience_of``).
Token endpoint errors follow Entra's OAuth shape (``invalid_client`` with
AADSTS7000215 for a wrong secret, AADSTS700016 for an unknown app), which
azure-identity turns into ``ClientAuthenticationError`` (sdk-notes.md §4.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from provision.emulator import seed
from provision.emulator.errors import TokenError

ARM_AUDIENCE = "https://management.azure.com"
MONITOR_AUDIENCE = "https://monitor.azure.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
# Entra issues the resource with or without the trailing slash depending on how it was asked for.
# Graph application permissions that may read service principals ("Get servicePrincipal", least privileged first).
GRAPH_READ_SP_ROLES = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All",
                       "Directory.ReadWrite.All")
# Graph application permissions that may call directoryObjects/getByIds ("directoryObject: getByIds", permissions
# table: least privileged Directory.Read.All).
GRAPH_READ_DIRECTORY_ROLES = ("Directory.Read.All", "Directory.ReadWrite.All")
KNOWN_RESOURCES = (ARM_AUDIENCE, MONITOR_AUDIENCE, GRAPH_AUDIENCE, "https://management.core.windows.net")
TOKEN_LIFETIME_SECONDS = 3599
# How far in the future a token's nbf may be: Microsoft.IdentityModel's TokenValidationParameters.DefaultClockSkew,
# "300 seconds (5 minutes)" (learn.microsoft.com/dotnet/api/microsoft.identitymodel.tokens.tokenvalidationparameters
# .defaultclockskew), which Microsoft's services validating Entra tokens use by default. Expiry gets no allowance:
# the emulator issues and checks with one clock, and a token 5 s past exp must fail as ARM's does.
CLOCK_SKEW_SECONDS = 300
# Entra's text for a tenant it does not know (AADSTS90002, learn.microsoft.com/entra/identity-platform/
# reference-error-codes: "InvalidTenantName - The tenant name wasn't found in the data store"); the wording is
# observed in Azure/azure-cli#22145 (discovery: error invalid_tenant) and microsoftarchive/BatchAI#31 (token
# endpoint: invalid_request).
TENANT_NOT_FOUND = ("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
                    "the correct cloud. Check with your subscription administrator, this may happen if there are no "
                    "active subscriptions for the tenant.")


@dataclass(frozen=True)
class App:
    """An app registration with its service principal."""

    display_name: str
    app_id: str
    object_id: str
    secret: str
    graph_roles: tuple[str, ...] = ()  # Microsoft Graph application permissions (admin-consented)


APPS = {
    app.app_id: app
    for app in (
        App("provision-local-deployer", seed.DEPLOYER_APP_ID, seed.DEPLOYER_OBJECT_ID, seed.DEPLOYER_SECRET,
            seed.DEPLOYER_GRAPH_ROLES),
        App("provision-local-sender", seed.SENDER_APP_ID, seed.SENDER_OBJECT_ID, seed.SENDER_SECRET),
        App("provision-local-nobody", seed.NOBODY_APP_ID, seed.NOBODY_OBJECT_ID, seed.NOBODY_SECRET),
    )
}
PRINCIPALS = {app.object_id: app for app in APPS.values()}


@dataclass(frozen=True)
class Claims:
    aud: str
    appid: str
    oid: str
    tid: str
    exp: float
    roles: tuple[str, ...] = ()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tenant_id(tenant: str) -> str | None:
    """The emulator's tenant id when ``tenant`` names it (its id or verified domain, any case), else None."""
    return seed.TENANT_ID if tenant.lower() in (seed.TENANT_ID, seed.TENANT_DOMAIN) else None


def unknown_tenant(tenant: str, error: str) -> TokenError:
    """AADSTS90002 as Entra answers it: ``invalid_tenant`` from discovery, ``invalid_request`` from the token endpoint."""
    return TokenError(400, error, 90002, TENANT_NOT_FOUND.format(tenant=tenant))


def _utc(stamp: float) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(stamp))


class TokenInvalid(Exception):
    """Why a bearer token was refused: ``reason`` is missing, malformed, signature, expired, not-yet-valid,
    tenant or audience."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class TokenService:
    """Issues and checks tokens with one per-state-dir signing secret."""

    def __init__(self, secret: bytes, issuer_base: str = ""):
        self._secret = secret
        self.issuer_base = issuer_base

    def audience_of(self, resource: str) -> str:
        """The service a token for ``resource`` is for: the emulator's own URL names its Graph (the cloud metadata
        document's ``microsoftGraphResourceId``, which the az CLI asks tokens for), anything else itself."""
        resource = resource.rstrip("/")
        if self.issuer_base and resource.lower() == self.issuer_base.lower():
            return GRAPH_AUDIENCE
        return resource

    def sign(self, claims: dict) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = _b64(hmac.new(self._secret, signing_input, hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def issue(self, app: App, audience: str, lifetime: float = TOKEN_LIFETIME_SECONDS, tenant: str = seed.TENANT_ID,
              roles: tuple[str, ...] | None = None, not_before: float | None = None) -> str:
        """A signed token; a Graph token carries ``roles`` (default: the app's seeded Graph permissions).
        ``not_before``: the nbf time (default: a second ago)."""
        now = int(time.time())
        claims = {
            "aud": audience, "iss": f"https://sts.windows.net/{tenant}/", "iat": now,
            "nbf": now - 1 if not_before is None else int(not_before),
            "exp": int(now + lifetime), "appid": app.app_id, "oid": app.object_id, "sub": app.object_id,
            "tid": tenant, "idtyp": "app", "ver": "1.0",
        }
        roles = app.graph_roles if roles is None else roles
        if self.audience_of(audience) == GRAPH_AUDIENCE and roles:
            claims["roles"] = list(roles)
        return self.sign(claims)

    def verify(self, authorization: str | None, audience: str) -> Claims:
        """Claims of a valid bearer token for ``audience``; raises TokenInvalid otherwise."""
        if not authorization:
            raise TokenInvalid("missing", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            raise TokenInvalid("malformed", "Authentication failed. The 'Authorization' header is not a valid Bearer token.")
        header, payload, signature = token.strip().split(".")
        expected = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            raise TokenInvalid("signature", "The access token is invalid: its signature does not verify.")
        try:
            claims = json.loads(_unb64(payload))
            aud, exp, nbf, tid = str(claims["aud"]), float(claims["exp"]), float(claims["nbf"]), str(claims["tid"])
            parsed = Claims(aud, str(claims["appid"]), str(claims["oid"]), tid, exp,
                            tuple(str(r) for r in claims.get("roles") or ()))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TokenInvalid("malformed", "The access token is invalid.") from None
        now = time.time()
        if exp <= now:
            raise TokenInvalid("expired", f"The access token expiry UTC time '{_utc(exp)}' is earlier than current UTC "
                                          f"time '{_utc(now)}'.")
        if nbf > now + CLOCK_SKEW_SECONDS:
            raise TokenInvalid("not-yet-valid", f"The access token is not yet valid: its not-before UTC time '{_utc(nbf)}' "
                                                f"is later than current UTC time '{_utc(now)}' (allowed clock skew: "
                                                f"{CLOCK_SKEW_SECONDS} seconds).")
        if tid.lower() != seed.TENANT_ID:
            issuer, expected = f"https://sts.windows.net/{tid}/", f"https://sts.windows.net/{seed.TENANT_ID}/"
            raise TokenInvalid("tenant", f"The access token is from the wrong issuer '{issuer}'. It must match the tenant "
                                         f"'{expected}' associated with this subscription. Please use the authority (URL) "
                                         f"'{self.issuer_base}/{seed.TENANT_ID}' to get the token.")
        if self.audience_of(aud) != audience:
            raise TokenInvalid(
                "audience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. "
                f"It should exactly match with one of the allowed audiences '{audience}', '{audience}/'.",
            )
        return parsed


def client_credentials(form: dict[str, str], tenant: str, tokens: TokenService, graph_roles=None) -> dict:
    """The token endpoint: validate a client_credentials request and answer Entra's JSON (raises TokenError).

    ``graph_roles(app_id)`` gives the app's current Graph permissions (the emulator's knob); default: seeded."""
    tid = tenant_id(tenant)
    if tid is None:  # Entra resolves the tenant before it looks at the client or the grant
        raise unknown_tenant(tenant, "invalid_request")
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        raise TokenError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'. The emulator supports client_credentials only.")
    client_id = form.get("client_id", "")
    app = APPS.get(client_id.lower())
    if app is None:
        raise TokenError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
                         "This can happen if the application has not been installed by the administrator of the tenant "
                         "or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
    if not hmac.compare_digest(form.get("client_secret", "").encode(), app.secret.encode()):
        raise TokenError(401, "invalid_client", 7000215,
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
                         f"not the client secret ID, for a secret added to app '{app.app_id}'.")
    scope = form.get("scope", "").split()
    resource = next((s[: -len("/.default")] for s in scope if s.endswith("/.default")), None)
    if resource is None or tokens.audience_of(resource) not in KNOWN_RESOURCES:
        raise TokenError(400, "invalid_resource", 500011,
                         f"The resource principal named {resource or form.get('scope', '')} was not found in the tenant named {tenant}. "
                         "This can happen if the application has not been installed by the administrator of the tenant.")
    # Entra's v2 endpoint issues the resource as asked, e.g. 'https://management.azure.com' for '.../.default'.
    roles = graph_roles(app.app_id) if graph_roles is not None else None
    token = tokens.issue(app, resource, tenant=tid, roles=roles)  # tid is the id even when asked by domain
    return {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS, "ext_expires_in": TOKEN_LIFETIME_SECONDS,
            "access_token": token}


def openid_configuration(base_url: str, tenant: str) -> dict:
    """OIDC discovery: MSAL needs token_endpoint and authorization_endpoint (sdk-notes.md §4.1). An unknown tenant
    is AADSTS90002 ``invalid_tenant``; a known one is named by its id in every endpoint, as Entra does."""
    tid = tenant_id(tenant)
    if tid is None:
        raise unknown_tenant(tenant, "invalid_tenant")
    tenant = tid
    root = f"{base_url}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "issuer": f"{base_url}/{tenant}/v2.0",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
    }


def service_principal(app: App) -> dict:
    """Graph v1.0 servicePrincipal resource for a seeded app."""
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
        "id": app.object_id, "appId": app.app_id, "displayName": app.display_name,
        "servicePrincipalType": "Application", "accountEnabled": True, "appOwnerOrganizationId": seed.TENANT_ID,
        "servicePrincipalNames": [app.app_id],
    }
