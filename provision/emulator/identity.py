"""Entra ID for the emulator: the seeded apps, the client-credentials token endpoint, signed tokens.

Tokens are JWTs signed RS256 with an RSA key kept in the state dir (signing.py), named by ``kid`` and served at
the tenant's ``jwks_uri`` (``/{tenant}/discovery/v2.0/keys``), so standard validators (PyJWT, jose) accept them
and an altered token fails its signature check. They carry what Azure's do and what the
routes check: ``aud``, ``appid``, ``oid``, ``tid``, ``iat``/``nbf``/``exp``. Verification requires
``tid`` to be the emulator's tenant and ``nbf`` not more than the 5-minute clock skew ahead; the token
endpoint and discovery know that one tenant only (by id or verified domain), else AADSTS90002.
Graph tokens also carry ``roles``: the Microsoft Graph application permissions
consented for the app (Entra omits the claim when there are none). Graph
routes check it as Graph does: reading service principals needs
Application.Read.All (or a wider permission), else 403
``Authorization_RequestDenied`` (learn.microsoft.com, "Get servicePrincipal":
permissions table; Graph error envelope with ``innerError``); reading a group needs GroupMember.Read.All,
Group.Read.All or a Directory permission ("Get group"). The directory holds the seeded groups too (``GROUPS``):
``memberships`` says which groups an object is in, for RBAC.
A client authenticates with its secret in the form (``client_secret_post``) or an ``Authorization: Basic`` header
(``client_secret_basic``, RFC 6749 §2.3.1), or with a client assertion (assertions.py: certificate or federated
credential). A Graph token may be asked for ``https://graph.microsoft.com`` or for the emulator's own URL (what its cloud
metadata document names as Graph, cloud_metadata.py); either is accepted where Graph is (``audience_of``).
Token endpoint errors follow Entra's OAuth shape (``invalid_client`` with
AADSTS7000215 for a wrong secret, AADSTS700016 for an unknown app), which
azure-identity turns into ``ClientAuthenticationError`` (sdk-notes.md §4.1).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote_plus

from provision.emulator import assertions, seed, signing
from provision.emulator.errors import TokenError

ARM_AUDIENCE = "https://management.azure.com"
MONITOR_AUDIENCE = "https://monitor.azure.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
# Entra issues the resource with or without the trailing slash depending on how it was asked for.
# Graph application permissions that may read service principals ("Get servicePrincipal", least privileged first).
GRAPH_READ_SP_ROLES = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All",
                       "Directory.ReadWrite.All")
# Graph application permissions that may read a group (learn.microsoft.com/graph/api/group-get, permissions table,
# application: "GroupMember.Read.All, Group.Read.All, Directory.Read.All, Group.ReadWrite.All,
# Directory.ReadWrite.All", least privileged first).
GRAPH_READ_GROUP_ROLES = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All",
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
class Group:
    """An Entra security group: its members are object ids of service principals or of other groups."""

    display_name: str
    object_id: str
    members: tuple[str, ...] = ()
    description: str = ""


GROUPS = {
    group.object_id: group
    for group in (
        Group(seed.SENDERS_GROUP_NAME, seed.SENDERS_GROUP_ID, (seed.SENDER_OBJECT_ID,),
              "Apps that may send to the local rules (its member: provision-local-sender)"),
        Group(seed.PUBLISHERS_GROUP_NAME, seed.PUBLISHERS_GROUP_ID, (seed.SENDERS_GROUP_ID,),
              "Every sending group (its member: provision-local-senders)"),
    )
}


def principal_type(object_id: str) -> str | None:
    """The directory type of ``object_id`` as ARM's principalType names it ('ServicePrincipal', 'Group'), or None
    for an id the directory does not hold."""
    key = object_id.lower()
    if key in PRINCIPALS:
        return "ServicePrincipal"
    return "Group" if key in GROUPS else None


def memberships(object_id: str, groups: dict[str, Group] | None = None) -> tuple[str, ...]:
    """``object_id`` and every group of ``groups`` (default: the directory's) it is a member of, directly or
    through other groups (lower case): the principals whose role assignments apply to it. Azure RBAC: "role
    assignments are transitive for groups" (learn.microsoft.com/azure/role-based-access-control/overview,
    "Groups")."""
    if groups is None:
        return _directory_memberships(object_id.lower())
    found = [object_id.lower()]
    for current in found:  # breadth first; ``found`` grows while it is walked, so a cycle is walked once
        for group in groups.values():
            key = group.object_id.lower()
            if key not in found and current in (m.lower() for m in group.members):
                found.append(key)
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _directory_memberships(object_id: str) -> tuple[str, ...]:
    """``memberships`` in the seeded directory, which never changes: computed once per principal, not once for its
    assignments and again for each check of them (every ingestion request makes both)."""
    return memberships(object_id, GROUPS)


@dataclass(frozen=True)
class Claims:
    aud: str
    appid: str
    oid: str
    tid: str
    exp: float
    roles: tuple[str, ...] = ()


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


class Meta(Protocol):
    """Where the signing key is kept: the state dir's meta table (store.Store)."""

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


