"""Shared pieces of the emulator's operations: request/response types, the seeded workspaces, ARM id helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from provision.emulator import errors, identity, seed, tables

WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
RG_TYPE = "Microsoft.Resources/resourceGroups"
TABLE_STATE = "table"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    claims: identity.Claims | None = None

    @property
    def caller(self) -> identity.Claims:
        """The authenticated caller: routes authenticate before an operation runs, so None here is a bug."""
        if self.claims is None:
            raise errors.AuthenticationFailed("The request was not authenticated.")
        return self.claims

    def json(self):
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested too deep
            raise errors.InvalidRequestContent(f"The request content was invalid and could not be deserialized: {error}.") from None


@dataclass
class Response:
    status: int
    body: object = None  # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def token_refusal(problem: identity.TokenInvalid, base_url: str, *, data_plane: bool = False) -> errors.ServiceError:
    """The 401 for a refused bearer token, with ARM's code per reason (azure-contract.md §1; the data plane
    answers InvalidToken for every reason) and the WWW-Authenticate challenge naming the emulator's tenant."""
    cls = {"missing": errors.AuthenticationFailed, "expired": errors.ExpiredAuthenticationToken,
           "audience": errors.InvalidAuthenticationTokenAudience,
           "tenant": errors.InvalidAuthenticationTokenTenant}.get(problem.reason, errors.InvalidAuthenticationToken)
    if data_plane:
        cls = errors.InvalidToken
    description = problem.message
    if problem.reason == "missing":
        description = "The authentication failed because of missing 'Authorization' header."
    challenge = (f'Bearer authorization_uri="{base_url}/{seed.TENANT_ID}", error="invalid_token", '
                 f'error_description="{description}"')
    return cls(problem.message, headers={"WWW-Authenticate": challenge})


def workspace_body(ws: dict) -> dict:
    """WorkspacesGet.json shape."""
    return {
        "id": ws["id"], "name": ws["name"], "type": WORKSPACE_TYPE, "location": ws["location"], "tags": {},
        "properties": {
            "customerId": ws["customerId"], "provisioningState": "Succeeded",
            "sku": {"name": "PerGB2018", "lastSkuUpdate": "2026-01-01T00:00:00.0000000Z"},
            "retentionInDays": tables.DEFAULT_RETENTION,
            "features": {"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": True},
            "workspaceCapping": {"dailyQuotaGb": -1.0, "quotaNextResetTime": "2026-01-01T00:00:00Z",
                                 "dataIngestionStatus": "RespectQuota"},
            "publicNetworkAccessForIngestion": "Enabled", "publicNetworkAccessForQuery": "Enabled",
            "createdDate": "2026-01-01T00:00:00.0000000Z", "modifiedDate": "2026-01-01T00:00:00.0000000Z",
        },
    }



def _customer_of(workspace: str) -> str:
    for ws in WORKSPACES.values():
        if workspace.lower() in (ws["name"].lower(), ws["id"].lower(), ws["customerId"].lower()):
            return ws["customerId"].lower()
    return workspace.lower()


def _public(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _query(query: dict[str, str]) -> str:
    return urlencode(query)


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def rg_body(name: str, location: str, tags: dict | None = None) -> dict:
    return {"id": rg_id(seed.SUBSCRIPTION_ID, name), "name": name, "type": RG_TYPE, "location": location,
            "tags": tags or {}, "properties": {"provisioningState": "Succeeded"}}


def workspace_id(sub: str, rg: str, ws: str) -> str:
    return f"{rg_id(sub, rg)}/providers/{WORKSPACE_TYPE}/{ws}"


def tables_id(workspace_resource_id: str, table: str) -> str:
    return f"{workspace_resource_id}/tables/{table}"


def insights_id(sub: str, rg: str, rtype: str, name: str) -> str:
    return f"{rg_id(sub, rg)}/providers/{rtype}/{name}"


def operation_status_id(sub: str, location: str, op_id: str) -> str:
    """Where a table operation's status is polled (the Azure-AsyncOperation URL's path)."""
    return f"/subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/{location}/operationStatuses/{op_id}"


def _seed_workspaces() -> dict[str, dict]:
    out = {}
    for name, location, customer in ((seed.WORKSPACE_NAME, seed.LOCATION, seed.WORKSPACE_CUSTOMER_ID),
                                     (seed.OTHER_WORKSPACE_NAME, seed.OTHER_WORKSPACE_LOCATION, seed.OTHER_WORKSPACE_CUSTOMER_ID)):
        resource_id = workspace_id(seed.SUBSCRIPTION_ID, seed.RESOURCE_GROUP, name)
        out[resource_id.lower()] = {"id": resource_id, "name": name, "location": location, "customerId": customer}
    return out


WORKSPACES = _seed_workspaces()
