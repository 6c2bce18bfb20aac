"""The Azure (built-in) table catalogue: which tables the Logs Ingestion API can write, and their columns.

Data: ``provision/data/azure-tables.json`` (a copy of shared/reference/azure-tables.json,
from the "Supported tables" list of [DOC-LIA] logs-ingestion-api-overview.md and the
per-table reference pages). Loaded lazily, once. Column types are returned in the
Tables API spelling (``dateTime``), see ``provision.scenario.types``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from provision.scenario.types import normalise_table_type

# System columns every workspace table has; a sender cannot write them
# (azure-tables.json custom_table_standard_columns_notes, log-standard-columns.md).
SYSTEM_COLUMNS = frozenset({"Type", "TenantId", "_ResourceId", "_SubscriptionId", "_ItemId", "_IsBillable", "_BilledSize", "_TimeReceived", "MG", "ManagementGroupName"})


@lru_cache(maxsize=1)
def _catalogue() -> dict:
    text = resources.files("provision.data").joinpath("azure-tables.json").read_text(encoding="utf-8")
    return json.loads(text)


def supported_azure_tables() -> list[str]:
    """Names of the Azure tables the Logs Ingestion API supports ([DOC-LIA] §Supported tables)."""
    return list(_catalogue()["supported_tables_logs_ingestion_api"])


def is_supported_azure_table(name: str) -> bool:
    return name in _supported_set()


@lru_cache(maxsize=1)
def _supported_set() -> frozenset[str]:
    return frozenset(supported_azure_tables())


def closest_azure_table(name: str) -> str | None:
    """The supported table ``name`` most likely meant (case-insensitive match first)."""
    lowered = {t.lower(): t for t in supported_azure_tables()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    import difflib

    match = difflib.get_close_matches(name, supported_azure_tables(), n=1, cutoff=0.75)
    return match[0] if match else None


def azure_table_columns(name: str) -> list[tuple[str, str]] | None:
    """(column, table type) of an Azure table, all documented columns; None when unknown or no schema is known."""
    table = _catalogue()["tables"].get(name)
    if table is None:
        return None
    return [(c["name"], normalise_table_type(c["type"]) or c["type"]) for c in table["columns"]]


def azure_table_ingestible_columns(name: str) -> list[tuple[str, str]] | None:
    """The columns a sender may write (system columns such as ``Type`` or ``_ResourceId`` removed)."""
    columns = azure_table_columns(name)
    if columns is None:
        return None
    return [(n, t) for n, t in columns if n not in SYSTEM_COLUMNS and not n.startswith("_")]