SIGNING_KEY_META = "signing-key"


def signing_key(store: Meta) -> signing.SigningKey:
    """The state dir's RSA signing key, made on first use (tokens stay valid across restarts on the same state)."""
    pem = store.meta(SIGNING_KEY_META)
    if pem is None:
        pem = signing.new_private_key_pem()
        store.set_meta(SIGNING_KEY_META, pem)
    return signing.SigningKey(pem)


class TokenService:
    """Issues and checks RS256 tokens with the state dir's signing key."""

    def __init__(self, key: signing.SigningKey, issuer_base: str = ""):
        self.key = key
        self.issuer_base = issuer_base

    def audience_of(self, resource: str) -> str:
        """The service a token for ``resource`` is for: the emulator's own URL names its Graph (the cloud metadata
        document's ``microsoftGraphResourceId``, which the az CLI asks tokens for), anything else itself."""
        resource = resource.rstrip("/")
        if self.issuer_base and resource.lower() == self.issuer_base.lower():
            return GRAPH_AUDIENCE
        return resource

    def sign(self, claims: dict) -> str:
        return self.key.sign(claims)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one TokenService per emulator, alive as long as it
    def _signed_claims(self, token: str) -> dict:
        """The claims of a token signed by this emulator's key (TokenInvalid otherwise). Cached by token text: SDKs
        reuse a token for its hour, and an RSA verify on every ingestion POST would cost more than the rest of the
        front door; time, tenant and audience are still checked on every request. Callers must not mutate it."""
        try:
            header, claims, signing_input, signature = signing.split(token)
        except signing.BadSignature:
            raise TokenInvalid("malformed", "The access token is invalid.") from None
        # Only this emulator's key, only RS256: a token naming another key or algorithm (HS256, 'none') is refused
        # before its claims are read (RFC 8725 §3.1).
        if header.get("kid") != self.key.kid:
            raise TokenInvalid("signature", "The access token is invalid: it is not signed by a key this tenant publishes.")
        try:
            signing.verify(header, signing_input, signature, self.key.public_key, algorithms=("RS256",))
        except signing.BadSignature:
            raise TokenInvalid("signature", "The access token is invalid: its signature does not verify.") from None
        return claims

    def jwks(self) -> dict:
        return self.key.jwks()

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
        claims = self._signed_claims(token.strip())
        try:
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


@dataclass(frozen=True)
class AppCredentials:
    """What an app may authenticate with besides its seeded secret (knobs: Emulator.add_certificate,
    Emulator.add_federated_credential)."""

    certificates: list[assertions.Certificate] = field(default_factory=list)
    federated: list[assertions.FederatedCredential] = field(default_factory=list)


def _invalid_request(detail: str) -> TokenError:
    # AADSTS9002313: "Invalid request. Request is malformed or invalid." (reference-error-codes)
    return TokenError(400, "invalid_request", 9002313, f"Invalid request. Request is malformed or invalid: {detail}")


def basic_client(authorization: str | None) -> tuple[str, str] | None:
    """(client id, secret) from an ``Authorization: Basic`` header, each form-urlencoded (RFC 6749 §2.3.1); None
    without one. A Bearer or other scheme is not client authentication: the token endpoint ignores it."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_request("the Authorization header's Basic credentials are not valid base64 of UTF-8 text") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_request("the Authorization header's Basic credentials must be 'client_id:client_secret'")
    return unquote_plus(client_id), unquote_plus(secret)


def client_id_of(form: dict[str, str], authorization: str | None) -> str:
    """The client id a token request names (form or Basic header), for the request log; '' when none or unreadable."""
    try:
        basic = basic_client(authorization)
    except TokenError:
        basic = None
    return form.get("client_id") or (basic[0] if basic else "")


def _token_paths(tenant: str) -> tuple[str, ...]:
    """Token endpoint paths a certificate assertion's aud may name: v2 and v1, by tenant id or domain."""
    return tuple(f"/{t}/oauth2{v}/token" for t in (seed.TENANT_ID, seed.TENANT_DOMAIN, tenant.lower()) for v in ("/v2.0", ""))


