"""ARM resource ids and deterministic names; pure string functions shared by render, plan and apply."""

from __future__ import annotations

import re
import uuid

MONITORING_METRICS_PUBLISHER_ROLE_ID = "3913510d-42f4-4e42-8a64-420c390055eb"  # azure-contract.md §6.2


def workspace_parts(workspace_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, workspace name) of a workspace ARM id.

    Raises ValueError when the id is not a workspace id.
    """
    parts = workspace_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if (
        len(parts) != 8
        or lowered[0] != "subscriptions"
        or lowered[2] != "resourcegroups"
        or lowered[4] != "providers"
        or lowered[5] != "microsoft.operationalinsights"
        or lowered[6] != "workspaces"
    ):
        raise ValueError(
            "not a workspace resource id: expected /subscriptions/<sub>/resourceGroups/<rg>"
            "/providers/Microsoft.OperationalInsights/workspaces/<name>"
        )
    return parts[1], parts[3], parts[7]


def table_id(workspace_id: str, table: str) -> str:
    return f"{workspace_id.rstrip('/')}/tables/{table}"


def _insights_id(subscription: str, resource_group: str, kind: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Insights/{kind}/{name}"


def dcr_id(subscription: str, resource_group: str, name: str) -> str:
    return _insights_id(subscription, resource_group, "dataCollectionRules", name)


def dce_id(subscription: str, resource_group: str, name: str) -> str:
    return _insights_id(subscription, resource_group, "dataCollectionEndpoints", name)


def role_definition_id(subscription: str, role_guid: str = MONITORING_METRICS_PUBLISHER_ROLE_ID) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def role_assignment_name(scope: str, principal_id: str, role_guid: str = MONITORING_METRICS_PUBLISHER_ROLE_ID) -> str:
    """Deterministic assignment name: uuid5 of (scope, principal, role), so re-runs never duplicate."""
    key = f"{scope.lower()}|{principal_id.lower()}|{role_guid.lower()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def role_assignment_id(scope: str, name: str) -> str:
    return f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"


def output_key(*parts: str) -> str:
    """The CI variable name for an output (env, GitHub, Azure DevOps): e.g. ``DCR_DCR_ORDERS_IMMUTABLE_ID``."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts if p)


def output_keys(rules: dict[str, list[str]], tables: list[str]) -> list[tuple[str, str]]:
    """(variable name, what it is for) of every per-resource output, given rule -> stream names and table names."""
    keys = []
    for rule, streams in rules.items():
        keys += [(output_key("DCR", rule, suffix), f"rule '{rule}'") for suffix in ("ID", "IMMUTABLE_ID", "ENDPOINT")]
        keys += [(output_key("DCR", rule, stream, "URL"), f"stream '{stream}' of rule '{rule}'") for stream in streams]
    keys += [(output_key("TABLE", table, "ID"), f"table '{table}'") for table in tables]
    return keys


def output_key_clashes(rules: dict[str, list[str]], tables: list[str]) -> list[tuple[str, str, str]]:
    """(variable name, first owner, second owner) for each output variable two resources would share."""
    owners: dict[str, str] = {}
    clashes = []
    for key, owner in output_keys(rules, tables):
        if key in owners and owners[key] != owner:
            clashes.append((key, owners[key], owner))
        owners.setdefault(key, owner)
    return clashes
