"""ARM's own surface: the cloud metadata document, subscriptions, tenants, resource providers, resource groups,
and the workspaces (seeded, read-only).

Subscriptions, tenants and providers are what the az CLI reads to sign in and to resolve api-versions (issue 11):
shapes from Microsoft.Resources subscriptions 2022-12-01 (GetSubscription, GetSubscriptions, GetTenants examples)
and resources 2025-04-01 (GetProvider, ResourceGroups_Get, CreateResourceGroup examples).
"""

from __future__ import annotations

import time

from provision.emulator import arm, cloud_metadata, dcr, errors, providers, rbac, seed
from provision.emulator.base import RG_TYPE, WORKSPACE_TYPE, WORKSPACES, Request, Response, rg_body, rg_id, workspace_body, workspace_id
from provision.emulator.core import BackendCore

SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"
TENANT_TYPE = "Microsoft.Resources/tenants"
PROVIDER_TYPE = "Microsoft.Resources/providers"
SUBSCRIPTION_NAME = "provision-local"


def subscription_body() -> dict:
    """The seeded subscription (Subscription, subscriptions 2022-12-01); 'RoleBased': the caller sees it through an
    Azure RBAC assignment, as in the GetSubscriptions example."""
    return {"id": f"/subscriptions/{seed.SUBSCRIPTION_ID}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": seed.SUBSCRIPTION_ID, "tenantId": seed.TENANT_ID, "displayName": SUBSCRIPTION_NAME,
            "state": "Enabled", "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                                         "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
            "tags": {}}


def tenant_body() -> dict:
    """The emulator's tenant (TenantIdDescription, subscriptions 2022-12-01, GetTenants example): the caller's home."""
    return {"id": f"/tenants/{seed.TENANT_ID}", "tenantId": seed.TENANT_ID, "tenantCategory": "Home",
            "countryCode": "NL", "displayName": "provision local", "domains": [seed.TENANT_DOMAIN],
            "defaultDomain": seed.TENANT_DOMAIN, "tenantType": "AAD"}


class ArmOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== cloud metadata (no token)
    def Metadata_Endpoints(self, req: Request) -> Response:
        """GET /metadata/endpoints: the cloud document `az cloud register --endpoint-resource-manager` reads."""
        version = arm.check_plain_api_version(req.query, cloud_metadata.API_VERSIONS)
        return Response(200, cloud_metadata.document(self.base_url, version))

    # ================================================================== subscriptions and tenants
    def _sees_subscription(self, req: Request) -> bool:
        """ARM lists a subscription to a caller holding a role assignment at, above or below it (its scope or any
        resource group or resource in it); the deploying app is Owner, the sender sees it once it has a role."""
        oid = req.caller.oid.lower()
        sub = f"/subscriptions/{seed.SUBSCRIPTION_ID}"
        return any(rbac.covers(ra["properties"]["scope"], sub) or rbac.covers(sub, ra["properties"]["scope"])
                   for ra in self.store.find(rbac.RA_TYPE, oid) if ra["properties"]["principalId"].lower() == oid)

    def Subscriptions_List(self, req: Request) -> Response:
        arm.check_api_version(req.query, SUBSCRIPTION_TYPE)
        return Response(200, {"value": [subscription_body()] if self._sees_subscription(req) else []})

    def Subscriptions_Get(self, req: Request, sub: str) -> Response:
        """One subscription; one the caller cannot see is answered as ARM answers an unknown one (404)."""
        arm.check_api_version(req.query, SUBSCRIPTION_TYPE)
        if sub.lower() != seed.SUBSCRIPTION_ID or not self._sees_subscription(req):
            raise errors.SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        return Response(200, subscription_body())

    def Tenants_List(self, req: Request) -> Response:
        arm.check_api_version(req.query, TENANT_TYPE)
        return Response(200, {"value": [tenant_body()]})

    # ================================================================== resource providers
    def _provider_subscription(self, req: Request, sub: str) -> None:
        arm.check_api_version(req.query, PROVIDER_TYPE)
        if sub.lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{sub}' could not be found.")

    def Providers_Get(self, req: Request, sub: str, namespace: str) -> Response:
        """GET /subscriptions/{sub}/providers/{namespace}: the types the emulator hosts there and their api-versions
        (providers.py). Reading provider metadata needs no role: every caller may read it (ARM's
        Microsoft.Resources/subscriptions/providers/read is granted to any principal in the subscription)."""
        self._provider_subscription(req, sub)
        return Response(200, providers.provider(namespace, seed.SUBSCRIPTION_ID))

    def Providers_List(self, req: Request, sub: str) -> Response:
        """GET /subscriptions/{sub}/providers (`az provider list`): the namespaces the emulator hosts. ``$expand``
        (aliases, resource-type metadata) adds nothing here: the emulator has no aliases."""
        self._provider_subscription(req, sub)
        if req.query.get("$top"):
            raise errors.InvalidRequestContent("The emulator does not support $top on providers (docs/emulator.md).")
        return Response(200, {"value": [providers.provider(n, seed.SUBSCRIPTION_ID) for n in providers.NAMESPACES]})

    def Providers_Register(self, req: Request, sub: str, namespace: str) -> Response:
        """POST .../providers/{namespace}/register (`az provider register`, a common first pipeline step): the
        emulator's namespaces are always registered, so this answers the provider as Registered, after the same
        check ARM makes: the caller needs '{namespace}/register/action' on the subscription (Owner and Contributor
        have it through '*'; Monitoring Metrics Publisher through 'Microsoft.Insights/Register/Action')."""
        self._provider_subscription(req, sub)
        name = providers.canonical(namespace)
        self.authorize(req, f"{name}/register/action", f"/subscriptions/{seed.SUBSCRIPTION_ID}")
        return Response(200, providers.provider(name, seed.SUBSCRIPTION_ID))

    # ================================================================== resource groups
    def ResourceGroups_Get(self, req: Request, sub: str, rg: str) -> Response:
        arm.check_api_version(req.query, RG_TYPE)
        self.authorize(req, "Microsoft.Resources/subscriptions/resourceGroups/read", rg_id(sub, rg))
        if not self.resource_group_exists(sub, rg):
            raise errors.ResourceGroupNotFound(f"Resource group '{rg}' could not be found.")
        stored = self.store.get(rg_id(sub, rg))
        return Response(200, stored or rg_body(seed.RESOURCE_GROUP, seed.LOCATION))

    def ResourceGroups_CheckExistence(self, req: Request, sub: str, rg: str) -> Response:
        """HEAD: 204 when the group exists, 404 (no body) when not (`az group exists`)."""
        arm.check_api_version(req.query, RG_TYPE)
        self.authorize(req, "Microsoft.Resources/subscriptions/resourceGroups/read", rg_id(sub, rg))
        return Response(204 if self.resource_group_exists(sub, rg) else 404)

    def ResourceGroups_List(self, req: Request, sub: str) -> Response:
        """GET /subscriptions/{sub}/resourcegroups: the groups the caller may read (ARM filters, it does not refuse)."""
        arm.check_api_version(req.query, RG_TYPE)
        if sub.lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{sub}' could not be found.")
        if req.query.get("$filter") or req.query.get("$top"):
            # ARM filters by tagName/tagValue; the emulator does not, and says so rather than ignore the filter.
            raise errors.InvalidRequestContent("The emulator does not support $filter or $top on resource groups "
                                               "(docs/emulator.md, coverage table).")
        groups = [self.store.get(rg_id(sub, seed.RESOURCE_GROUP)) or rg_body(seed.RESOURCE_GROUP, seed.LOCATION)]
        groups += [g for g in self.store.list(RG_TYPE) if g["name"].lower() != seed.RESOURCE_GROUP.lower()]
        assignments = rbac.assignments_of(self.store, req.caller.oid)
        visible = [g for g in groups if rbac.is_authorized(
            assignments, req.caller.oid, "Microsoft.Resources/subscriptions/resourceGroups/read", g["id"], data=False,
            propagation_seconds=self.role_propagation_seconds)]
        return Response(200, {"value": sorted(visible, key=lambda g: g["name"].lower())})

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

    def ResourceGroups_Delete(self, req: Request, sub: str, rg: str) -> Response:
        """DELETE a resource group and what it holds here (DCRs, DCEs, role assignments at or under it), answered
        200 at once (resources 2025-04-01 documents 200 and 202; the emulator has nothing to wait for). The seeded
        group holds the seeded workspaces, which cannot be deleted: 409, the emulator's code."""
        arm.check_api_version(req.query, RG_TYPE)
        resource_id = rg_id(sub, rg)
        self.authorize(req, "Microsoft.Resources/subscriptions/resourceGroups/delete", resource_id)
        self.require_resource_group(sub, rg)
        if rg.lower() == seed.RESOURCE_GROUP.lower():
            raise errors.Conflict(f"The resource group '{rg}' holds the emulator's seeded workspaces, which cannot be "
                                  "deleted (docs/emulator.md, 'The az CLI').")
        with self.lock:
            for rtype in (dcr.DCR_TYPE, dcr.DCE_TYPE, rbac.RA_TYPE):
                for resource in self.store.list(rtype, resource_id + "/"):
                    self.store.delete(resource["id"])
            self.store.delete(resource_id)
            self.changed()
        return Response(200)

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
