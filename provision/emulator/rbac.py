"""Role definitions, role assignments and the authorization check (Microsoft.Authorization, 2022-04-01).

Rules (azure-contract.md §6): PUT 201 then 200 for the same name; 409
RoleAssignmentExists (existing id as 32 hex) for the same (scope, role,
principal) under another name; PrincipalNotFound (400) for unknown principals.
An assignment grants its role at its scope and below once the configured
propagation delay has passed (§6.1 "Permission propagation").
"""

from __future__ import annotations

import re
import time
from fnmatch import fnmatchcase
from typing import Protocol

from provision.emulator import arm, errors, identity, seed

RA_TYPE = "Microsoft.Authorization/roleAssignments"
RD_TYPE = "Microsoft.Authorization/roleDefinitions"
CONTRIBUTOR_ROLE_ID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR_ROLE_ID = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
DEPLOYER_OWNER_ASSIGNMENT = "c0c0c0c0-0000-4000-8000-000000000001"

# Built-in roles (permissions as in Azure's built-in roles reference; MMP verbatim from azure-contract.md §6.2).
ROLES: dict[str, dict] = {
    seed.OWNER_ROLE_ID: {
        "roleName": "Owner", "description": "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        "permissions": [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]},
    CONTRIBUTOR_ROLE_ID: {
        "roleName": "Contributor",
        "description": "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        "permissions": [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                                                          "Microsoft.Authorization/elevateAccess/Action"],
                         "dataActions": [], "notDataActions": []}]},
    READER_ROLE_ID: {
        "roleName": "Reader", "description": "View all resources, but does not allow you to make any changes.",
        "permissions": [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}]},
    USER_ACCESS_ADMINISTRATOR_ROLE_ID: {
        "roleName": "User Access Administrator", "description": "Lets you manage user access to Azure resources.",
        "permissions": [{"actions": ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], "notActions": [],
                         "dataActions": [], "notDataActions": []}]},
    seed.MONITORING_METRICS_PUBLISHER_ROLE_ID: {
        "roleName": "Monitoring Metrics Publisher", "description": "Enables publishing metrics against Azure resources",
        "permissions": [{"actions": ["Microsoft.Insights/Register/Action", "Microsoft.Support/*",
                                     "Microsoft.Resources/subscriptions/resourceGroups/read"],
                         "notActions": [], "dataActions": ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"],
                         "notDataActions": []}]},
}

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def role_definition(role_guid: str, scope: str = "") -> dict:
    role = ROLES[role_guid]
    return {
        "id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}",
        "name": role_guid, "type": RD_TYPE,
        "properties": {"roleName": role["roleName"], "type": "BuiltInRole", "description": role["description"],
                       "assignableScopes": ["/"], "permissions": role["permissions"],
                       "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2021-11-11T20:13:47.8628684Z",
                       "createdBy": None, "updatedBy": None},
    }


