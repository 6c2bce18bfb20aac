"""Data collection rules and endpoints: PUT (validated), GET, PATCH, DELETE, list."""

from __future__ import annotations

import time

from provision import kql
from provision.emulator import arm, dcr, errors, seed
from provision.emulator.base import Request, Response, insights_id, rg_id
from provision.emulator.core import BackendCore


class InsightsOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== DCR / DCE
    def _insights_context(self, req: Request, rtype: str, sub: str, rg: str, name: str, verb: str) -> str:
        arm.check_api_version(req.query, rtype)
        resource_id = insights_id(sub, rg, rtype, name)
        self.authorize(req, f"{rtype}/{verb}", resource_id)
        self.require_resource_group(sub, rg)
        return resource_id

    def _insights_get(self, req, rtype, sub, rg, name) -> dict:
        resource_id = self._insights_context(req, rtype, sub, rg, name, "read")
        state = self.store.get(resource_id)
        if state is None:
            raise arm.not_found(rtype, name, rg)
        return state

    def DataCollectionRules_Get(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return Response(200, dcr.render_dcr(self._insights_get(req, dcr.DCR_TYPE, sub, rg, name), self.base_url))

    def DataCollectionEndpoints_Get(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return Response(200, dcr.render_dce(self._insights_get(req, dcr.DCE_TYPE, sub, rg, name), self.base_url))

    def DataCollectionRules_Create(self, req: Request, sub: str, rg: str, name: str) -> Response:
        def build(resource_id, body, existing, location):
            details = dcr.validate_dcr(body, existing, location, self, kql.check_transform)
            if details:
                raise errors.InvalidPayload("Data collection rule is invalid", details=details)
            return dcr.stored_dcr(resource_id, name, body, location, existing, self, req.caller.appid)

        return self._insights_put(req, dcr.DCR_TYPE, sub, rg, name, build, dcr.render_dcr)

    def DataCollectionEndpoints_Create(self, req: Request, sub: str, rg: str, name: str) -> Response:
        def build(resource_id, body, existing, location):
            return dcr.stored_dce(resource_id, name, body, location, existing, req.caller.appid)

        return self._insights_put(req, dcr.DCE_TYPE, sub, rg, name, build, dcr.render_dce)

    def _insights_put(self, req: Request, rtype: str, sub: str, rg: str, name: str, build, render) -> Response:
        """Synchronous PUT of a DCR/DCE (not an LRO: azure-contract.md §4, §5): 201 created, 200 updated."""
        resource_id = self._insights_context(req, rtype, sub, rg, name, "write")
        dcr.check_name(rtype, name)
        body = req.json()
        if not isinstance(body, dict):
            raise errors.InvalidRequestContent("The request content must be a JSON object.")
        with self.lock:
            existing = self.store.get(resource_id)
            self._check_etag(req, existing)
            location = dcr.check_location(body, existing, rtype, name, rg)
            state = build(resource_id, body, existing, location)
            self.store.put(resource_id, rtype, state, time.time())
            self.changed()
        return Response(200 if existing else 201, render(state, self.base_url))

    def _check_etag(self, req: Request, existing: dict | None) -> None:
        """azure-contract.md §1 ETag table."""
        if_match, if_none = req.headers.get("if-match"), req.headers.get("if-none-match")
        if if_none == "*" and existing is not None:
            raise errors.PreconditionFailed("The resource already exists and If-None-Match is '*'.")
        if if_match and (existing is None or (if_match != "*" and if_match != existing.get("etag"))):
            raise errors.PreconditionFailed("The If-Match condition does not match the resource's current etag.")

    def _insights_update(self, req, rtype, sub, rg, name, render) -> Response:
        resource_id = self._insights_context(req, rtype, sub, rg, name, "write")
        body = req.json()
        with self.lock:
            state = self.store.get(resource_id)
            if state is None:
                raise arm.not_found(rtype, name, rg)
            if isinstance(body, dict):  # ResourceForUpdate: tags are replaced, identity set (azure-contract.md §1, §5)
                for key in ("tags", "identity"):
                    if key in body:
                        state[key] = body[key]
            state["etag"] = arm.new_etag()
            state["systemData"] = arm.system_data(req.caller.appid, state.get("systemData"))
            self.store.put(resource_id, rtype, state)
            self.changed()
        return Response(200, render(state, self.base_url))

    def DataCollectionRules_Update(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return self._insights_update(req, dcr.DCR_TYPE, sub, rg, name, dcr.render_dcr)

    def DataCollectionEndpoints_Update(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return self._insights_update(req, dcr.DCE_TYPE, sub, rg, name, dcr.render_dce)

    def _insights_delete(self, req, rtype, sub, rg, name) -> Response:
        resource_id = self._insights_context(req, rtype, sub, rg, name, "delete")
        with self.lock:
            deleted = self.store.delete(resource_id)
            self.changed()
        return Response(200 if deleted else 204)

    def DataCollectionRules_Delete(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return self._insights_delete(req, dcr.DCR_TYPE, sub, rg, name)

    def DataCollectionEndpoints_Delete(self, req: Request, sub: str, rg: str, name: str) -> Response:
        return self._insights_delete(req, dcr.DCE_TYPE, sub, rg, name)

    def _insights_list(self, req, rtype, sub, rg, render) -> Response:
        arm.check_api_version(req.query, rtype)
        scope = rg_id(sub, rg) if rg else f"/subscriptions/{sub}"
        self.authorize(req, f"{rtype}/read", scope)
        if rg:
            self.require_resource_group(sub, rg)
        elif sub.lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        found = [render(s, self.base_url) for s in self.store.list(rtype, scope + "/")]
        return Response(200, {"value": found})

    def DataCollectionRules_List(self, req: Request, sub: str, rg: str = "") -> Response:
        return self._insights_list(req, dcr.DCR_TYPE, sub, rg, dcr.render_dcr)

    def DataCollectionEndpoints_List(self, req: Request, sub: str, rg: str = "") -> Response:
        return self._insights_list(req, dcr.DCE_TYPE, sub, rg, dcr.render_dce)
