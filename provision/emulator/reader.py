"""Read rows from a state dir without starting a server (``provision emulator rows``), read-only: a ``serve`` may own it."""

from __future__ import annotations

from pathlib import Path

from provision.emulator.base import TABLE_STATE, _customer_of
from provision.emulator.store import Store


def read_rows(state_dir: Path, table: str, limit: int | None = None, workspace: str | None = None) -> list[dict]:
    store = Store(Path(state_dir) / "state.sqlite3", read_only=True)
    try:
        return table_rows(store, table, limit, workspace)
    finally:
        store.close()


def table_rows(store: Store, table: str, limit: int | None = None, workspace: str | None = None) -> list[dict]:
    """Rows of ``table`` in ``store`` (any seeded workspace unless ``workspace`` names one), oldest first."""
    customer = _customer_of(workspace) if workspace is not None else None
    keys = [k for k in store.table_keys() if k.split("/", 1)[1] == table.lower()
            and (customer is None or k.split("/", 1)[0] == customer)]
    return store.rows(keys, limit)


def known_tables(state_dir: Path) -> list[str]:
    """Names of the tables the emulator holds in ``state_dir``: created through the Tables API, or holding rows."""
    store = Store(Path(state_dir) / "state.sqlite3", read_only=True)
    try:
        names = {str(t.get("name")).lower(): str(t.get("name")) for t in store.list(TABLE_STATE) if t.get("name")}
        for key in store.table_keys():  # rows of an Azure table (Microsoft-Syslog) have no created table
            names.setdefault(key.split("/", 1)[1], key.split("/", 1)[1])
        return sorted(names.values(), key=str.lower)
    finally:
        store.close()
