"""The emulator's service logic: one method per Azure operation, over the SQLite store.

Routes (routes.py) parse the URL and call these methods; this module checks
tokens, api-versions and RBAC, applies the models' rules (tables.py, dcr.py,
rbac.py, ingest.py) and returns a Response. Long-running table operations are
settled lazily: each request first completes the operations whose time has come.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from provision import kql
from provision.emulator import arm, dcr, errors, identity, ingest, rbac, seed, tables
from provision.emulator.store import Store

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

    def json(self):
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise errors.InvalidRequestContent(f"The request content was invalid and could not be deserialized: {error}.") from None


@dataclass
class Response:
    status: int
    body: object = None  # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def _seed_workspaces() -> dict[str, dict]:
    out = {}
    for name, location, customer in ((seed.WORKSPACE_NAME, seed.LOCATION, seed.WORKSPACE_CUSTOMER_ID),
                                     (seed.OTHER_WORKSPACE_NAME, seed.OTHER_WORKSPACE_LOCATION, seed.OTHER_WORKSPACE_CUSTOMER_ID)):
        resource_id = (f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{seed.RESOURCE_GROUP}"
                       f"/providers/Microsoft.OperationalInsights/workspaces/{name}")
        out[resource_id.lower()] = {"id": resource_id, "name": name, "location": location, "customerId": customer}
    return out


WORKSPACES = _seed_workspaces()


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


class Backend:
    """State and operations of one emulator instance."""

    def __init__(self, store: Store, *, lro_seconds: float = 0.0, role_propagation_seconds: float = 0.0):
        self.store = store
        self.lock = threading.RLock()
        self.base_url = ""
        self.lro_seconds = lro_seconds
        self.role_propagation_seconds = role_propagation_seconds
        secret = store.meta("signing-secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta("signing-secret", secret)
        self.tokens = identity.TokenService(bytes.fromhex(secret))
        self.fail_next_lro = None  # callable(operation) -> bool, set by the server's fault injector
        self._version = 0  # bumped on every write: invalidates compiled ingestion plans
        self._plans: dict[str, tuple[int, ingest.RulePlan]] = {}
        self.stats: dict[str, ingest.Stats] = {}
        self.quota = ingest.Quota()
        self.warnings: list[str] = []
        if store.meta("seeded") is None:
            self.seed()

    # ------------------------------------------------------------------ state
    def seed(self) -> None:
        for ra in rbac.seeded_assignments():
            self.store.put(ra["id"], rbac.RA_TYPE, ra)
        self.store.set_meta("seeded", "1")

    def reset(self) -> None:
        with self.lock:
            self.store.clear()
            self.seed()
            self._version += 1
            self._plans.clear()
            self.stats.clear()
            self.warnings.clear()
            self.quota = ingest.Quota()

    def changed(self) -> None:
        self._version += 1

    # ------------------------------------------------------------------ lookups (dcr.Lookup)
    def workspace(self, resource_id: str) -> dict | None:
        return WORKSPACES.get(resource_id.rstrip("/").lower())

    def table_state(self, workspace_id: str, name: str) -> dict | None:
        state = self.store.get(tables_id(workspace_id, name))
        if state is not None:
            return state
        if not tables.is_custom(name) and tables.azure_table(name) is not None:
            return tables.azure_default_state(name)
        return None

    def dce(self, resource_id: str) -> dict | None:
        return self.store.get(resource_id)

    def resource_group_exists(self, subscription: str, resource_group: str) -> bool:
        if subscription.lower() != seed.SUBSCRIPTION_ID:
            raise errors.SubscriptionNotFound(f"The subscription '{subscription}' could not be found.")
        if resource_group.lower() == seed.RESOURCE_GROUP.lower():
            return True
        return self.store.get(rg_id(subscription, resource_group)) is not None

    def require_resource_group(self, subscription: str, resource_group: str) -> None:
        if not self.resource_group_exists(subscription, resource_group):
            raise errors.ResourceGroupNotFound(f"Resource group '{resource_group}' could not be found.")

    # ------------------------------------------------------------------ auth
    def authenticate(self, req: Request, audience: str, *, data_plane: bool = False) -> identity.Claims:
        try:
            req.claims = self.tokens.verify(req.headers.get("authorization"), audience)
        except identity.TokenInvalid as problem:
            cls = {"missing": errors.AuthenticationFailed, "expired": errors.ExpiredAuthenticationToken,
                   "audience": errors.InvalidAuthenticationTokenAudience}.get(problem.reason, errors.InvalidAuthenticationToken)
            if data_plane:
                cls = errors.InvalidToken
            challenge = (f'Bearer authorization_uri="{self.base_url}/{seed.TENANT_ID}", error="invalid_token", '
                         f'error_description="{problem.message}"')
            if problem.reason == "missing":
                challenge = f'Bearer authorization_uri="{self.base_url}/{seed.TENANT_ID}", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."'
            raise cls(problem.message, headers={"WWW-Authenticate": challenge}) from None
        return req.claims

    def authorize(self, req: Request, action: str, scope: str) -> None:
        claims = req.claims
        if not rbac.is_authorized(self.store.list(rbac.RA_TYPE), claims.oid, action, scope, data=False,
                                  propagation_seconds=self.role_propagation_seconds):
            raise rbac.authorization_failed(claims.appid, claims.oid, action, scope)

    # ------------------------------------------------------------------ LRO settling
    def settle(self) -> None:
        """Complete the table operations whose duration has passed (lazy: called at the start of each request)."""
        now = time.time()
        for op in self.store.pending_operations():
            if op["endAt"] > now:
                continue
            with self.lock:
                op = self.store.get_operation(op["name"])
                if op.get("settled"):
                    continue
                state = self.store.get(op["resourceKey"])
                if op["fail"]:
                    op["status"] = "Failed"
                    op["error"] = {"code": "InternalServerError",
                                   "message": "The operation failed (injected fault). Retry the request."}
                    if op["previous"] is None:
                        self.store.delete(op["resourceKey"])
                    else:
                        self.store.put(op["resourceKey"], TABLE_STATE, op["previous"])
                elif op["kind"] == "delete":
                    op["status"] = "Succeeded"
                    self.store.delete(op["resourceKey"])
                    self.store.drop_rows(op["rowsKey"])
                else:
                    op["status"] = "Succeeded"
                    if state is not None:
                        state["provisioningState"] = "Succeeded"
                        self.store.put(op["resourceKey"], TABLE_STATE, state)
                op["settled"] = True
                op["endTime"] = arm.now_iso()
                self.store.put_operation(op["name"], op)
                self.changed()

    def _start_operation(self, kind: str, resource_key: str, previous: dict | None, workspace: dict, table: str,
                         api_version: str, table_id: str) -> Response:
        op_id = str(uuid.uuid4())
        fail = bool(self.fail_next_lro and self.fail_next_lro(f"{kind} {table_id}"))
        location = workspace["location"]
        op = {"name": op_id, "kind": kind, "resourceKey": resource_key, "previous": previous, "fail": fail,
              "status": "InProgress", "startTime": arm.now_iso(), "endAt": time.time() + self.lro_seconds,
              "location": location, "settled": False, "resourceId": table_id,
              "rowsKey": ingest.table_key(workspace["customerId"], table)}
        self.store.put_operation(op_id, op)
        status_url = (f"{self.base_url}/subscriptions/{seed.SUBSCRIPTION_ID}/providers/Microsoft.OperationalInsights/locations/"
                      f"{location}/operationStatuses/{op_id}?api-version={api_version}")
        result_url = f"{self.base_url}{table_id}/operationresults/{op_id}?api-version={api_version}"
        # No Retry-After: 0 would make ARMPolling fall back to 30 s (sdk-notes.md §4.3); TablesUpsert.json has none either.
        return Response(202, None, {"Azure-AsyncOperation": status_url, "Location": result_url})

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

    # ================================================================== tables
    def _table_context(self, req: Request, sub: str, rg: str, ws: str, action: str) -> tuple[str, dict]:
        api_version = arm.check_api_version(req.query, tables.TABLE_TYPE)
        resource_id = workspace_id(sub, rg, ws)
        self.authorize(req, action, resource_id)
        self.require_resource_group(sub, rg)
        workspace = self.workspace(resource_id)
        if workspace is None:
            raise arm.parent_not_found(f"{ws}")
        self.settle()
        return api_version, workspace

    def Tables_Get(self, req: Request, sub: str, rg: str, ws: str, table: str) -> Response:
        _, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/read")
        state = self.table_state(workspace["id"], table)
        if state is None:
            raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/tables", table, rg)
        return Response(200, tables.render(workspace["id"], state))

    def Tables_ListByWorkspace(self, req: Request, sub: str, rg: str, ws: str) -> Response:
        _, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/read")
        stored = {s["name"].lower(): s for s in self.store.list(TABLE_STATE, workspace["id"] + "/tables/")}
        for key, entry in tables.catalogue().items():
            stored.setdefault(key, tables.azure_default_state(entry["name"]))
        return Response(200, {"value": [tables.render(workspace["id"], s) for s in stored.values()]})

    def Tables_CreateOrUpdate(self, req: Request, sub: str, rg: str, ws: str, table: str) -> Response:
        return self._write_table(req, sub, rg, ws, table, patch=False)

    def Tables_Update(self, req: Request, sub: str, rg: str, ws: str, table: str) -> Response:
        return self._write_table(req, sub, rg, ws, table, patch=True)

    def _write_table(self, req: Request, sub: str, rg: str, ws: str, table: str, *, patch: bool) -> Response:
        api_version, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/write")
        body = req.json()
        key = tables_id(workspace["id"], table)
        with self.lock:
            stored = self.store.get(key)
            existing = stored or (tables.azure_default_state(table) if not tables.is_custom(table) and tables.azure_table(table) else None)
            self._check_not_locked(stored, table)
            if patch:
                if existing is None:
                    raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/tables", table, rg)
                current = tables.render(workspace["id"], existing)
                current["properties"]["schema"] = {"columns": existing.get("columns", [])}
                for k in ("retentionInDays", "totalRetentionInDays"):  # keep "default" as default
                    current["properties"][k] = existing.get(k)
                body = tables.merge_patch(current, body if isinstance(body, dict) else {})
            state = tables.validate_put(table, body, existing, api_version)
            state["provisioningState"] = "InProgress" if stored is None else "Updating"
            state["systemData"] = arm.system_data(req.claims.appid, (stored or {}).get("systemData"))
            self.store.put(key, TABLE_STATE, state, time.time())
            self.changed()
            return self._start_operation("put", key, stored, workspace, state["name"], api_version,
                                         f"{workspace['id']}/tables/{state['name']}")

    @staticmethod
    def _check_not_locked(stored: dict | None, table: str) -> None:
        """A table is locked against further updates while an operation runs (Tables.json provisioningState)."""
        state = (stored or {}).get("provisioningState", "Succeeded")
        if state in ("InProgress", "Updating", "Deleting"):
            raise errors.Conflict(
                f"Table '{table}' is being updated (provisioningState '{state}'); retry when the running operation has "
                "finished (its Azure-AsyncOperation reports Succeeded or Failed).")

    def Tables_Delete(self, req: Request, sub: str, rg: str, ws: str, table: str) -> Response:
        api_version, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/delete")
        key = tables_id(workspace["id"], table)
        with self.lock:
            if not tables.is_custom(table) and tables.azure_table(table) is not None:
                raise errors.InvalidTableOperation(
                    f"Table '{table}' is an Azure table and cannot be deleted. To remove custom '_CF' columns, PUT the table "
                    "without them.")
            stored = self.store.get(key)
            if stored is None:
                return Response(204)
            self._check_not_locked(stored, table)
            stored["provisioningState"] = "Deleting"
            self.store.put(key, TABLE_STATE, stored)
            self.changed()
            return self._start_operation("delete", key, {**stored, "provisioningState": "Succeeded"}, workspace, stored["name"],
                                         api_version, f"{workspace['id']}/tables/{stored['name']}")

    def OperationStatuses_Get(self, req: Request, sub: str, location: str, op_id: str) -> Response:
        arm.check_api_version(req.query, "Microsoft.OperationalInsights/locations/operationStatuses")
        self.authorize(req, "Microsoft.OperationalInsights/locations/operationStatuses/read", f"/subscriptions/{sub}")
        self.settle()
        op = self.store.get_operation(op_id)
        if op is None:
            raise arm.not_found("Microsoft.OperationalInsights/locations/operationStatuses", op_id, "")
        body = {"id": f"/subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/{op['location']}/operationStatuses/{op_id}",
                "name": op_id, "status": op["status"], "startTime": op["startTime"]}
        if op.get("endTime"):
            body["endTime"] = op["endTime"]
        if op.get("error"):
            body["error"] = op["error"]
        return Response(200, body)

    def Tables_OperationResult(self, req: Request, sub: str, rg: str, ws: str, table: str, op_id: str) -> Response:
        _, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/read")
        op = self.store.get_operation(op_id)
        if op is None:
            raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/tables/{table}/operationresults", op_id, rg)
        if op["status"] == "InProgress":
            return Response(202, None, {"Location": f"{self.base_url}{req.path}?{_query(req.query)}"})
        if op["status"] == "Failed":
            raise errors.InternalServerError(op["error"]["message"])
        if op["kind"] == "delete":
            return Response(204)
        state = self.store.get(op["resourceKey"])
        return Response(200, tables.render(workspace["id"], state)) if state else Response(204)

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
        resource_id = self._insights_context(req, dcr.DCR_TYPE, sub, rg, name, "write")
        dcr.check_name(dcr.DCR_TYPE, name)
        body = req.json()
        if not isinstance(body, dict):
            raise errors.InvalidRequestContent("The request content must be a JSON object.")
        with self.lock:
            existing = self.store.get(resource_id)
            self._check_etag(req, existing)
            location = dcr.check_location(body, existing, dcr.DCR_TYPE, name, rg)
            details = dcr.validate_dcr(body, existing, location, self, kql.check_transform)
            if details:
                raise errors.InvalidPayload("Data collection rule is invalid", details=details)
            state = dcr.stored_dcr(resource_id, name, body, location, existing, self, req.claims.appid)
            self.store.put(resource_id, dcr.DCR_TYPE, state, time.time())
            self.changed()
        return Response(200 if existing else 201, dcr.render_dcr(state, self.base_url))

    def DataCollectionEndpoints_Create(self, req: Request, sub: str, rg: str, name: str) -> Response:
        resource_id = self._insights_context(req, dcr.DCE_TYPE, sub, rg, name, "write")
        dcr.check_name(dcr.DCE_TYPE, name)
        body = req.json()
        if not isinstance(body, dict):
            raise errors.InvalidRequestContent("The request content must be a JSON object.")
        with self.lock:
            existing = self.store.get(resource_id)
            self._check_etag(req, existing)
            location = dcr.check_location(body, existing, dcr.DCE_TYPE, name, rg)
            state = dcr.stored_dce(resource_id, name, body, location, existing, req.claims.appid)
            self.store.put(resource_id, dcr.DCE_TYPE, state, time.time())
            self.changed()
        return Response(200 if existing else 201, dcr.render_dce(state, self.base_url))

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
            state["systemData"] = arm.system_data(req.claims.appid, state.get("systemData"))
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

    def RoleAssignments_Create(self, req: Request, scope: str, name: str) -> Response:
        arm.check_api_version(req.query, rbac.RA_TYPE)
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        self.authorize(req, "Microsoft.Authorization/roleAssignments/write", scope or "/")
        body = req.json()
        props = rbac.validate_assignment(name, body)
        self._check_scope(scope)
        resource_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        with self.lock:
            existing = self.store.get(resource_id)
            role_guid = rbac.role_guid_of(props["roleDefinitionId"])
            if existing is not None:
                old = existing["properties"]
                if old["principalId"].lower() != props["principalId"] or rbac.role_guid_of(old["roleDefinitionId"]) != role_guid:
                    raise errors.RoleAssignmentUpdateNotPermitted(
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
                return Response(200, _public(existing))
            for other in self.store.list(rbac.RA_TYPE):
                o = other["properties"]
                if (o["principalId"].lower() == props["principalId"] and rbac.role_guid_of(o["roleDefinitionId"]) == role_guid
                        and o["scope"].rstrip("/").lower() == (scope or "/").rstrip("/").lower()):
                    raise errors.RoleAssignmentExists(
                        f"The role assignment already exists. The ID of the existing role assignment is {other['name'].replace('-', '')}.")
            assignment = rbac.public_assignment_body(scope, name, props, created_by=req.claims.oid, granted_at=time.time())
            self.store.put(resource_id, rbac.RA_TYPE, assignment, time.time())
            self.changed()
        return Response(201, _public(assignment))

    def RoleAssignments_Get(self, req: Request, scope: str, name: str) -> Response:
        arm.check_api_version(req.query, rbac.RA_TYPE)
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        self.authorize(req, "Microsoft.Authorization/roleAssignments/read", scope or "/")
        found = self.store.get(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
        if found is None:
            raise errors.RoleAssignmentNotFound("The role assignment '{}' is not found.".format(name))
        return Response(200, _public(found))

    def RoleAssignments_Delete(self, req: Request, scope: str, name: str) -> Response:
        arm.check_api_version(req.query, rbac.RA_TYPE)
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        self.authorize(req, "Microsoft.Authorization/roleAssignments/delete", scope or "/")
        resource_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        with self.lock:
            found = self.store.get(resource_id)
            if found is None:
                return Response(204)
            self.store.delete(resource_id)
            self.changed()
        return Response(200, _public(found))

    def RoleAssignments_List(self, req: Request, scope: str) -> Response:
        """List at a scope: assignments at, above and (without atScope()) below it; $filter principalId eq '...'."""
        arm.check_api_version(req.query, rbac.RA_TYPE)
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        self.authorize(req, "Microsoft.Authorization/roleAssignments/read", scope or "/")
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

    # ================================================================== ingestion
    def _rule_plan(self, immutable_id: str) -> ingest.RulePlan:
        cached = self._plans.get(immutable_id)
        if cached and cached[0] == self._version:
            return cached[1]
        with self.lock:
            version = self._version
            rule = next((r for r in self.store.list(dcr.DCR_TYPE)
                         if r["properties"]["immutableId"].lower() == immutable_id.lower()), None)
            if rule is None:
                raise errors.DataCollectionRuleNotFound(
                    f"Data collection rule with immutable Id '{immutable_id}' not found. Check the 'immutableId' of the rule "
                    "(properties.immutableId) and the endpoint it is sent to.")
            plan = ingest.compile_rule(rule, self)
            for warning in plan.warnings:
                message = f"{rule['name']}: {warning}"
                if message not in self.warnings:
                    self.warnings.append(message)
                    self.store.add_event("warning", {"dcr": rule["id"], "message": warning})
            self._plans[immutable_id] = (version, plan)
        return plan

    def Ingest_Upload(self, req: Request, endpoint_kind: str, endpoint_key: str, rule_id: str, stream: str) -> Response:
        version = req.query.get("api-version")
        if not version:
            raise errors.MissingApiVersionParameter("The api-version query parameter (?api-version=) is required for all requests.")
        if version not in arm.INGESTION_API_VERSIONS:
            raise errors.InvalidApiVersionParameter(
                f"The api-version '{version}' is invalid. The supported versions are '{', '.join(arm.INGESTION_API_VERSIONS)}'.")
        claims = self.authenticate(req, identity.MONITOR_AUDIENCE, data_plane=True)
        self.settle()
        dce_id = None
        if endpoint_kind == "dce":
            dce_id = next((d["id"] for d in self.store.list(dcr.DCE_TYPE)
                           if d["properties"]["immutableId"].lower() == endpoint_key.lower()), None)
            if dce_id is None:
                raise errors.NotFound(f"No data collection endpoint is served at '/ingest/dce/{endpoint_key}'.")
        elif endpoint_key.lower() != rule_id.lower():
            raise errors.DataCollectionRuleNotFound(
                f"Data collection rule with immutable Id '{rule_id}' is not served by this endpoint; use the rule's own "
                "endpoints.logsIngestion or a data collection endpoint.")
        plan = self._rule_plan(rule_id)
        if dce_id is None and not plan.direct:
            raise errors.DataCollectionRuleNotFound(
                f"Data collection rule '{rule_id}' has no endpoint of its own (only kind 'Direct' rules do); send through the "
                "data collection endpoint named in its dataCollectionEndpointId.")
        if stream not in plan.streams:
            raise errors.StreamNotFound(
                f"Stream '{stream}' is not declared in data collection rule '{rule_id}'. Declared streams: "
                f"{', '.join(plan.streams) or '(none)'}.")
        has_role = rbac.is_authorized(self.store.list(rbac.RA_TYPE), claims.oid, "Microsoft.Insights/Telemetry/Write",
                                      plan.dcr_id, data=True, propagation_seconds=self.role_propagation_seconds)
        binding = None if dce_id is None else plan.endpoint_id == dce_id.lower()
        if not has_role or binding is False:
            raise ingest.forbidden(rule_id, plan.dcr_id, claims.tid, claims.oid, rbac=has_role, binding=binding)
        rows, text = ingest.decode_body(req.body, req.headers.get("content-encoding"))
        self.quota.charge(plan.immutable_id.lower(), len(text), time.time())
        stats = self.stats.setdefault(rule_id.lower(), ingest.Stats())
        stats.requests += 1
        verbatim = ingest.passthrough(plan, stream, rows, text, stats)
        if verbatim is not None:
            if rows:
                self.store.add_rows(verbatim[0], rows, verbatim[1])
            return Response(204)
        for key, mapped in ingest.map_rows(plan, stream, rows, stats, len(text)).items():
            if mapped:
                self.store.add_rows(key, mapped)
        return Response(204)

    # ================================================================== inspection
    def rows(self, table: str, limit: int | None = None, workspace: str | None = None) -> list[dict]:
        customer = _customer_of(workspace) if workspace is not None else None
        keys = [k for k in self.store.table_keys() if k.split("/", 1)[1] == table.lower()
                and (customer is None or k.split("/", 1)[0] == customer)]
        return self.store.rows(keys, limit)


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
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}"


def tables_id(workspace_resource_id: str, table: str) -> str:
    return f"{workspace_resource_id}/tables/{table}"


def insights_id(sub: str, rg: str, rtype: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"
