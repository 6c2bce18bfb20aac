"""The Data Collector API's state side: the workspaces' shared keys (ARM) and the legacy upload.

``SharedKeys_GetSharedKeys`` / ``SharedKeys_Regenerate`` (SharedKeys.json, 2025-07-01: ``POST
.../workspaces/{ws}/sharedKeys`` and ``.../regenerateSharedKey``) hand out the keys a legacy sender signs with;
``DataCollector_Post`` is ``POST https://<CustomerId>.ods.opinsights.azure.com/api/logs``, served here under
``/datacollector/<CustomerId>/api/logs`` (docs/emulator.md, "The HTTP Data Collector API"). The rules are in
datacollector.py; this module keeps keys in the store's meta table, creates and grows classic tables, and
stores rows.
"""

from __future__ import annotations

import json
import time

from provision.emulator import arm, datacollector, ingest, tables
from provision.emulator.base import TABLE_STATE, WORKSPACE_TYPE, WORKSPACES, Request, Response, tables_id
from provision.emulator.core import BackendCore

# Built-in actions (learn.microsoft.com/azure/role-based-access-control/permissions/monitor, Microsoft.OperationalInsights):
# "Retrieves the shared keys for the workspace" and "Regenerates the specified workspace shared key".
SHARED_KEYS_ACTION = "Microsoft.OperationalInsights/workspaces/sharedKeys/action"
REGENERATE_ACTION = "Microsoft.OperationalInsights/workspaces/regenerateSharedKey/action"


class DataCollectorOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== shared keys (ARM)
    def shared_keys(self, customer_id: str) -> tuple[str, str]:
        """(primary, secondary) key of a seeded workspace, made on first use and kept in the state dir."""
        meta = f"shared-keys/{customer_id.lower()}"
        with self.lock:
            stored = self.store.meta(meta)
            if stored is None:
                stored = json.dumps([datacollector.new_key(), datacollector.new_key()])
                self.store.set_meta(meta, stored)
        primary, secondary = json.loads(stored)
        return primary, secondary

    def _keys_workspace(self, req: Request, sub: str, rg: str, ws: str, action: str) -> dict:
        arm.check_api_version(req.query, WORKSPACE_TYPE)
        return self.authorized_workspace(req, sub, rg, ws, action, lambda: arm.not_found(WORKSPACE_TYPE, ws, rg))

    def SharedKeys_GetSharedKeys(self, req: Request, sub: str, rg: str, ws: str) -> Response:
        workspace = self._keys_workspace(req, sub, rg, ws, SHARED_KEYS_ACTION)
        primary, secondary = self.shared_keys(workspace["customerId"])
        return Response(200, {"primarySharedKey": primary, "secondarySharedKey": secondary})

    def SharedKeys_Regenerate(self, req: Request, sub: str, rg: str, ws: str) -> Response:
        """Both keys are replaced: the 2025-07-01 operation takes no body naming one (SharedKeys.json)."""
        workspace = self._keys_workspace(req, sub, rg, ws, REGENERATE_ACTION)
        keys = [datacollector.new_key(), datacollector.new_key()]
        with self.lock:
            self.store.set_meta(f"shared-keys/{workspace['customerId'].lower()}", json.dumps(keys))
        return Response(200, {"primarySharedKey": keys[0], "secondarySharedKey": keys[1]})

    # ================================================================== the legacy upload
    def DataCollector_Post(self, req: Request, customer: str) -> Response:
        workspace = next((w for w in WORKSPACES.values() if w["customerId"].lower() == customer.lower()), None)
        if workspace is None:
            raise datacollector.InvalidCustomerId(f"The workspace ID '{customer}' is not a workspace of this service.")
        log_type = datacollector.check_request(req.query, req.headers, req.body, workspace["customerId"],
                                               self.shared_keys(workspace["customerId"]))
        records = datacollector.parse_records(req.body)
        name = f"{log_type}_CL"  # [DC] "Record type and properties": the suffix _CL is appended
        key = tables_id(workspace["id"], name)
        received = time.time()
        self.settle()
        with self.lock, self.storing():
            stored = self.store.get(key)
            if stored is not None and stored.get("provisioningState", "Succeeded") != "Succeeded":
                raise datacollector.ServiceUnavailable(
                    f"The table '{name}' is being changed (provisioningState '{stored['provisioningState']}'); retry "
                    "the request.", headers={"Retry-After": "1"})
            columns = list((stored or {}).get("columns") or [{"name": "TimeGenerated", "type": "dateTime"}])
            classic = stored is None or bool(stored.get("classic"))
            outcome = datacollector.map_records(records, columns, may_add=classic,
                                                time_field=req.headers.get("time-generated-field") or None,
                                                resource_id=req.headers.get("x-ms-azureresourceid") or None,
                                                received=received)
            if stored is None:
                self.store.put(key, TABLE_STATE, tables.classic_state(name, columns + outcome.added), received)
                self.changed()
            elif outcome.added:
                stored["columns"] = columns + outcome.added
                self.store.put(key, TABLE_STATE, stored)
                self.changed()
            for prop, why in outcome.dropped.items():
                message = f"Data Collector API, {name}: property '{prop}' was not stored: {why}"
                if message not in self.warnings:
                    self.warnings.append(message)
            if outcome.rows:
                self.store.add_rows(ingest.table_key(workspace["customerId"], name), outcome.rows)
        return Response(200)
