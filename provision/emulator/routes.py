"""The URL table: (method, path regex) -> backend operation, and which token audience the route needs.

Thin on purpose (the moto layout): a route only names the operation; the
backend does the work. ARM paths match case-insensitively (azure-contract.md §1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provision.emulator import arm, cloud_metadata, datacollector, identity, ingest

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
WS = RG + r"/providers/microsoft\.operationalinsights/workspaces/(?P<ws>[^/]+)"
TABLE = WS + r"/tables/(?P<table>[^/]+)"
DCR = r"/providers/microsoft\.insights/datacollectionrules"
DCE = r"/providers/microsoft\.insights/datacollectionendpoints"
AMPLS = r"/providers/microsoft\.insights/privatelinkscopes/(?P<scope_name>[^/]+)"
ONBOARDING = r"/providers/microsoft\.securityinsights/onboardingstates"
SCOPE = r"(?P<scope>(?:/[^?]*?)?)"
NAME = r"(?P<name>[^/]+)"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern
    operation: str  # Backend method name, also the name used by latency and fault knobs
    audience: str | None  # None: no token (Entra endpoints) or checked by the operation itself
    group: str  # arm | ingest | graph | entra | datacollector
    api: str | None = None  # key of VERSIONS: the api-versions the operation accepts (None: no api-version parameter)


# The api-versions each operation checks (arm.check_api_version and its data-plane and metadata peers), by the
# operation's Azure operation-group prefix; the coverage table (coverage.py) lists them, and
# tests/test_emulator_coverage.py calls every route with an unsupported version to see that the operation
# refuses it naming exactly these.
VERSIONS: dict[str, tuple[str, ...]] = {**arm.API_VERSIONS, **arm.UNLISTED_API_VERSIONS, "ingestion": arm.INGESTION_API_VERSIONS,
                                        "metadata": cloud_metadata.API_VERSIONS, "datacollector": (datacollector.API_VERSION,)}
_API_BY_OPERATION_GROUP = {
    "Metadata": "metadata", "Subscriptions": "Microsoft.Resources/subscriptions", "Tenants": "Microsoft.Resources/tenants",
    "Providers": "Microsoft.Resources/providers", "ResourceGroups": "Microsoft.Resources/resourceGroups",
    "Workspaces": "Microsoft.OperationalInsights/workspaces", "Tables": "Microsoft.OperationalInsights/workspaces/tables",
    "OperationStatuses": "Microsoft.OperationalInsights/locations/operationStatuses",
    "DataCollectionRules": "Microsoft.Insights/dataCollectionRules",
    "DataCollectionEndpoints": "Microsoft.Insights/dataCollectionEndpoints",
    "RoleDefinitions": "Microsoft.Authorization/roleDefinitions", "RoleAssignments": "Microsoft.Authorization/roleAssignments",
    "SharedKeys": "Microsoft.OperationalInsights/workspaces",
    "SentinelOnboardingStates": "Microsoft.SecurityInsights/onboardingStates",
    "PrivateLinkScopes": "Microsoft.Insights/privateLinkScopes", "PrivateLinkScopedResources": "Microsoft.Insights/privateLinkScopes",
    "Ingest": "ingestion", "DataCollector": "datacollector",
}


NOT_EMULATED = "Ingest_NotEmulated"  # answers 501 whatever the api-version: it checks none


def _r(methods: str, path: str, operation: str, audience: str | None, group: str = "arm") -> Route:
    api = None if operation == NOT_EMULATED else _API_BY_OPERATION_GROUP.get(operation.split("_", 1)[0])
    return Route(tuple(methods.split()), re.compile(f"^{path}/?$", re.IGNORECASE), operation, audience, group, api)


ARM = identity.ARM_AUDIENCE
ROUTES: list[Route] = [
    # Entra ID (sdk-notes.md §4.1) and Graph
    _r("GET", r"/(?P<tenant>[A-Za-z0-9.\-]+)/v2\.0/\.well-known/openid-configuration", "OpenIdConfiguration", None, "entra"),
    _r("GET", r"/(?P<tenant>[A-Za-z0-9.\-]+)/discovery/v2\.0/keys", "Keys", None, "entra"),
    _r("POST", r"/(?P<tenant>[A-Za-z0-9.\-]+)/oauth2/v2\.0/token", "Token", None, "entra"),
    # The emulator as the OIDC issuer of federated tokens (workload identity federation, assertions.py)
    _r("GET", r"/issuer/\.well-known/openid-configuration", "Issuer_OpenIdConfiguration", None, "entra"),
    _r("GET", r"/issuer/keys", "Issuer_Keys", None, "entra"),
    _r("GET", r"/v1\.0/servicePrincipals\(appId='(?P<app_id>[^']*)'\)", "ServicePrincipals_GetByAppId", None, "graph"),
    _r("GET", r"/v1\.0/servicePrincipals", "ServicePrincipals_List", None, "graph"),
    _r("GET", r"/v1\.0/servicePrincipals/(?P<object_id>[^/]+)", "ServicePrincipals_Get", None, "graph"),
    _r("GET", r"/v1\.0/groups", "Groups_List", None, "graph"),
    _r("GET", r"/v1\.0/groups/(?P<group_id>[^/]+)", "Groups_Get", None, "graph"),
    _r("POST", r"/v1\.0/directoryObjects/getByIds", "DirectoryObjects_GetByIds", None, "graph"),
    # ARM's cloud metadata document (cloud_metadata.py): read before any token exists
    _r("GET", r"/metadata/endpoints", "Metadata_Endpoints", None),
    # Subscriptions, tenants, resource providers (Microsoft.Resources subscriptions 2022-12-01, resources 2025-04-01)
    _r("GET", r"/subscriptions", "Subscriptions_List", ARM),
    _r("GET", SUB, "Subscriptions_Get", ARM),
    _r("GET", r"/tenants", "Tenants_List", ARM),
    _r("GET", SUB + r"/providers", "Providers_List", ARM),
    _r("GET", SUB + r"/providers/(?P<namespace>[^/]+)", "Providers_Get", ARM),
    _r("POST", SUB + r"/providers/(?P<namespace>[^/]+)/register", "Providers_Register", ARM),
    # Logs Ingestion data plane (azure-contract.md §7): the DCR's own endpoint and a DCE's share this server
    _r("POST", r"/ingest/(?P<endpoint_kind>dcr|dce)/(?P<endpoint_key>[^/]+)/dataCollectionRules/(?P<rule_id>[^/]+)/streams/(?P<stream>[^/]+)",
       "Ingest_Upload", None, "ingest"),
    _r("GET PUT POST PATCH DELETE", r"/ingest/(?P<endpoint_kind>dcr|dce)/(?P<endpoint_key>[^/]+)/(?P<surface>metrics|config)"
       r"(?P<rest>/.*)?", "Ingest_NotEmulated", None, "ingest"),
    # The HTTP Data Collector API (datacollector.py): /datacollector/<CustomerId> stands for
    # https://<CustomerId>.ods.opinsights.azure.com; SharedKey-signed, so no bearer token
    _r("POST", r"/datacollector/(?P<customer>[^/]+)/api/logs", "DataCollector_Post", None, "datacollector"),
    # Resource groups
    _r("GET", SUB + r"/resourcegroups", "ResourceGroups_List", ARM),
    _r("GET", RG, "ResourceGroups_Get", ARM),
    _r("HEAD", RG, "ResourceGroups_CheckExistence", ARM),
    _r("PUT", RG, "ResourceGroups_CreateOrUpdate", ARM),
    _r("DELETE", RG, "ResourceGroups_Delete", ARM),
    # Workspaces, tables, operation statuses
    _r("GET", RG + r"/providers/microsoft\.operationalinsights/workspaces", "Workspaces_ListByResourceGroup", ARM),
    _r("GET", SUB + r"/providers/microsoft\.operationalinsights/workspaces", "Workspaces_List", ARM),
    _r("GET", WS, "Workspaces_Get", ARM),
    _r("POST", WS + r"/sharedKeys", "SharedKeys_GetSharedKeys", ARM),
    _r("POST", WS + r"/regenerateSharedKey", "SharedKeys_Regenerate", ARM),
    # Microsoft Sentinel onboarding (SecurityInsights OnboardingStates.json 2025-09-01): brings its tables (ops_sentinel.py)
    _r("GET", WS + ONBOARDING, "SentinelOnboardingStates_List", ARM),
    _r("GET", WS + ONBOARDING + "/" + NAME, "SentinelOnboardingStates_Get", ARM),
    _r("PUT", WS + ONBOARDING + "/" + NAME, "SentinelOnboardingStates_Create", ARM),
    _r("DELETE", WS + ONBOARDING + "/" + NAME, "SentinelOnboardingStates_Delete", ARM),
    _r("GET", WS + r"/tables", "Tables_ListByWorkspace", ARM),
    _r("GET", TABLE, "Tables_Get", ARM),
    _r("PUT", TABLE, "Tables_CreateOrUpdate", ARM),
    _r("PATCH", TABLE, "Tables_Update", ARM),
    _r("DELETE", TABLE, "Tables_Delete", ARM),
    _r("GET", TABLE + r"/operationresults/(?P<op_id>[^/]+)", "Tables_OperationResult", ARM),
    _r("POST", TABLE + r"/migrate", "Tables_Migrate", ARM),
    _r("GET", SUB + r"/providers/microsoft\.operationalinsights/locations/(?P<location>[^/]+)/operationstatuses/(?P<op_id>[^/]+)",
       "OperationStatuses_Get", ARM),
    # Data collection rules and endpoints
    _r("GET", RG + DCR, "DataCollectionRules_List", ARM),
    _r("GET", SUB + DCR, "DataCollectionRules_List", ARM),
    _r("GET", RG + DCR + "/" + NAME, "DataCollectionRules_Get", ARM),
    _r("PUT", RG + DCR + "/" + NAME, "DataCollectionRules_Create", ARM),
    _r("PATCH", RG + DCR + "/" + NAME, "DataCollectionRules_Update", ARM),
    _r("DELETE", RG + DCR + "/" + NAME, "DataCollectionRules_Delete", ARM),
    _r("GET", RG + DCE, "DataCollectionEndpoints_List", ARM),
    _r("GET", SUB + DCE, "DataCollectionEndpoints_List", ARM),
    _r("GET", RG + DCE + "/" + NAME, "DataCollectionEndpoints_Get", ARM),
    _r("PUT", RG + DCE + "/" + NAME, "DataCollectionEndpoints_Create", ARM),
    _r("PATCH", RG + DCE + "/" + NAME, "DataCollectionEndpoints_Update", ARM),
    _r("DELETE", RG + DCE + "/" + NAME, "DataCollectionEndpoints_Delete", ARM),
    # Azure Monitor private link scopes and their scoped resources (privateLinkScopes_API.json 2023-06-01-preview)
    _r("GET", RG + AMPLS, "PrivateLinkScopes_Get", ARM),
    _r("PUT", RG + AMPLS, "PrivateLinkScopes_CreateOrUpdate", ARM),
    _r("DELETE", RG + AMPLS, "PrivateLinkScopes_Delete", ARM),
    _r("GET", RG + AMPLS + "/scopedresources", "PrivateLinkScopedResources_ListByPrivateLinkScope", ARM),
    _r("GET", RG + AMPLS + "/scopedresources/" + NAME, "PrivateLinkScopedResources_Get", ARM),
    _r("PUT", RG + AMPLS + "/scopedresources/" + NAME, "PrivateLinkScopedResources_CreateOrUpdate", ARM),
    _r("DELETE", RG + AMPLS + "/scopedresources/" + NAME, "PrivateLinkScopedResources_Delete", ARM),
    # Role definitions and assignments at any scope (azure-contract.md §6)
    _r("GET", SCOPE + r"/providers/microsoft\.authorization/roleDefinitions/(?P<role>[^/]+)", "RoleDefinitions_Get", ARM),
    _r("GET", SCOPE + r"/providers/microsoft\.authorization/roleDefinitions", "RoleDefinitions_List", ARM),
    _r("GET", SCOPE + r"/providers/microsoft\.authorization/roleAssignments/" + NAME, "RoleAssignments_Get", ARM),
    _r("PUT", SCOPE + r"/providers/microsoft\.authorization/roleAssignments/" + NAME, "RoleAssignments_Create", ARM),
    _r("DELETE", SCOPE + r"/providers/microsoft\.authorization/roleAssignments/" + NAME, "RoleAssignments_Delete", ARM),
    _r("GET", SCOPE + r"/providers/microsoft\.authorization/roleAssignments", "RoleAssignments_List", ARM),
]


# What a request body may weigh, by route group, checked against Content-Length before it is read (and counted
# while de-chunking). Ingestion: "The maximum message size is currently 1 MB per call" (ingest.MAX_BODY,
# azure-contract.md §7). Everything else (ARM, Graph, Entra, unknown paths): 4 MB, ARM's documented limit for a
# template and for a parameter file (learn.microsoft.com, azure-resource-manager/templates/template-best-practices,
# "Template limits"); the largest body the toolkit sends (a DCR) is far below it.
INGEST_MAX_BODY = ingest.MAX_BODY
MAX_BODY = 4 * 1024 * 1024
# The Data Collector API: "Maximum of 30 MB per post" (datacollector.MAX_POST).
DATACOLLECTOR_MAX_BODY = datacollector.MAX_POST


def api_versions(route: Route) -> tuple[str, ...] | None:
    """The api-versions ``route``'s operation accepts; None when it takes none (Entra, Graph: the version is in
    the path)."""
    return VERSIONS[route.api] if route.api else None


def body_limit(group: str) -> int:
    if group == "datacollector":
        return DATACOLLECTOR_MAX_BODY
    return INGEST_MAX_BODY if group == "ingest" else MAX_BODY


def token_audience(route: Route | None) -> tuple[str | None, bool]:
    """(audience, data plane?) the bearer token is checked for before the body is read; (None, False): no token.

    ARM routes name theirs; ingestion and Graph operations check theirs again inside (with their own RBAC or
    Graph permission checks), but an unauthenticated body must never be read (issue 12, item 8)."""
    if route is None:
        return None, False
    if route.group == "ingest":
        return identity.MONITOR_AUDIENCE, True
    if route.group == "graph":
        return identity.GRAPH_AUDIENCE, False
    return route.audience, False


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path parameters, path known for another method)."""
    known = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            if method in route.methods:
                return route, {k: v for k, v in found.groupdict().items() if v is not None}, True
            known = True
    return None, {}, known