def role_guid_of(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def list_role_definitions(scope: str, role_filter: str | None) -> list[dict]:
    wanted = None
    if role_filter:
        match = re.search(r"roleName\s+eq\s+'([^']*)'", role_filter, re.IGNORECASE)
        wanted = match.group(1).lower() if match else None
    return [role_definition(g, scope) for g, r in ROLES.items() if wanted is None or r["roleName"].lower() == wanted]


def get_role_definition(scope: str, role_guid: str) -> dict:
    if role_guid.lower() not in ROLES:
        raise errors.RoleDefinitionNotFound(f"The role definition '{role_guid}' could not be found.")
    return role_definition(role_guid.lower(), scope)


def covers(scope: str, resource_id: str) -> bool:
    """An assignment at ``scope`` applies to ``resource_id`` (same id or a descendant)."""
    scope, resource_id = scope.rstrip("/").lower(), resource_id.rstrip("/").lower()
    return scope == "" or resource_id == scope or resource_id.startswith(scope + "/")


def _allows(permissions: list[dict], action: str, data: bool) -> bool:
    grant, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    action = action.lower()
    for perm in permissions:
        if any(fnmatchcase(action, p.lower()) for p in perm.get(grant, [])) and not any(
            fnmatchcase(action, p.lower()) for p in perm.get(deny, [])
        ):
            return True
    return False


class _Finder(Protocol):
    def find(self, rtype: str, value: str) -> list[dict]: ...


def assignments_of(store: _Finder, principal_id: str) -> list[dict]:
    """The role assignments that apply to ``principal_id``: its own and those of every group it is a member of
    (Azure RBAC: a role assigned to a group applies to the group's members), one index lookup per principal."""
    return [ra for member in identity.memberships(principal_id) for ra in store.find(RA_TYPE, member)]


def is_authorized(assignments: list[dict], principal_id: str, action: str, resource_id: str, *, data: bool,
                  propagation_seconds: float, now: float | None = None) -> bool:
    """Whether one of ``assignments`` grants ``action`` on ``resource_id`` to ``principal_id``, itself or through a
    group it is a member of."""
    now = time.time() if now is None else now
    principals = identity.memberships(principal_id)
    for ra in assignments:
        props = ra["properties"]
        if props["principalId"].lower() not in principals or not covers(props["scope"], resource_id):
            continue
        if ra.get("_grantedAt", 0.0) + propagation_seconds > now:
            continue  # not yet propagated (azure-contract.md §6.1)
        role = ROLES.get(role_guid_of(props["roleDefinitionId"]))
        if role and _allows(role["permissions"], action, data):
            return True
    return False


def authorization_failed(app_id: str, object_id: str, action: str, scope: str) -> errors.ServiceError:
    return errors.AuthorizationFailed(
        f"The client '{app_id}' with object id '{object_id}' does not have authorization to perform action '{action}' "
        f"over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
    )


def seeded_assignments() -> list[dict]:
    """The deployer is Owner on the seeded subscription."""
    scope = f"/subscriptions/{seed.SUBSCRIPTION_ID}"
    return [public_assignment_body(scope, DEPLOYER_OWNER_ASSIGNMENT, {
        "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{seed.OWNER_ROLE_ID}",
        "principalId": seed.DEPLOYER_OBJECT_ID, "principalType": "ServicePrincipal", "description": "seeded: deployer is Owner",
    }, created_by=None, granted_at=0.0)]


def assignment_id(scope: str, name: str) -> str:
    return f"{scope.rstrip('/')}/providers/{RA_TYPE}/{name}"


def public_assignment_body(scope: str, name: str, props: dict, *, created_by: str | None, granted_at: float,
                           created_on: str | None = None) -> dict:
    stamp = arm.now_iso()
    properties = {
        "roleDefinitionId": props["roleDefinitionId"], "principalId": props["principalId"],
        "principalType": props.get("principalType") or "ServicePrincipal",
        "scope": scope or "/", "condition": props.get("condition"), "conditionVersion": props.get("conditionVersion"),
        "description": props.get("description"),
        "delegatedManagedIdentityResourceId": props.get("delegatedManagedIdentityResourceId"),
        "createdOn": created_on or stamp, "updatedOn": stamp, "createdBy": created_by, "updatedBy": created_by,
    }
    return {
        "id": assignment_id(scope, name),
        "name": name, "type": RA_TYPE,
        # Unset optional fields are omitted: the 2022-04-01 schema types them as non-nullable strings.
        "properties": {k: v for k, v in properties.items() if v is not None},
        "_grantedAt": granted_at,
    }


def validate_assignment(name: str, body: dict) -> dict:
    """The create parameters' properties, or the service's error for a bad request."""
    if not GUID.match(name):
        raise errors.InvalidRoleAssignmentId(
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise errors.InvalidRequestContent("The request content was invalid and could not be deserialized: 'properties' is required.")
    for key in ("roleDefinitionId", "principalId"):
        if not props.get(key):
            raise errors.MissingProperty(f"The '{key}' property is required for a role assignment.", target=f"properties.{key}")
    role_guid = role_guid_of(props["roleDefinitionId"])
    if role_guid not in ROLES:
        raise errors.RoleDefinitionDoesNotExist(f"The specified role definition with ID '{role_guid}' does not exist.")
    principal = str(props["principalId"])
    actual = identity.principal_type(principal)
    if actual is None:
        raise errors.PrincipalNotFound(
            f"Principal {principal.replace('-', '')} does not exist in the directory {seed.TENANT_ID}. Check that you have the correct "
            "principal ID. If you are creating this principal and then immediately assigning a role, this error might be related "
            "to a replication delay. In this case, set the role assignment principalType property to a value, such as "
            "ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype"
        )
    stated = props.get("principalType")
    # ARM checks a stated principalType against the directory: "UnmatchedPrincipalType: The PrincipalId '<32 hex>'
    # has type 'Group' , which is different from specified PrinciaplType 'User'." (observed verbatim, typo and space
    # included: Azure/azure-dev#5814 for a group, Azure/azure-dev#3581 and Azure/modern-web-app-pattern-dotnet#129
    # for a service principal). Refused here where a group is on either side. 'User' for a service principal is
    # still taken as sent: the directory holds no users to tell them apart, and the conformance replay of
    # Microsoft's own RoleAssignments_CreateForResourceGroup example (principalType 'User') relies on it.
    if stated and str(stated) != actual and "Group" in (str(stated), actual):
        raise errors.UnmatchedPrincipalType(
            f"The PrincipalId '{principal.replace('-', '').lower()}' has type '{actual}' , which is different from "
            f"specified PrinciaplType '{stated}'.")
    props = dict(props)
    props["principalId"] = principal.lower()
    props["principalType"] = stated or actual  # ARM fills in the directory's type when none is given
    return props
