"""Azure Monitor private link scopes (AMPLS) and their scoped resources: a DCE's association to a scope.

``PrivateLinkScopes_CreateOrUpdate/Get/Delete`` and ``PrivateLinkScopedResources_CreateOrUpdate/Get/Delete/
ListByPrivateLinkScope`` (privateLinkScopes_API.json, Microsoft.Insights 2023-06-01-preview, the newest version;
no stable one exists). 2019-10-17-preview, the version the az CLI's ``monitor private-link-scope`` commands send, is
served in its own shape: a scope without ``accessModeSettings`` (that version has none, so the modes stay ``Open``),
a scoped resource without ``kind`` and ``subscriptionLocation``. Scoping a data collection endpoint records the association on the DCE as Azure shows
it: ``properties.privateLinkScopedResources[{resourceId, scopeId}]``, read-only (azure-contract.md §4; the DCE
spec's ``PrivateLinkScopedResource``). Private endpoints, their connections and DNS are not emulated: every
request reaches the emulator over its public endpoint (docs/emulator.md "Private link scopes").
"""

from __future__ import annotations

import time
import uuid

from provision.emulator import arm, dcr, errors
from provision.emulator.base import Request, Response, insights_id
from provision.emulator.core import BackendCore

SCOPE_TYPE = "Microsoft.Insights/privateLinkScopes"
SCOPED_TYPE = "Microsoft.Insights/privateLinkScopes/scopedResources"
ACCESS_MODES = ("Open", "PrivateOnly")  # AccessMode enum of the spec
OLD_VERSION = "2019-10-17-preview"  # privateLinkScopes_API.json of that version: no access modes, no scoped kind


class PrivateLinkOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens and RBAC checks."""

    def _scope_context(self, req: Request, sub: str, rg: str, scope_name: str, action: str) -> str:
        arm.check_api_version(req.query, SCOPE_TYPE)
        scope_id = insights_id(sub, rg, SCOPE_TYPE, scope_name)
        self.authorize(req, action, scope_id)
        self.require_resource_group(sub, rg)
        return scope_id

    @staticmethod
    def _shown(req: Request, state: dict) -> dict:
        """``state`` as the request's api-version shows it (internal fields dropped)."""
        body = _public(state)
        if req.query.get("api-version") == OLD_VERSION:
            hidden = ("accessModeSettings",) if state.get("type") == SCOPE_TYPE else ("kind", "subscriptionLocation")
            body["properties"] = {k: v for k, v in body["properties"].items() if k not in hidden}
        return body

    # ------------------------------------------------------------------ scopes
    def PrivateLinkScopes_CreateOrUpdate(self, req: Request, sub: str, rg: str, scope_name: str) -> Response:
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/write")
        body = req.json()
        old_version = req.query.get("api-version") == OLD_VERSION
        if not isinstance(body, dict) or not isinstance(body.get("properties", {} if old_version else None), dict):
            raise errors.InvalidRequestContent("The request content must be a JSON object with 'properties'.")
        if old_version:  # the version has no access modes: an existing scope keeps its own, a new one is Open
            existing_settings = (self.store.get(scope_id) or {}).get("properties", {}).get("accessModeSettings")
            body = {**body, "properties": {"accessModeSettings": existing_settings or {}}}
        settings = body["properties"].get("accessModeSettings")
        if not isinstance(settings, dict):  # required by AzureMonitorPrivateLinkScopeProperties
            raise errors.MissingProperty("'properties.accessModeSettings' is required.", target="properties.accessModeSettings")
        for key in ("queryAccessMode", "ingestionAccessMode"):
            if settings.get(key, "Open") not in ACCESS_MODES:
                raise errors.InvalidPayload(f"'{key}' must be one of {', '.join(ACCESS_MODES)}.", target=f"properties.accessModeSettings.{key}")
        if not body.get("location"):
            raise errors.LocationRequired("The 'location' property is required (private link scopes use 'global').")
        with self.lock:
            existing = self.store.get(scope_id)
            state = {"id": scope_id, "name": (existing or {}).get("name", scope_name), "type": SCOPE_TYPE,
                     "location": (existing or {}).get("location", body["location"]), "tags": body.get("tags") or {},
                     "properties": {"accessModeSettings": {"queryAccessMode": "Open", "ingestionAccessMode": "Open",
                                                           "exclusions": [], **settings},
                                    "provisioningState": "Succeeded", "privateEndpointConnections": []},
                     "systemData": arm.system_data(req.caller.appid, (existing or {}).get("systemData")),
                     # the scopeId a DCE's privateLinkScopedResources names (DCE spec: "the immutableId of the scope")
                     "_immutableId": (existing or {}).get("_immutableId") or str(uuid.uuid4())}
            self.store.put(scope_id, SCOPE_TYPE, state, time.time())
            self.changed()
        return Response(200 if existing else 201, self._shown(req, state))

    def PrivateLinkScopes_Get(self, req: Request, sub: str, rg: str, scope_name: str) -> Response:
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/read")
        state = self.store.get(scope_id)
        if state is None:
            raise arm.not_found(SCOPE_TYPE, scope_name, rg)
        return Response(200, self._shown(req, state))

    def PrivateLinkScopes_Delete(self, req: Request, sub: str, rg: str, scope_name: str) -> Response:
        """Deleting a scope removes its scoped resources, and so the DCEs' associations."""
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/delete")
        with self.lock:
            if self.store.get(scope_id) is None:
                return Response(204)
            for scoped in self.store.list(SCOPED_TYPE, f"{scope_id}/scopedResources/"):
                self._unlink(scoped)
                self.store.delete(scoped["id"])
            self.store.delete(scope_id)
            self.changed()
        return Response(200)

    # ------------------------------------------------------------------ scoped resources
    def _scope(self, scope_id: str, scope_name: str) -> dict:
        state = self.store.get(scope_id)
        if state is None:
            raise arm.parent_not_found(f"{SCOPE_TYPE}/{scope_name}")
        return state

    def PrivateLinkScopedResources_CreateOrUpdate(self, req: Request, sub: str, rg: str, scope_name: str, name: str) -> Response:
        """Synchronous (201/200; the spec also allows 202). The linked resource must be a DCE the emulator holds: the
        only Azure Monitor resource it serves that a scope takes (workspaces are seeded and not scoped here)."""
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/scopedResources/write")
        body = req.json()
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict) or not isinstance(props.get("linkedResourceId"), str):
            raise errors.MissingProperty("'properties.linkedResourceId' is required.", target="properties.linkedResourceId")
        key = f"{scope_id}/scopedResources/{name}"
        with self.lock:
            scope_state = self._scope(scope_id, scope_name)
            linked = self.store.get(props["linkedResourceId"])
            if linked is None or linked.get("type") != dcr.DCE_TYPE:
                raise errors.InvalidPayload(
                    f"The linked resource '{props['linkedResourceId']}' was not found or is not a data collection endpoint "
                    "(the emulator scopes data collection endpoints only).", target="properties.linkedResourceId")
            existing = self.store.get(key)
            if existing and existing["properties"]["linkedResourceId"].lower() != linked["id"].lower():
                raise errors.InvalidPayload("The linkedResourceId of a scoped resource cannot be changed; delete it and create "
                                            "another.", target="properties.linkedResourceId")
            state = {"id": key, "name": (existing or {}).get("name", name), "type": SCOPED_TYPE,
                     "properties": {"kind": props.get("kind") or "Resource", "linkedResourceId": linked["id"],
                                    "subscriptionLocation": linked.get("location"), "provisioningState": "Succeeded"},
                     "systemData": arm.system_data(req.caller.appid, (existing or {}).get("systemData"))}
            self.store.put(key, SCOPED_TYPE, state, time.time())
            entry = {"resourceId": key, "scopeId": scope_state["_immutableId"]}
            links = [e for e in linked["properties"].get("privateLinkScopedResources") or [] if e["resourceId"].lower() != key.lower()]
            linked["properties"]["privateLinkScopedResources"] = [*links, entry]
            self.store.put(linked["id"], dcr.DCE_TYPE, linked)
            self.changed()
        return Response(200 if existing else 201, self._shown(req, state))

    def PrivateLinkScopedResources_Get(self, req: Request, sub: str, rg: str, scope_name: str, name: str) -> Response:
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/scopedResources/read")
        self._scope(scope_id, scope_name)
        state = self.store.get(f"{scope_id}/scopedResources/{name}")
        if state is None:
            raise arm.not_found(f"{SCOPE_TYPE}/{scope_name}/scopedResources", name, rg)
        return Response(200, self._shown(req, state))

    def PrivateLinkScopedResources_ListByPrivateLinkScope(self, req: Request, sub: str, rg: str, scope_name: str) -> Response:
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/scopedResources/read")
        self._scope(scope_id, scope_name)
        return Response(200, {"value": [self._shown(req, s) for s in self.store.list(SCOPED_TYPE, f"{scope_id}/scopedResources/")]})

    def PrivateLinkScopedResources_Delete(self, req: Request, sub: str, rg: str, scope_name: str, name: str) -> Response:
        scope_id = self._scope_context(req, sub, rg, scope_name, f"{SCOPE_TYPE}/scopedResources/delete")
        with self.lock:
            self._scope(scope_id, scope_name)
            state = self.store.get(f"{scope_id}/scopedResources/{name}")
            if state is None:
                return Response(204)
            self._unlink(state)
            self.store.delete(state["id"])
            self.changed()
        return Response(200)

    def _unlink(self, scoped: dict) -> None:
        linked = self.store.get(scoped["properties"]["linkedResourceId"])
        if linked is not None:
            links = linked["properties"].get("privateLinkScopedResources") or []
            linked["properties"]["privateLinkScopedResources"] = [e for e in links if e["resourceId"].lower() != scoped["id"].lower()]
            if not linked["properties"]["privateLinkScopedResources"]:
                del linked["properties"]["privateLinkScopedResources"]
            self.store.put(linked["id"], dcr.DCE_TYPE, linked)


def _public(state: dict) -> dict:
    return {k: v for k, v in state.items() if not k.startswith("_")}
