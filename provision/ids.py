"""ARM ids as strings (formatted by ``provision.resources.ResourceId``), deterministic names and output keys. Pure."""

from __future__ import annotations

import re
import uuid

from provision.resources import ResourceId

MONITORING_METRICS_PUBLISHER_ROLE_ID = "3913510d-42f4-4e42-8a64-420c390055eb"  # azure-contract.md §6.2


def table_id(workspace_id: str, table: str) -> str:
    return ResourceId.table(workspace_id, table).format()


def dcr_id(subscription: str, resource_group: str, name: str) -> str:
    return ResourceId.rule(subscription, resource_group, name).format()


def dce_id(subscription: str, resource_group: str, name: str) -> str:
    return ResourceId.endpoint(subscription, resource_group, name).format()


_SCOPE_PATH = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Insights/privateLinkScopes/[^/]+$",
                         re.IGNORECASE)


def private_link_scope_id(subscription: str, resource_group: str, scope: str) -> str:
    """The ARM id of a private link scope written as its id, or as a bare name in (subscription, resource group)."""
    if scope.startswith("/"):
        return scope.rstrip("/")
    return ResourceId.private_link_scope(subscription, resource_group, scope).format()


def is_private_link_scope_id(text: str) -> bool:
    """Whether ``text`` is the ARM id of a Microsoft.Insights/privateLinkScopes resource."""
    return bool(_SCOPE_PATH.match(text.rstrip("/")))


def scoped_resource_id(scope_id: str, name: str) -> str:
    return ResourceId.scoped_resource(scope_id, name).format()


def scope_link_ids(subscription: str, resource_group: str, endpoint_name: str, scope: str,
                   name: str | None) -> tuple[str, str]:
    """(scope id, scoped resource id) of an endpoint's association with ``scope`` (as written in the scenario),
    named ``name`` or, by default, like the endpoint."""
    scope_id = private_link_scope_id(subscription, resource_group, scope)
    return scope_id, scoped_resource_id(scope_id, name or endpoint_name)


def scope_of_scoped_resource(resource_id: str) -> tuple[str, str]:
    """(scope id, scoped resource name) of a ``.../privateLinkScopes/{scope}/scopedResources/{name}`` id."""
    scope_id, _, name = resource_id.rstrip("/").rpartition("/")
    return scope_id.rsplit("/", 1)[0], name


def role_definition_id(subscription: str, role_guid: str = MONITORING_METRICS_PUBLISHER_ROLE_ID) -> str:
    return ResourceId.role_definition(subscription, role_guid)


def role_assignment_name(scope: str, principal_id: str, role_guid: str = MONITORING_METRICS_PUBLISHER_ROLE_ID) -> str:
    """Deterministic assignment name: uuid5 of (scope, principal, role), so re-runs never duplicate."""
    key = f"{scope.lower()}|{principal_id.lower()}|{role_guid.lower()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def role_assignment_id(scope: str, name: str) -> str:
    return ResourceId.role_assignment(scope, name).format()


def output_key(*parts: str) -> str:
    """The CI variable name for an output (env, GitHub, Azure DevOps): e.g. ``DCR_DCR_ORDERS_IMMUTABLE_ID``."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts if p)


def output_names(kind: str, name: str, *rest: str) -> list[str]:
    """The CI variable names of one output: the short one first (``dcr-orders`` -> ``DCR_ORDERS_ID``, not
    ``DCR_DCR_ORDERS_ID``: a name that already starts with its kind does not get it twice, issue 14), then the
    older spelling ``output_key`` gives, when it differs, kept so that pipelines already reading it do not break."""
    full = output_key(kind, name, *rest)
    named = output_key(name)
    if named == kind or named.startswith(kind + "_"):
        short = output_key(name, *rest)
        return [short, full] if short != full else [full]
    return [full]


def output_keys(rules: dict[str, list[str]], tables: list[str]) -> list[tuple[str, str]]:
    """(variable name, what it is for) of every per-resource output, given rule -> stream names and table names."""
    keys = []
    for rule, streams in rules.items():
        keys += [(key, f"rule '{rule}'") for suffix in ("ID", "IMMUTABLE_ID", "ENDPOINT") for key in output_names("DCR", rule, suffix)]
        keys += [(key, f"stream '{stream}' of rule '{rule}'") for stream in streams for key in output_names("DCR", rule, stream, "URL")]
    keys += [(key, f"table '{table}'") for table in tables for key in output_names("TABLE", table, "ID")]
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
