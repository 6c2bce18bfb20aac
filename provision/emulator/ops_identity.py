"""Entra ID discovery, signing keys and token endpoint, the emulator's federated-token issuer, and Graph: service
principals, groups and directoryObjects/getByIds; the apps' certificate and federated credentials (kept in the store,
cleared by reset)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qsl

from provision.emulator import assertions, errors, graph_filter, identity, tls
from provision.emulator.base import Request, Response
from provision.emulator.core import BackendCore

GET_BY_IDS_MAX = 1000  # "You can specify up to 1000 IDs." (Graph v1.0, directoryObject: getByIds)
GET_BY_IDS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"


class IdentityOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== Entra ID and Graph
    def OpenIdConfiguration(self, req: Request, tenant: str) -> Response:
        return Response(200, identity.openid_configuration(self.base_url, tenant))

    def Keys(self, req: Request, tenant: str) -> Response:
        """GET /{tenant}/discovery/v2.0/keys: the JWKS that verifies this emulator's tokens."""
        return Response(200, identity.jwks(self.tokens, tenant))

    def Token(self, req: Request, tenant: str) -> Response:
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        return Response(200, identity.client_credentials(form, tenant, self.tokens, self.graph_roles_of,
                                                         authorization=req.headers.get("authorization"),
                                                         credentials_of=self.app_credentials,
                                                         issuer_keys=self.issuer_keys))

    def Issuer_OpenIdConfiguration(self, req: Request) -> Response:
        return Response(200, identity.issuer_configuration(self.base_url, self.tokens))

    def Issuer_Keys(self, req: Request) -> Response:
        return Response(200, self.tokens.jwks())

    # ------------------------------------------------------------------ app credentials (knobs)
    CERTIFICATE_TYPE = "Entra/certificate"
    FEDERATED_TYPE = "Entra/federatedIdentityCredential"

    @staticmethod
    def _app_key(app_id: str) -> str:
        return f"/entra/applications/{identity.APPS[app_id.lower()].app_id}"

    def add_certificate(self, app_id: str, pem: str) -> assertions.Certificate:
        cert = assertions.Certificate.from_pem(pem)  # ValueError when it is not an RSA PEM certificate
        self.store.put(f"{self._app_key(app_id)}/certificates/{cert.thumbprint}", self.CERTIFICATE_TYPE,
                       {"thumbprint": cert.thumbprint, "pem": pem}, created=time.time())
        return cert

    def add_federated_credential(self, app_id: str, credential: assertions.FederatedCredential) -> None:
        self.store.put(f"{self._app_key(app_id)}/federatedIdentityCredentials/{credential.name}", self.FEDERATED_TYPE,
                       credential.as_dict(), created=time.time())

    def app_credentials(self, app_id: str) -> identity.AppCredentials:
        prefix = self._app_key(app_id) + "/"
        certificates = [assertions.Certificate.from_pem(c["pem"]) for c in self.store.list(self.CERTIFICATE_TYPE, prefix)]
        federated = [assertions.FederatedCredential(f["name"], f["issuer"], f["subject"], tuple(f["audiences"]))
                     for f in self.store.list(self.FEDERATED_TYPE, prefix)]
        return identity.AppCredentials(certificates, federated)

    def issuer_keys(self, issuer: str) -> dict:
        """A federated issuer's JWKS, fetched by its discovery document, the emulator's own ``/issuer`` included (one
        path for every issuer; the emulator's CA is trusted besides the system's)."""
        return assertions.fetch_issuer_keys(issuer, Path(self.store.path).parent / tls.CA_FILE)

    def graph_roles_of(self, app_id: str) -> tuple[str, ...]:
        """The Graph application permissions consented for ``app_id`` now (knob: Emulator.set_graph_roles)."""
        app = identity.APPS[app_id.lower()]
        return self.graph_roles.get(app.app_id, app.graph_roles)

    def _require_graph_read(self, req: Request, roles: tuple[str, ...] = identity.GRAPH_READ_SP_ROLES) -> None:
        claims = self.authenticate(req, identity.GRAPH_AUDIENCE)
        if not any(role in roles for role in claims.roles):
            # What Graph answers an app without Application.Read.All (its token has no such role).
            raise errors.GraphAuthorizationDenied("Insufficient privileges to complete the operation.")

    def _service_principal(self, req: Request, by: dict, key: str) -> Response:
        """One service principal from ``by`` (app id or object id, lower-cased -> app), or Graph's 404."""
        self._require_graph_read(req)
        app = by.get(key.lower())
        if app is None:
            raise errors.GraphNotFound(f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")
        return Response(200, identity.service_principal(app))

    def ServicePrincipals_GetByAppId(self, req: Request, app_id: str) -> Response:
        return self._service_principal(req, identity.APPS, app_id)

    def ServicePrincipals_Get(self, req: Request, object_id: str) -> Response:
        """GET /v1.0/servicePrincipals/{id}: by object id (Graph v1.0 "Get servicePrincipal")."""
        return self._service_principal(req, identity.PRINCIPALS, object_id)

    def ServicePrincipals_List(self, req: Request) -> Response:
        """GET /v1.0/servicePrincipals[?$filter=...]: the filter parsed (graph_filter.py), never substring-matched."""
        self._require_graph_read(req)
        return _filtered(req, [identity.service_principal(a) for a in identity.APPS.values()], "ServicePrincipal",
                         "servicePrincipals")

    def Groups_Get(self, req: Request, group_id: str) -> Response:
        """GET /v1.0/groups/{id}: a seeded group by object id (Graph v1.0 "Get group"); an unknown id, or the id of
        a service principal, is Graph's 404."""
        self._require_graph_read(req, identity.GRAPH_READ_GROUP_ROLES)
        group = identity.GROUPS.get(group_id.lower())
        if group is None:
            raise errors.GraphNotFound(f"Resource '{group_id}' does not exist or one of its queried reference-property objects are not present.")
        return Response(200, identity.group(group))

    def Groups_List(self, req: Request) -> Response:
        """GET /v1.0/groups[?$filter=...]: the seeded groups, filtered on id, displayName or mailNickname (Graph v1.0
        "List groups", same permissions as "Get group"); the filter parsed as for service principals."""
        self._require_graph_read(req, identity.GRAPH_READ_GROUP_ROLES)
        return _filtered(req, [identity.group(g) for g in identity.GROUPS.values()], "Group", "groups")

    def DirectoryObjects_GetByIds(self, req: Request) -> Response:
        """POST /v1.0/directoryObjects/getByIds {"ids": [...], "types": [...]}: the directory objects among ``ids``
        (unknown ids are left out, not an error), of the given ``types`` (any case; none: every type), each with
        its ``@odata.type`` (Graph v1.0 "directoryObject: getByIds": up to 1000 ids; Directory.Read.All). The az CLI
        calls it to resolve an object id's principal type and the principal names of `az role assignment list`."""
        self._require_graph_read(req, identity.GRAPH_READ_DIRECTORY_ROLES)
        body = req.json()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise errors.BadRequest("Invalid request: 'ids' must be a non-empty array of strings.")
        if len(ids) > GET_BY_IDS_MAX:
            raise errors.BadRequest(f"Invalid request: at most {GET_BY_IDS_MAX} ids may be given, got {len(ids)}.")
        types = body.get("types") or []
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise errors.BadRequest("Invalid request: 'types' must be an array of strings.")
        wanted = {t.lower() for t in types}
        found = []
        for object_id in ids:
            app = identity.PRINCIPALS.get(object_id.lower())
            group = identity.GROUPS.get(object_id.lower())
            if app is not None and (not wanted or "serviceprincipal" in wanted):
                found.append({"@odata.type": "#microsoft.graph.servicePrincipal", **_item(identity.service_principal(app))})
            elif group is not None and (not wanted or "group" in wanted):
                found.append({"@odata.type": "#microsoft.graph.group", **_item(identity.group(group))})
        return Response(200, {"@odata.context": GET_BY_IDS_CONTEXT, "value": found})


def _item(resource: dict) -> dict:
    """``resource`` as an item of a collection: a collection's items carry no ``@odata.context`` of their own."""
    resource.pop("@odata.context", None)
    return resource


def _filtered(req: Request, resources: list[dict], resource: str, collection: str) -> Response:
    """A Graph collection answer: ``resources`` kept by the request's ``$filter`` (graph_filter.py, parsed for
    ``resource``), under the ``collection``'s ``@odata.context``."""
    text = req.query.get("$filter", "")
    if text.strip():
        keep = graph_filter.parse(text, resource)
        resources = [r for r in resources if keep(r)]
    return Response(200, {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{collection}",
                          "value": [_item(r) for r in resources]})
