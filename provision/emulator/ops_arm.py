"""Resource groups and workspaces (seeded, read-only) under ARM."""

from __future__ import annotations

import time

from provision.emulator import arm, errors, seed
from provision.emulator.base import RG_TYPE, WORKSPACE_TYPE, WORKSPACES, Request, Response, rg_body, rg_id, workspace_body, workspace_id
from provision.emulator.core import BackendCore


class ArmOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== resource groups
    def ResourceGroups_Get(self, req: Request, sub: str, rg: str) -> Response:
        arm.check_api_version(req.query, RG_TYPE)
        self.authorize(req, "Microsoft.Resources/subscriptions/resourceGroups/read", rg_id(sub, rg))
        if not self.resource_group_exists(sub, rg):
            raise errors.ResourceGroupNotFound(f"Resource group '{rg}' could not be found.")
        stored = self.store.get(rg_id(sub, rg))
        return Response(200, stored or rg_body(seed.RESOURCE_GROUP, seed.LOCATION))

    def ResourceGroups_CreateOrUpdate(self, req: Request, sub: str, rg: str) -> Response:
        arm.check_api_version(req.query, RG_TYPE)
        self.authorize(req, "Microsoft.Resources/subscriptions/resourceGroups/write", rg_id(sub, rg))
        if not arm.RESOURCE_GROUP_PATTERN.match(rg):
            raise errors.InvalidResourceName(f"Resource group name '{rg}' is invalid: use up to 90 letters, digits, '-', '_', '.', '(' or ')'.")
        body = req.json()
        location = body.get("location") if isinstance(body, dict) else None
        if not location:
            raise errors.LocationRequired("The location property is required for this definition.")
        existed = self.resource_group_exists(sub, rg)
        if rg.lower() == seed.RESOURCE_GROUP.lower():
            return Response(200, rg_body(seed.RESOURCE_GROUP, seed.LOCATION))
        resource = rg_body(rg, arm.normalize_location(location), body.get("tags"))
        self.store.put(rg_id(sub, rg), RG_TYPE, resource, time.time())
        self.changed()
        return Response(200 if existed else 201, resource)

    # ================================================================== workspaces
    def Workspaces_Get(self, req: Request, sub: str, rg: str, ws: str) -> Response:
        arm.check_api_version(req.query, WORKSPACE_TYPE)
        resource_id = workspace_id(sub, rg, ws)
        self.authorize(req, "Microsoft.OperationalInsights/workspaces/read", resource_id)
        self.require_resource_group(sub, rg)
        found = self.workspace(resource_id)
        if found is None:
            raise arm.not_found(WORKSPACE_TYPE, ws, rg)
        return Response(200, workspace_body(found))

    def Workspaces_List(self, req: Request, sub: str) -> Response:
        arm.check_api_version(req.query, WORKSPACE_TYPE)
        self.authorize(req, "Microsoft.OperationalInsights/workspaces/read", f"/subscriptions/{sub}")
        if sub.lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        return Response(200, {"value": [workspace_body(w) for w in WORKSPACES.values()]})

    def Workspaces_ListByResourceGroup(self, req: Request, sub: str, rg: str) -> Response:
        arm.check_api_version(req.query, WORKSPACE_TYPE)
        self.authorize(req, "Microsoft.OperationalInsights/workspaces/read", rg_id(sub, rg))
        self.require_resource_group(sub, rg)
        prefix = rg_id(sub, rg).lower() + "/"
        return Response(200, {"value": [workspace_body(w) for k, w in WORKSPACES.items() if k.startswith(prefix)]})
