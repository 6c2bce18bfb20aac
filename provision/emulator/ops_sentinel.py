"""Microsoft Sentinel onboarding on a workspace, and the Azure tables it brings.

``SentinelOnboardingStates_Create/Get/Delete/List`` (OnboardingStates.json, Microsoft.SecurityInsights 2025-09-01:
``.../workspaces/{ws}/providers/Microsoft.SecurityInsights/onboardingStates/{name}``). Onboarding enables the
SecurityInsights solution in the workspace, which brings the Azure tables of ``tables.SOLUTION_TABLES``
(CommonSecurityLog, SecurityEvent, the ASim tables, ...): before it, those tables do not exist there, so a DCR
flow to ``Microsoft-CommonSecurityLog`` is refused with InvalidOutputTable, as Azure refuses it (azure-contract.md
§5.3). Removing the onboarding state keeps the tables (docs/emulator.md "Microsoft Sentinel onboarding").
"""

from __future__ import annotations

from provision.emulator import arm, errors, tables
from provision.emulator.base import WORKSPACE_TYPE, Request, Response
from provision.emulator.core import BackendCore

ONBOARDING_TYPE = "Microsoft.SecurityInsights/onboardingStates"
# Built-in actions (learn.microsoft.com/azure/role-based-access-control/permissions/security, Microsoft.SecurityInsights).
READ_ACTION = "Microsoft.SecurityInsights/onboardingStates/read"
WRITE_ACTION = "Microsoft.SecurityInsights/onboardingStates/write"
DELETE_ACTION = "Microsoft.SecurityInsights/onboardingStates/delete"


class SentinelOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens and RBAC checks."""

    def _onboarding_context(self, req: Request, sub: str, rg: str, ws: str, action: str) -> str:
        """The workspace id, after the api-version, the caller's right and the workspace's existence are checked."""
        arm.check_api_version(req.query, ONBOARDING_TYPE)
        workspace = self.authorized_workspace(req, sub, rg, ws, action, lambda: arm.parent_not_found(f"{WORKSPACE_TYPE}/{ws}"))
        return str(workspace["id"])

    @staticmethod
    def _state_id(ws_id: str, name: str) -> str:
        return f"{ws_id}/providers/{ONBOARDING_TYPE}/{name}"

    @staticmethod
    def _check_name(name: str) -> None:
        # The service keeps one onboarding state per workspace, named "default" (every OnboardingStates.json example).
        if name.lower() != "default":
            raise errors.InvalidResourceName(
                f"The onboarding state name '{name}' is not valid: a workspace has one onboarding state, named 'default'.")

    def SentinelOnboardingStates_Create(self, req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ws_id = self._onboarding_context(req, sub, rg, ws, WRITE_ACTION)
        self._check_name(name)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
            raise errors.InvalidRequestContent("The request content was invalid and could not be deserialized.")
        cmk = (body.get("properties") or {}).get("customerManagedKey", False)
        if not isinstance(cmk, bool):
            raise errors.InvalidRequestContent("'properties.customerManagedKey' must be a boolean.", target="properties.customerManagedKey")
        key = self._state_id(ws_id, "default")
        state = {"id": key, "name": "default", "type": ONBOARDING_TYPE, "etag": arm.new_etag(),
                 "properties": {"customerManagedKey": cmk},
                 "systemData": arm.system_data(req.caller.appid, (self.store.get(key) or {}).get("systemData"))}
        with self.lock:
            created = self.store.get(key) is None
            self.store.put(key, ONBOARDING_TYPE, state)
            marker = f"{ws_id}/solutions/{tables.SENTINEL}"
            self.store.put(marker, tables.SOLUTION_TYPE, {"id": marker, "solution": tables.SENTINEL})
            self.changed()
        return Response(201 if created else 200, state)

    def SentinelOnboardingStates_Get(self, req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ws_id = self._onboarding_context(req, sub, rg, ws, READ_ACTION)
        state = self.store.get(self._state_id(ws_id, name))
        if state is None:
            raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/providers/{ONBOARDING_TYPE}", name, rg)
        return Response(200, state)

    def SentinelOnboardingStates_List(self, req: Request, sub: str, rg: str, ws: str) -> Response:
        ws_id = self._onboarding_context(req, sub, rg, ws, READ_ACTION)
        return Response(200, {"value": self.store.list(ONBOARDING_TYPE, f"{ws_id}/providers/{ONBOARDING_TYPE}/")})

    def SentinelOnboardingStates_Delete(self, req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        """200 when a state was removed, 204 when there was none (OnboardingStates.json). The tables Sentinel brought
        stay: the workspace keeps them and their data (an emulator choice, docs/emulator.md)."""
        ws_id = self._onboarding_context(req, sub, rg, ws, DELETE_ACTION)
        with self.lock:
            removed = self.store.delete(self._state_id(ws_id, name))
            if removed:
                self.changed()
        return Response(200 if removed else 204)
