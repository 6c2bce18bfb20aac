"""Entra ID discovery and token endpoint, and Graph service principals."""

from __future__ import annotations

from urllib.parse import parse_qsl

from provision.emulator import errors, identity
from provision.emulator.base import Request, Response


class IdentityOperations:
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== Entra ID and Graph
    def OpenIdConfiguration(self, req: Request, tenant: str) -> Response:
        return Response(200, identity.openid_configuration(self.base_url, tenant))

    def Token(self, req: Request, tenant: str) -> Response:
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        return Response(200, identity.client_credentials(form, tenant, self.tokens))

    def ServicePrincipals_GetByAppId(self, req: Request, app_id: str) -> Response:
        self.authenticate(req, identity.GRAPH_AUDIENCE)
        app = identity.APPS.get(app_id.lower())
        if app is None:
            raise errors.GraphNotFound(f"Resource '{app_id}' does not exist or one of its queried reference-property objects are not present.")
        return Response(200, identity.service_principal(app))

    def ServicePrincipals_List(self, req: Request) -> Response:
        self.authenticate(req, identity.GRAPH_AUDIENCE)
        wanted = req.query.get("$filter", "")
        apps = [a for a in identity.APPS.values() if not wanted or a.app_id in wanted.lower()]
        return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals",
                              "value": [identity.service_principal(a) for a in apps]})
