"""Role definitions and role assignments at any scope."""

from __future__ import annotations

import re
import time

from provision.emulator import arm, errors, rbac, seed
from provision.emulator.base import Request, Response, _public
from provision.emulator.core import BackendCore


class RbacOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== role definitions and assignments
    def RoleDefinitions_Get(self, req: Request, scope: str, role: str) -> Response:
        arm.check_api_version(req.query, rbac.RD_TYPE)
        return Response(200, rbac.get_role_definition(scope, role))

    def RoleDefinitions_List(self, req: Request, scope: str) -> Response:
        arm.check_api_version(req.query, rbac.RD_TYPE)
        return Response(200, {"value": rbac.list_role_definitions(scope, req.query.get("$filter"))})

    def _check_scope(self, scope: str) -> None:
        """The scope of an assignment must exist: subscription, resource group or one of our resources."""
        parts = [p for p in scope.split("/") if p]
        if not parts:
            return
        if parts[0].lower() != "subscriptions" or len(parts) < 2:
            raise errors.InvalidRequestContent(f"The scope '{scope}' is not valid.")
        if parts[1].lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{parts[1]}' could not be found.")
        if len(parts) >= 4:
            self.require_resource_group(parts[1], parts[3])
        if len(parts) > 4:
            resource_id = "/" + "/".join(parts)
            if self.workspace(resource_id) is None and self.store.get(resource_id) is None:
                raise errors.ResourceNotFound(f"The Resource '{'/'.join(parts[5:])}' under resource group '{parts[3]}' was not found. "
                                              "For more details please go to https://aka.ms/ARMResourceNotFoundFix")

    def _assignment_scope(self, req: Request, scope: str, action: str) -> str:
        """The scope of a role-assignment call, normalised ('' for the root), after its api-version and the caller's right."""
        arm.check_api_version(req.query, rbac.RA_TYPE)
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        self.authorize(req, f"Microsoft.Authorization/roleAssignments/{action}", scope or "/")
        return scope

    def RoleAssignments_Create(self, req: Request, scope: str, name: str) -> Response:
        scope = self._assignment_scope(req, scope, "write")
        body = req.json()
        props = rbac.validate_assignment(name, body)
        self._check_scope(scope)
        resource_id = rbac.assignment_id(scope, name)
        with self.lock:
            existing = self.store.get(resource_id)
            role_guid = rbac.role_guid_of(props["roleDefinitionId"])
            if existing is not None:
                old = existing["properties"]
                if old["principalId"].lower() != props["principalId"] or rbac.role_guid_of(old["roleDefinitionId"]) != role_guid:
                    raise errors.RoleAssignmentUpdateNotPermitted(
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
                return Response(200, _public(existing))
            for other in self.store.find(rbac.RA_TYPE, props["principalId"]):  # same principal: an index lookup
                o = other["properties"]
                if (o["principalId"].lower() == props["principalId"] and rbac.role_guid_of(o["roleDefinitionId"]) == role_guid
                        and o["scope"].rstrip("/").lower() == (scope or "/").rstrip("/").lower()):
                    raise errors.RoleAssignmentExists(
                        f"The role assignment already exists. The ID of the existing role assignment is {other['name'].replace('-', '')}.")
            assignment = rbac.public_assignment_body(scope, name, props, created_by=req.caller.oid, granted_at=time.time())
            self.store.put(resource_id, rbac.RA_TYPE, assignment, time.time())
            self.changed()
        return Response(201, _public(assignment))

    def RoleAssignments_Get(self, req: Request, scope: str, name: str) -> Response:
        scope = self._assignment_scope(req, scope, "read")
        found = self.store.get(rbac.assignment_id(scope, name))
        if found is None:
            raise errors.RoleAssignmentNotFound(f"The role assignment '{name}' is not found.")
        return Response(200, _public(found))

    def RoleAssignments_Delete(self, req: Request, scope: str, name: str) -> Response:
        scope = self._assignment_scope(req, scope, "delete")
        resource_id = rbac.assignment_id(scope, name)
        with self.lock:
            found = self.store.get(resource_id)
            if found is None:
                return Response(204)
            self.store.delete(resource_id)
            self.changed()
        return Response(200, _public(found))

    def RoleAssignments_List(self, req: Request, scope: str) -> Response:
        """List at a scope: assignments at, above and (without atScope()) below it; $filter principalId eq '...'."""
        scope = self._assignment_scope(req, scope, "read")
        query_filter = req.query.get("$filter", "")
        principal = re.search(r"principalId\s+eq\s+'([^']+)'", query_filter, re.IGNORECASE)
        at_scope = "atscope()" in query_filter.lower()
        out = []
        for ra in self.store.list(rbac.RA_TYPE):
            ra_scope = ra["properties"]["scope"]
            related = rbac.covers(ra_scope, scope) or (not at_scope and rbac.covers(scope, ra_scope))
            if not related:
                continue
            if principal and ra["properties"]["principalId"].lower() != principal.group(1).lower():
                continue
            out.append(_public(ra))
        return Response(200, {"value": out})
