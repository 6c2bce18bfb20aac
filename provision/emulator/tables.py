"""Workspace tables: the service rules for PUT/PATCH and the wire shape of a Table.

Rules (azure-contract.md §3, §3.2, §8; Tables.json 2025-07-01/2025-02-01):
custom tables end in ``_CL``; column names ``^[A-Za-z][A-Za-z0-9_]{1,44}$``;
reserved names refused; ``TimeGenerated`` (dateTime) required in custom tables;
types from ColumnTypeEnum; at most 500 columns; a column's type never changes;
retention 4..730 (or -1), total retention 4..4383 (or -1); plan Analytics/Basic
(and Auxiliary from 2025-07-01). Azure tables (from azure-tables.json) exist in
every workspace, except those a solution brings (``SOLUTION_TABLES``: Sentinel's), accept only ``_CF`` custom
columns, and cannot be deleted.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from provision.emulator import errors

TABLE_TYPE = "Microsoft.OperationalInsights/workspaces/tables"
COLUMN_TYPES = ("string", "int", "long", "real", "boolean", "dateTime", "guid", "dynamic")
_CANONICAL_TYPE = {t.lower(): t for t in COLUMN_TYPES}
DATA_TYPE_HINTS = ("uri", "guid", "armPath", "ip")
COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,44}$")
TABLE_NAME = re.compile(r"^[A-Za-z0-9_-]{4,63}$")  # azure-contract.md §3.2 (unverified third-party pattern)
# create-custom-table.md reserved list (the logs-ingestion overview list is a subset).
RESERVED_COLUMNS = ("id", "BilledSize", "IsBillable", "InvalidTimeGenerated", "TenantId", "Title", "Type", "UniqueId",
                    "_ItemId", "_ResourceGroup", "_ResourceId", "_SubscriptionId", "_TimeReceived")
_RESERVED_LOWER = {name.lower() for name in RESERVED_COLUMNS}
MAX_COLUMNS = 500
DEFAULT_RETENTION = 30  # the seeded workspaces' retentionInDays
CUSTOM_STANDARD_COLUMNS = [{"name": "TenantId", "type": "guid", "isDefaultDisplay": False, "isHidden": True}]


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    """Azure tables the Logs Ingestion API supports, keyed by lower-cased name: {name, columns[(name, type)]}."""
    data = json.loads(resources.files("provision.data").joinpath("azure-tables.json").read_text(encoding="utf-8"))
    out = {}
    for name, table in data["tables"].items():
        columns = [(c["name"], _CANONICAL_TYPE.get(c["type"].lower(), c["type"])) for c in table["columns"]]
        out[name.lower()] = {"name": name, "columns": columns}
    return out


def azure_table(name: str) -> dict | None:
    return catalogue().get(name.lower())


# Solution -> the catalogue's Azure tables a new workspace lacks until that solution is enabled in it. A table is
# listed when its Azure Monitor Logs reference page (learn.microsoft.com/azure/azure-monitor/reference/tables/<name>,
# MicrosoftDocs/azure-reference-other) names Microsoft Sentinel (SecurityInsights) among its solutions and not
# LogManagement, the solution every workspace has: CommonSecurityLog ("Security and Audit, Microsoft Sentinel"),
# SecurityEvent ("Security, SecurityInsights"), WindowsEvent (SecurityInsights and the Windows event forwarding
# solutions), the ASim* normalized tables, the AWS*/GCP* connector tables and Anomalies. The emulator serves only
# Sentinel's onboarding (ops_sentinel.py); the other catalogue tables (Syslog, the *AssessmentRecommendation, UC*
# and DeviceTvm* tables) are present in every workspace, as before (docs/emulator.md "Microsoft Sentinel onboarding").
SENTINEL = "SecurityInsights"
SOLUTION_TABLES: dict[str, tuple[str, ...]] = {
    SENTINEL: ("CommonSecurityLog", "SecurityEvent", "WindowsEvent", "Anomalies", "AWSCloudTrail", "AWSCloudWatch",
               "AWSGuardDuty", "AWSVPCFlow", "GCPAuditLogs", "GoogleCloudSCC", "ASimAuditEventLogs",
               "ASimAuthenticationEventLogs", "ASimDhcpEventLogs", "ASimDnsActivityLogs", "ASimFileEventLogs",
               "ASimNetworkSessionLogs", "ASimProcessEventLogs", "ASimRegistryEventLogs", "ASimUserManagementActivityLogs",
               "ASimWebSessionLogs"),
}
SOLUTION_TYPE = "emulator/workspaceSolutions"  # store-only marker: "<workspace id>/solutions/<solution>" once enabled
_SOLUTION_OF = {name.lower(): solution for solution, names in SOLUTION_TABLES.items() for name in names}


def solution_of(name: str) -> str | None:
    """The solution that brings Azure table ``name`` into a workspace, or None when every workspace has it."""
    return _SOLUTION_OF.get(name.lower())


def known_azure_table(name: str) -> dict:
    """The catalogue entry of a table stored as an Azure table (it was looked up when it was stored)."""
    entry = azure_table(name)
    if entry is None:
        raise KeyError(f"'{name}' is not in the Azure table catalogue")
    return entry


def is_custom(name: str) -> bool:
    return name.endswith("_CL")


def canonical_type(value) -> str | None:
    return _CANONICAL_TYPE.get(str(value).lower()) if isinstance(value, str) else None


def validate_put(name: str, body: dict, existing: dict | None, api_version: str) -> dict:
    """The table state to store for a PUT (or merged PATCH) body; raises the service's error for bad input."""
    if not isinstance(body, dict):
        raise errors.InvalidRequestContent("The request content was invalid and could not be deserialized.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise errors.InvalidRequestContent("'properties' must be an object.")
    azure = None if is_custom(name) else azure_table(name)
    if not TABLE_NAME.match(name) or (azure is None and not is_custom(name)):
        raise errors.InvalidTableName(
            f"Table name '{name}' is not valid: custom log tables must end with '_CL' (for example '{name}_CL') and use "
            "4-63 letters, digits, '_' or '-'; other names must be an Azure table that supports the Logs Ingestion API."
        )
    plan = props.get("plan") or (existing or {}).get("plan") or "Analytics"
    plans = ("Analytics", "Basic", "Auxiliary") if api_version >= "2025-07-01" else ("Analytics", "Basic")
    if plan not in plans:
        raise errors.InvalidPlan(f"Table plan '{plan}' is not supported with api-version {api_version}; use one of {', '.join(plans)}.",
                                 target="properties.plan")
    retention = _retention(props, "retentionInDays", 4, 730, existing)
    total = _retention(props, "totalRetentionInDays", 4, 4383, existing)
    if retention not in (None, -1) and total not in (None, -1) and total < retention:
        raise errors.InvalidRetention(
            f"totalRetentionInDays ({total}) must be greater than or equal to retentionInDays ({retention}).",
            target="properties.totalRetentionInDays")
    schema = props.get("schema") or {}
    if not isinstance(schema, dict):
        raise errors.InvalidRequestContent("'properties.schema' must be an object.")
    if "columns" in schema:
        columns = _validate_columns(name, schema.get("columns"), azure)
    else:
        columns = list((existing or {}).get("columns") or [])
        if azure is None and not columns:
            _validate_columns(name, [], azure)  # raises MissingTimeGenerated
    if existing:
        old_types = {c["name"]: c["type"] for c in existing.get("columns", [])}
        for column in columns:
            old = old_types.get(column["name"])
            if old and old != column["type"]:
                raise errors.ColumnTypeChangeNotAllowed(
                    f"Column '{column['name']}' of table '{name}' is '{old}' and cannot be changed to '{column['type']}'. "
                    "Column types cannot be changed: add a new column with a new name instead (or delete and re-create the table).",
                    target="properties.schema.columns")
    return {
        "name": (existing or {}).get("name") or (azure["name"] if azure else name),
        "plan": plan, "retentionInDays": retention, "totalRetentionInDays": total,
        "description": schema.get("description", (existing or {}).get("description")),
        "displayName": schema.get("displayName", (existing or {}).get("displayName")),
        "columns": columns, "azure": azure is not None,
        # A classic (Data Collector API) table stays classic until migrated (POST .../migrate, azure-contract.md §3).
        "classic": bool((existing or {}).get("classic")),
    }


def _retention(props: dict, key: str, low: int, high: int, existing: dict | None):
    value = props.get(key, (existing or {}).get(key))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (value == -1 or low <= value <= high):
        raise errors.InvalidRetention(
            f"{key} must be an integer between {low} and {high}, or -1 for the default; got {value!r}.", target=f"properties.{key}")
    return value


def _validate_columns(table: str, columns, azure: dict | None) -> list[dict]:
    if not isinstance(columns, list):
        raise errors.InvalidRequestContent("'properties.schema.columns' must be an array.")
    if len(columns) > MAX_COLUMNS:
        raise errors.TooManyColumns(f"Table '{table}' has {len(columns)} columns; the maximum is {MAX_COLUMNS}.",
                                    target="properties.schema.columns")
    standard = {c.lower() for c, _ in azure["columns"]} if azure else set()
    seen: set[str] = set()
    out = []
    for index, column in enumerate(columns):
        target = f"properties.schema.columns[{index}]"
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise errors.InvalidColumnName(f"Column {index} of table '{table}' has no name.", target=target)
        name = column["name"]
        if not COLUMN_NAME.match(name):
            raise errors.InvalidColumnName(
                f"Column name '{name}' is not valid: it must start with a letter and contain only letters, digits and "
                "underscores, 2 to 45 characters.", target=target)
        if name.lower() in _RESERVED_LOWER:
            raise errors.ReservedColumnName(f"Column name '{name}' is reserved; choose another name.", target=target)
        if azure is not None:
            if not name.endswith("_CF"):
                raise errors.InvalidColumnName(
                    f"Column '{name}' cannot be added to Azure table '{azure['name']}': custom columns on Azure tables must end "
                    f"with '_CF' (for example '{name}_CF').", target=target)
            if name.lower() in standard:
                raise errors.InvalidColumnName(f"Column '{name}' already exists in Azure table '{azure['name']}'.", target=target)
        if name in seen:
            raise errors.InvalidColumnName(f"Column '{name}' appears more than once.", target=target)
        seen.add(name)
        ctype = canonical_type(column.get("type"))
        if ctype is None:
            raise errors.InvalidColumnType(
                f"Column '{name}' has type {column.get('type')!r}; the type must be one of {', '.join(COLUMN_TYPES)}.", target=target)
        hint = column.get("dataTypeHint")
        if hint is not None and hint not in DATA_TYPE_HINTS:
            raise errors.InvalidColumnType(f"Column '{name}' has dataTypeHint {hint!r}; use one of {', '.join(DATA_TYPE_HINTS)}.",
                                           target=target)
        entry = {"name": name, "type": ctype}
        for key in ("description", "displayName", "dataTypeHint"):
            if column.get(key) is not None:
                entry[key] = column[key]
        out.append(entry)
    if azure is None:
        time_generated = next((c for c in out if c["name"] == "TimeGenerated"), None)
        if time_generated is None:
            raise errors.MissingTimeGenerated(
                f"Table validation failed with following errors: MSG 1005: Table missing mandatory 'TimeGenerated' column. "
                f"Add {{\"name\": \"TimeGenerated\", \"type\": \"dateTime\"}} to the columns of '{table}'.",
                target="properties.schema.columns")
        if time_generated["type"] != "dateTime":
            raise errors.InvalidColumnType(f"Column 'TimeGenerated' must be of type 'dateTime', not '{time_generated['type']}'.",
                                           target="properties.schema.columns")
    return out


def render(workspace_id: str, state: dict) -> dict:
    """The Table resource as the Tables API returns it (TablesGet.json shape)."""
    retention = state.get("retentionInDays")
    retention_default = retention in (None, -1)
    retention_value: int = DEFAULT_RETENTION if retention is None or retention == -1 else int(retention)
    total = state.get("totalRetentionInDays")
    total_default = total in (None, -1)
    total_value: int = retention_value if total is None or total == -1 else int(total)
    azure = state.get("azure")
    columns = [{**c, "isDefaultDisplay": False, "isHidden": False} for c in state.get("columns", [])]
    schema = {"name": state["name"], "tableType": "Microsoft" if azure else "CustomLog", "tableSubType": "Classic" if state.get("classic") else "DataCollectionRuleBased",
              "columns": columns, "source": "microsoft" if azure else "customer", "solutions": ["LogManagement"],
              "categories": [], "labels": []}
    if azure:
        entry = known_azure_table(state["name"])
        schema["standardColumns"] = [{"name": n, "type": t, "isDefaultDisplay": False, "isHidden": False} for n, t in entry["columns"]]
    else:
        schema["standardColumns"] = CUSTOM_STANDARD_COLUMNS
    for key in ("description", "displayName"):
        if state.get(key) is not None:
            schema[key] = state[key]
    body = {
        "id": f"{workspace_id}/tables/{state['name']}", "name": state["name"], "type": TABLE_TYPE,
        "properties": {
            "retentionInDays": retention_value, "totalRetentionInDays": total_value,
            "archiveRetentionInDays": total_value - retention_value, "plan": state.get("plan", "Analytics"),
            "retentionInDaysAsDefault": retention_default, "totalRetentionInDaysAsDefault": total_default,
            "provisioningState": state.get("provisioningState", "Succeeded"), "schema": schema,
        },
    }
    if state.get("systemData"):
        body["systemData"] = state["systemData"]
    return body


def classic_state(name: str, columns: list[dict]) -> dict:
    """A custom table as the Data Collector API leaves it: tableSubType Classic (columns carry type suffixes
    there, e.g. Message_s; any valid columns here)."""
    columns = _validate_columns(name, columns, None)
    return {"name": name, "plan": "Analytics", "retentionInDays": None, "totalRetentionInDays": None,
            "description": None, "displayName": None, "columns": columns, "azure": False, "classic": True,
            "provisioningState": "Succeeded"}


def azure_default_state(name: str) -> dict:
    entry = known_azure_table(name)
    return {"name": entry["name"], "plan": "Analytics", "retentionInDays": None, "totalRetentionInDays": None,
            "columns": [], "azure": True, "provisioningState": "Succeeded"}


def destination_columns(state: dict) -> list[tuple[str, str]]:
    """Every column a row may carry in this table: the declared ones plus an Azure table's standard columns."""
    columns = [(c["name"], c["type"]) for c in state.get("columns", [])]
    if state.get("azure"):
        columns = list(known_azure_table(state["name"])["columns"]) + columns
    return columns


def merge_patch(target, patch):
    """RFC 7396 JSON merge patch (azure-contract.md §1 PATCH)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
