"""The emulator's service: ``Backend`` = state, token and RBAC checks, LRO settling, plus the operations.

Routes (routes.py) parse the URL and call one method per Azure operation; the
methods live in the ``ops_*`` modules (identity, arm, tables, insights, rbac,
ingest, datacollector) as mixins of ``Backend`` and apply the models' rules (tables.py, dcr.py,
rbac.py, ingest.py). Long-running table operations are settled lazily: each
request first completes the operations whose time has come.
"""

from __future__ import annotations

from provision.emulator import ingest, rbac
from provision.emulator.base import WORKSPACES, Request, Response
from provision.emulator.ops_arm import ArmOperations
from provision.emulator.ops_datacollector import DataCollectorOperations
from provision.emulator.ops_identity import IdentityOperations
from provision.emulator.ops_ingest import IngestOperations
from provision.emulator.ops_insights import InsightsOperations
from provision.emulator.ops_privatelink import PrivateLinkOperations
from provision.emulator.ops_rbac import RbacOperations
from provision.emulator.ops_sentinel import SentinelOperations
from provision.emulator.ops_tables import TableOperations
from provision.emulator.reader import table_rows
from provision.emulator.store import Store

__all__ = ["WORKSPACES", "Backend", "Request", "Response"]


class Backend(IdentityOperations, ArmOperations, TableOperations, InsightsOperations, RbacOperations,
              IngestOperations, DataCollectorOperations, SentinelOperations,
              PrivateLinkOperations):
    """State and operations of one emulator instance."""

    def __init__(self, store: Store, *, lro_seconds: float = 0.0, role_propagation_seconds: float = 0.0):
        super().__init__(store, lro_seconds=lro_seconds, role_propagation_seconds=role_propagation_seconds)
        if store.meta("seeded") is None:
            self.seed()

    # ------------------------------------------------------------------ state
    def seed(self) -> None:
        for ra in rbac.seeded_assignments():
            self.store.put(ra["id"], rbac.RA_TYPE, ra)
        self.store.set_meta("seeded", "1")

    def reset(self) -> None:
        self.wait_ingested()
        with self.lock:
            self.store.clear()
            self.seed()
            self._version += 1
            self._plans.clear()
            self.stats.clear()
            self.warnings.clear()
            self.quota = ingest.Quota()

    # ================================================================== inspection
    def rows(self, table: str, limit: int | None = None, workspace: str | None = None) -> list[dict]:
        self.wait_ingested()
        return table_rows(self.store, table, limit, workspace)
