"""The state and services every emulator operation shares: ``BackendCore``.

The operations of each Azure area (``ops_*.py``) are mixins that inherit this class, so the store, the
lock, tokens and RBAC checks, resource lookups and table-operation settling are declared once, where the
type checker and a reader find them; ``Backend`` (backend.py) combines the mixins and seeds the state.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from provision.emulator import arm, errors, identity, ingest, rbac, seed, tables
from provision.emulator.base import TABLE_STATE, WORKSPACES, Request, Response, operation_status_id, rg_id, tables_id, token_refusal, workspace_id
from provision.emulator.store import Store

# Bound on one ingestion request's transform evaluation: kql-subset.md "Other limits" (transforms over 20 s may
# lose data). The emulator refuses the request instead, so nothing acknowledged is lost.
TRANSFORM_SECONDS = 20.0


class BackendCore:
    """State of one emulator instance and the checks every operation makes."""

    def __init__(self, store: Store, *, lro_seconds: float = 0.0, role_propagation_seconds: float = 0.0):
        self.store = store
        self.lock = threading.RLock()
        self.base_url = ""
        self.lro_seconds = lro_seconds
        self.role_propagation_seconds = role_propagation_seconds
        self.transform_seconds = TRANSFORM_SECONDS
        self.tokens = identity.TokenService(identity.signing_key(store))  # RS256, the key kept in the state dir
        self.fail_next_lro: Callable[[str], bool] | None = None  # set by the server's fault injector
        self._version = 0  # bumped on every write: invalidates compiled ingestion plans
        self._plans: dict[str, tuple[int, ingest.RulePlan]] = {}
        self.stats: dict[str, ingest.Stats] = {}
        self.quota = ingest.Quota()
        self._ingesting = threading.Condition()
        self._in_flight = 0
        self.warnings: list[str] = []
        self.graph_roles: dict[str, tuple[str, ...]] = {}  # app id -> Graph permissions, overriding the seeded ones

    # ------------------------------------------------------------------ uploads being stored
    @contextmanager
    def storing(self) -> Iterator[None]:
        """Mark an upload whose rows are being stored (before its 204 is sent), so ``wait_ingested`` (reset, stop)
        does not clear or close the store under it."""
        with self._ingesting:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._ingesting:
                self._in_flight -= 1
                self._ingesting.notify_all()

    def wait_ingested(self, timeout: float = 30.0) -> None:
        """Block until no upload is being stored (each is stored before it is answered)."""
        with self._ingesting:
            self._ingesting.wait_for(lambda: self._in_flight == 0, timeout)

    def changed(self) -> None:
        self._version += 1

    # ------------------------------------------------------------------ lookups (dcr.Lookup)
    def workspace(self, resource_id: str) -> dict | None:
        return WORKSPACES.get(resource_id.rstrip("/").lower())

    def authorized_workspace(self, req: Request, sub: str, rg: str, ws: str, action: str,
                             missing: Callable[[], Exception]) -> dict:
        """The workspace an operation under it acts on, after the caller's right to ``action`` on it and its
        resource group are checked; ``missing()`` is the error when it does not exist (each operation has its own)."""
        resource_id = workspace_id(sub, rg, ws)
        self.authorize(req, action, resource_id)
        self.require_resource_group(sub, rg)
        workspace = self.workspace(resource_id)
        if workspace is None:
            raise missing()
        return workspace

    def table_state(self, workspace_id: str, name: str) -> dict | None:
        state = self.store.get(tables_id(workspace_id, name))
        if state is not None:
            return state
        if not tables.is_custom(name) and tables.azure_table(name) is not None and self.has_azure_table(workspace_id, name):
            return tables.azure_default_state(name)
        return None

    def has_azure_table(self, workspace_id: str, name: str) -> bool:
        """Whether catalogue table ``name`` exists in the workspace: always, unless a solution brings it and that
        solution was never enabled there (tables.SOLUTION_TABLES; Sentinel's onboarding, ops_sentinel.py)."""
        solution = tables.solution_of(name)
        return solution is None or self.store.get(f"{workspace_id.rstrip('/')}/solutions/{solution}") is not None

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
        if req.claims is not None and req.claims.aud.rstrip("/") == audience:
            return req.claims  # verified for this audience by the front door (server.py), before the body was read
        try:
            claims = self.tokens.verify(req.headers.get("authorization"), audience)
        except identity.TokenInvalid as problem:
            raise token_refusal(problem, self.base_url, data_plane=data_plane) from None
        req.claims = claims
        return claims

    def authorize(self, req: Request, action: str, scope: str) -> None:
        claims = req.caller
        if not rbac.is_authorized(rbac.assignments_of(self.store, claims.oid), claims.oid, action, scope, data=False,
                                  propagation_seconds=self.role_propagation_seconds):
            raise rbac.authorization_failed(claims.appid, claims.oid, action, scope)

    # ------------------------------------------------------------------ LRO settling
    def settle(self) -> None:
        """Complete the table operations whose duration has passed (lazy: called at the start of each request)."""
        now = time.time()
        for op in self.store.pending_operations():
            if op["startedAt"] + self.lro_seconds > now:  # the knob applies to running operations too
                continue
            with self.lock:
                current = self.store.get_operation(op["name"])
                if current is None or current.get("settled"):
                    continue
                op = current
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
              "status": "InProgress", "startTime": arm.now_iso(), "startedAt": time.time(),
              "location": location, "settled": False, "resourceId": table_id,
              "rowsKey": ingest.table_key(workspace["customerId"], table)}
        self.store.put_operation(op_id, op)
        status_url = f"{self.base_url}{operation_status_id(seed.SUBSCRIPTION_ID, location, op_id)}?api-version={api_version}"
        result_url = f"{self.base_url}{table_id}/operationresults/{op_id}?api-version={api_version}"
        return Response(202, None, {"Azure-AsyncOperation": status_url, "Location": result_url,
                                    **self.retry_after(op)})

    def retry_after(self, op: dict) -> dict[str, str]:
        """``Retry-After`` for a running table operation: the tables API sends it with Location and
        Azure-AsyncOperation on its 202s (the OperationalInsights team, Azure/azure-cli#20903: "azure async
        headers are mandatory: Retry-After, Location, Azure-AsyncOperation"), an integer number of seconds
        (azure-contract.md §1.1). The emulator says when the operation will be done (at least 1 s). None when
        operations finish at once (lro_seconds 0): 'Retry-After: 0' would make azure-core wait its 30 s default
        (sdk-notes.md §4.3)."""
        if self.lro_seconds <= 0:
            return {}
        remaining = op["startedAt"] + self.lro_seconds - time.time()
        return {"Retry-After": str(max(1, math.ceil(remaining)))}