def client_credentials(form: dict[str, str], tenant: str, tokens: TokenService, graph_roles=None, *,
                       authorization: str | None = None,
                       credentials_of: Callable[[str], AppCredentials] | None = None,
                       issuer_keys: Callable[[str], dict] | None = None) -> dict:
    """The token endpoint: validate a client_credentials request and answer Entra's JSON (raises TokenError).

    The client authenticates with exactly one of: ``client_secret`` in the form, an ``Authorization: Basic``
    header (``authorization``), a ``client_assertion`` (``credentials_of(app_id)`` gives the app's certificates and
    federated credentials, ``issuer_keys(issuer)`` a federated issuer's JWKS).
    ``graph_roles(app_id)`` gives the app's current Graph permissions (the emulator's knob); default: seeded."""
    tid = tenant_id(tenant)
    if tid is None:  # Entra resolves the tenant before it looks at the client or the grant
        raise unknown_tenant(tenant, "invalid_request")
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        raise TokenError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'. The emulator supports client_credentials only.")
    basic = basic_client(authorization)
    methods = [name for name, present in (("client_secret", "client_secret" in form), ("Authorization: Basic", basic),
                                          ("client_assertion", "client_assertion" in form)) if present]
    if len(methods) > 1:  # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
        raise _invalid_request(f"the request authenticates the client {len(methods)} ways ({', '.join(methods)}); use one")
    client_id = form.get("client_id", "")
    if basic is not None:
        if client_id and client_id != basic[0]:
            raise _invalid_request("the client_id in the body is not the one in the Authorization header")
        client_id = basic[0]
    app = APPS.get(client_id.lower())
    if app is None:
        raise TokenError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
                         "This can happen if the application has not been installed by the administrator of the tenant "
                         "or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
    if "client_assertion" in form:
        registered = credentials_of(app.app_id) if credentials_of is not None else AppCredentials()
        assertions.check(form["client_assertion"], form.get("client_assertion_type", ""), app.app_id, _token_paths(tenant),
                         registered.certificates, registered.federated,
                         issuer_keys or (lambda issuer: assertions.fetch_issuer_keys(issuer)))
    elif basic is None and "client_secret" not in form:
        raise TokenError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    elif not hmac.compare_digest((basic[1] if basic else form["client_secret"]).encode(), app.secret.encode()):
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
    """OIDC discovery, listing only what the emulator serves. MSAL needs token_endpoint and authorization_endpoint
    (sdk-notes.md §4.1): the latter is listed because MSAL refuses a document without it, though only the
    client-credentials grant is served (``grant_types_supported``). ``jwks_uri`` serves the RS256 key tokens are
    signed with. An unknown tenant is AADSTS90002 ``invalid_tenant``; a known one is named by its id in every
    endpoint, as Entra does."""
    tid = tenant_id(tenant)
    if tid is None:
        raise unknown_tenant(tenant, "invalid_tenant")
    tenant = tid
    root = f"{base_url}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "issuer": f"{base_url}/{tenant}/v2.0",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(signing.ALGORITHMS),
        # Required members of an OpenID Provider's metadata (OpenID Connect Discovery 1.0 §3); the emulator issues
        # access tokens only (no ID tokens), signed RS256.
        "response_types_supported": ["token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }


def jwks(tokens: TokenService, tenant: str) -> dict:
    """The tenant's signing keys (``jwks_uri``); AADSTS90002 for a tenant the emulator does not know."""
    if tenant_id(tenant) is None:
        raise unknown_tenant(tenant, "invalid_tenant")
    return tokens.jwks()


ISSUER_PATH = "/issuer"


def issuer_configuration(base_url: str, tokens: TokenService) -> dict:
    """The emulator as an OIDC issuer of federated tokens (as GitHub Actions' token.actions.githubusercontent.com is):
    its discovery document (OpenID Connect Discovery 1.0 §3 required members)."""
    issuer = base_url + ISSUER_PATH
    return {"issuer": issuer, "jwks_uri": f"{issuer}/keys", "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"]}


def federated_token(tokens: TokenService, base_url: str, subject: str, audience: str = assertions.FEDERATED_AUDIENCE,
                    lifetime: float = 3600) -> str:
    """A token from the emulator's issuer for ``subject`` (e.g. 'repo:org/repo:ref:refs/heads/main'), to exchange at the
    token endpoint as a client assertion by an app with a matching federated credential."""
    now = int(time.time())
    return tokens.sign({"iss": base_url + ISSUER_PATH, "sub": subject, "aud": audience, "iat": now, "nbf": now - 1,
                        "exp": int(now + lifetime), "jti": str(uuid.uuid4())})


def service_principal(app: App) -> dict:
    """Graph v1.0 servicePrincipal resource for a seeded app."""
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
        "id": app.object_id, "appId": app.app_id, "displayName": app.display_name,
        "servicePrincipalType": "Application", "accountEnabled": True, "appOwnerOrganizationId": seed.TENANT_ID,
        "servicePrincipalNames": [app.app_id],
    }


def group(entry: Group) -> dict:
    """Graph v1.0 group resource (its default properties, "Get group") for a seeded group: a cloud-only security
    group, not mail-enabled."""
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity",
        "id": entry.object_id, "deletedDateTime": None, "classification": None,
        "createdDateTime": "2026-01-01T00:00:00Z", "creationOptions": [], "description": entry.description or None,
        "displayName": entry.display_name, "expirationDateTime": None, "groupTypes": [], "isAssignableToRole": None,
        "mail": None, "mailEnabled": False, "mailNickname": entry.display_name, "membershipRule": None,
        "membershipRuleProcessingState": None, "onPremisesLastSyncDateTime": None,
        "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": None, "preferredDataLocation": None,
        "proxyAddresses": [], "renewedDateTime": "2026-01-01T00:00:00Z", "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [], "securityEnabled": True, "securityIdentifier": None, "theme": None,
        "visibility": None, "onPremisesProvisioningErrors": [],
    }
