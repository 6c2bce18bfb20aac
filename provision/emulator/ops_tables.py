"""Workspace tables: PUT/PATCH/DELETE as long-running operations, GET, list, operation status and result."""

from __future__ import annotations

import time

from provision.emulator import arm, errors, tables
from provision.emulator.base import TABLE_STATE, WORKSPACE_TYPE, Request, Response, _query, operation_status_id, tables_id
from provision.emulator.core import BackendCore


class TableOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== tables
    def _table_context(self, req: Request, sub: str, rg: str, ws: str, action: str) -> tuple[str, dict]:
        api_version = arm.check_api_version(req.query, tables.TABLE_TYPE)
        workspace = self.authorized_workspace(req, sub, rg, ws, action, lambda: arm.parent_not_found(f"{ws}"))
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
            if self.has_azure_table(workspace["id"], entry["name"]):
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
            if stored is None and existing is not None and not self.has_azure_table(workspace["id"], table):
                # The table is not in this workspace until its solution brings it (docs/emulator.md "Microsoft Sentinel
                # onboarding"); Azure's answer to this PUT is undocumented, the 400 is the emulator's.
                raise errors.InvalidTableName(
                    f"Table '{table}' does not exist in workspace '{ws}': it comes with the {tables.solution_of(table)} solution "
                    "(Microsoft Sentinel); enable it first (PUT .../providers/Microsoft.SecurityInsights/onboardingStates/default).")
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
            state["systemData"] = arm.system_data(req.caller.appid, (stored or {}).get("systemData"))
            self.store.put(key, TABLE_STATE, state, time.time())
            self.changed()
            return self._start_operation("put", key, stored, workspace, state["name"], api_version,
                                         tables_id(workspace["id"], state["name"]))

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
                                         api_version, tables_id(workspace["id"], stored["name"]))

    def Tables_Migrate(self, req: Request, sub: str, rg: str, ws: str, table: str) -> Response:
        """POST .../tables/{table}/migrate: a classic table becomes DataCollectionRuleBased (200, no body)."""
        _, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/migrate/action")
        key = tables_id(workspace["id"], table)
        with self.lock:
            stored = self.store.get(key)
            if stored is None:
                raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/tables", table, rg)
            self._check_not_locked(stored, table)
            if stored.get("classic"):
                stored["classic"] = False
                stored["systemData"] = arm.system_data(req.caller.appid, stored.get("systemData"))
                self.store.put(key, TABLE_STATE, stored)
                self.changed()
        return Response(200)

    def create_classic_table(self, workspace_resource_id: str, name: str, columns: list[dict]) -> None:
        """Test/bench knob: a classic custom table, as the Data Collector API creates one on first use."""
        workspace = self.workspace(workspace_resource_id)
        if workspace is None:
            raise ValueError(f"no seeded workspace {workspace_resource_id}")
        if not tables.is_custom(name):
            raise ValueError(f"classic tables are custom tables: '{name}' must end in _CL")
        with self.lock:
            self.store.put(tables_id(workspace["id"], name), TABLE_STATE, tables.classic_state(name, columns), time.time())
            self.changed()

    def OperationStatuses_Get(self, req: Request, sub: str, location: str, op_id: str) -> Response:
        arm.check_api_version(req.query, "Microsoft.OperationalInsights/locations/operationStatuses")
        self.authorize(req, "Microsoft.OperationalInsights/locations/operationStatuses/read", f"/subscriptions/{sub}")
        self.settle()
        op = self.store.get_operation(op_id)
        if op is None:
            raise arm.not_found("Microsoft.OperationalInsights/locations/operationStatuses", op_id, "")
        body = {"id": operation_status_id(sub, op["location"], op_id),
                "name": op_id, "status": op["status"], "startTime": op["startTime"]}
        if op.get("endTime"):
            body["endTime"] = op["endTime"]
        if op.get("error"):
            body["error"] = op["error"]
        return Response(200, body, self.retry_after(op) if op["status"] == "InProgress" else {})

    def Tables_OperationResult(self, req: Request, sub: str, rg: str, ws: str, table: str, op_id: str) -> Response:
        _, workspace = self._table_context(req, sub, rg, ws, "Microsoft.OperationalInsights/workspaces/tables/read")
        op = self.store.get_operation(op_id)
        if op is None:
            raise arm.not_found(f"{WORKSPACE_TYPE}/{ws}/tables/{table}/operationresults", op_id, rg)
        if op["status"] == "InProgress":
            return Response(202, None, {"Location": f"{self.base_url}{req.path}?{_query(req.query)}",
                                        **self.retry_after(op)})
        if op["status"] == "Failed":
            raise errors.InternalServerError(op["error"]["message"])
        if op["kind"] == "delete":
            return Response(204)
        state = self.store.get(op["resourceKey"])
        return Response(200, tables.render(workspace["id"], state)) if state else Response(204)
