"""Data collection rules and endpoints: validation with the service's codes and the wire shapes.

DCR validation errors are one ``InvalidPayload`` ("Data collection rule is
invalid") with one ``details[]`` entry per problem (azure-contract.md §5.3).
Detail codes InvalidOutputTable and InvalidStream are the service's (observed);
InvalidDataFlow, InvalidStreamDeclaration, InvalidDestination,
InvalidDataCollectionEndpoint, InvalidTransformQuery/InvalidTransformOutput and
the limit codes are the emulator's names for rules the docs state (§5.2, §8).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from provision.emulator import arm, errors, seed, tables

DCR_TYPE = "Microsoft.Insights/dataCollectionRules"
DCE_TYPE = "Microsoft.Insights/dataCollectionEndpoints"
STREAM_TYPES = ("string", "int", "long", "real", "boolean", "datetime", "dynamic")  # [SPEC-DCR] ColumnDefinition
MAX_FLOWS = 10
MAX_STREAMS = 10
MAX_WORKSPACES = 10
MAX_TRANSFORM = 15360
MAX_DESCRIPTION = 256
_OUTPUT_CODES = {"InvalidTransformOutput", "MissingTimeGenerated"}  # kql checker codes about the output schema


class Lookup(Protocol):
    def workspace(self, resource_id: str) -> dict | None: ...
    def table_state(self, workspace_id: str, name: str) -> dict | None: ...
    def dce(self, resource_id: str) -> dict | None: ...


def new_immutable_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def check_location(body: dict, existing: dict | None, rtype: str, name: str, resource_group: str) -> str:
    location = body.get("location") if isinstance(body, dict) else None
    if not location or not isinstance(location, str):
        raise errors.LocationRequired("The location property is required for this definition.", target="location")
    if existing and arm.normalize_location(existing["location"]) != arm.normalize_location(location):
        raise errors.InvalidResourceLocation(
            f"The resource '{name}' already exists in location '{existing['location']}' in resource group '{resource_group}'. "
            f"A resource with the same name cannot be created in location '{location}'. Please select a new resource name.")
    return existing["location"] if existing else arm.normalize_location(location)


def _detail(code: str, message: str, target: str) -> dict:
    return {"code": code, "message": message, "target": target}


def validate_dcr(body: dict, existing: dict | None, location: str, lookup: Lookup, check_transform) -> list[dict]:
    """Every problem with a DCR body as ``details[]`` entries (empty when valid)."""
    details: list[dict] = []
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        return [_detail("InvalidPayload", "'properties' must be an object.", "properties")]
    kind = body.get("kind")
    if existing is not None and (existing.get("kind") or "").strip().lower() != (kind or "").strip().lower():
        details.append(_detail("InvalidProperty", f"The 'kind' of a data collection rule cannot be changed (from "
                               f"'{existing.get('kind')}' to '{kind}'); delete and re-create the rule.", "kind"))
    description = props.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        details.append(_detail("InvalidProperty", f"'Description' length should be {MAX_DESCRIPTION} characters or less.",
                               "properties.description"))

    streams = _check_streams(props.get("streamDeclarations") or {}, details)
    destinations = _check_destinations(props.get("destinations") or {}, location, lookup, details)
    _check_endpoint(props.get("dataCollectionEndpointId"), location, lookup, details)

    flows = props.get("dataFlows") or []
    if not isinstance(flows, list):
        details.append(_detail("InvalidDataFlow", "'dataFlows' must be an array.", "properties.dataFlows"))
        flows = []
    if len(flows) > MAX_FLOWS:
        details.append(_detail("TooManyDataFlows", f"A data collection rule can have at most {MAX_FLOWS} data flows; this one has "
                               f"{len(flows)}.", "properties.dataFlows"))
    workspace_of_stream: dict[str, set[str]] = {}
    for index, flow in enumerate(flows):
        _check_flow(index, flow, streams, destinations, lookup, check_transform, details, workspace_of_stream)
    for stream, workspaces in workspace_of_stream.items():
        if len(workspaces) > 1:
            details.append(_detail("InvalidDataFlow", f"Stream '{stream}' is sent to {len(workspaces)} Log Analytics workspaces; "
                                   "a stream can go to only one workspace per data collection rule.", "properties.dataFlows"))
    return details


def _check_streams(declarations, details: list[dict]) -> dict[str, list[tuple[str, str]]]:
    streams: dict[str, list[tuple[str, str]]] = {}
    if not isinstance(declarations, dict):
        details.append(_detail("InvalidStreamDeclaration", "'streamDeclarations' must be an object.", "properties.streamDeclarations"))
        return streams
    if len(declarations) > MAX_STREAMS:
        details.append(_detail("TooManyStreams", f"A data collection rule can declare at most {MAX_STREAMS} streams; this one "
                               f"declares {len(declarations)}.", "properties.streamDeclarations"))
    for name, declaration in declarations.items():
        target = f"properties.streamDeclarations.{name}"
        if name.lower().startswith("microsoft-"):
            details.append(_detail("InvalidStreamDeclaration", f"Stream '{name}' cannot be declared: 'Microsoft-' streams are "
                                   "built in. Declare custom streams with the 'Custom-' prefix.", target))
            continue
        columns = declaration.get("columns") if isinstance(declaration, dict) else None
        if not isinstance(columns, list) or not columns:
            details.append(_detail("InvalidStreamDeclaration", f"Stream '{name}' must declare at least one column.", target))
            continue
        parsed, seen = [], set()
        for index, column in enumerate(columns):
            cname = column.get("name") if isinstance(column, dict) else None
            ctype = column.get("type") if isinstance(column, dict) else None
            if not isinstance(cname, str) or not cname:
                details.append(_detail("InvalidStreamDeclaration", f"Column {index} of stream '{name}' has no name.",
                                       f"{target}.columns[{index}]"))
                continue
            if cname.lower() in seen:
                details.append(_detail("InvalidStreamDeclaration", f"Column '{cname}' appears twice in stream '{name}'.",
                                       f"{target}.columns[{index}]"))
            seen.add(cname.lower())
            # The service takes stream types case-insensitively (Learn samples send 'dateTime', azure-contract.md §5.2).
            if not isinstance(ctype, str) or ctype.lower() not in STREAM_TYPES:
                details.append(_detail("InvalidStreamDeclaration", f"Column '{cname}' of stream '{name}' has type {ctype!r}; stream "
                                       f"column types are {', '.join(STREAM_TYPES)} (use 'string' for guid values).",
                                       f"{target}.columns[{index}]"))
                continue
            parsed.append((cname, ctype.lower()))
        streams[name] = parsed
    return streams


def _check_destinations(destinations, location: str, lookup: Lookup, details: list[dict]) -> dict[str, dict]:
    """Log Analytics destinations by name: {name: workspace} (None when the workspace is missing)."""
    found: dict[str, dict] = {}
    if not isinstance(destinations, dict):
        details.append(_detail("InvalidDestination", "'destinations' must be an object.", "properties.destinations"))
        return found
    names: set[str] = set()
    for kind, entries in destinations.items():
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            name = entry.get("name") if isinstance(entry, dict) else None
            target = f"properties.destinations.{kind}[{index}]"
            if not name:
                details.append(_detail("InvalidDestination", "Every destination needs a 'name'.", target))
                continue
            if name.lower() in names:
                details.append(_detail("InvalidDestination", f"Destination name '{name}' is used more than once; names must be unique "
                                       "across all destinations.", target))
            names.add(name.lower())
            if kind != "logAnalytics":
                found[name.lower()] = {"kind": kind}
                continue
            workspace_id = entry.get("workspaceResourceId") or ""
            workspace = lookup.workspace(workspace_id)
            if workspace is None:
                details.append(_detail("InvalidDestination", f"Log Analytics workspace '{workspace_id}' of destination '{name}' was not "
                                       "found.", f"{target}.workspaceResourceId"))
                found[name.lower()] = {"kind": kind, "workspace": None, "name": name}
                continue
            if arm.normalize_location(workspace["location"]) != location:
                details.append(_detail("InvalidDestination", f"Destination '{name}' is workspace '{workspace['name']}' in region "
                                       f"'{workspace['location']}', but the data collection rule is in '{location}'. The rule and "
                                       "its Log Analytics workspace must be in the same region.", f"{target}.workspaceResourceId"))
            found[name.lower()] = {"kind": kind, "workspace": workspace, "name": name}
    if sum(1 for d in found.values() if d["kind"] == "logAnalytics") > MAX_WORKSPACES:
        details.append(_detail("TooManyDestinations", f"A data collection rule can send to at most {MAX_WORKSPACES} Log Analytics "
                               "workspaces.", "properties.destinations.logAnalytics"))
    return found


def _check_endpoint(endpoint_id, location: str, lookup: Lookup, details: list[dict]) -> None:
    if not endpoint_id:
        return
    dce = lookup.dce(endpoint_id)
    if dce is None:
        details.append(_detail("InvalidDataCollectionEndpoint", f"Data collection endpoint '{endpoint_id}' was not found.",
                               "properties.dataCollectionEndpointId"))
    elif arm.normalize_location(dce["location"]) != location:
        details.append(_detail("InvalidDataCollectionEndpoint", f"Data collection endpoint '{dce['name']}' is in region "
                               f"'{dce['location']}', but the data collection rule is in '{location}'; they must be in the same region.",
                               "properties.dataCollectionEndpointId"))


def output_table(output_stream: str) -> tuple[str, bool] | None:
    """(table name, is custom) for 'Custom-<T>_CL' or 'Microsoft-<T>'; None for anything else."""
    if output_stream.startswith("Custom-") and output_stream.endswith("_CL"):
        return output_stream[len("Custom-"):], True
    if output_stream.startswith("Microsoft-"):
        return output_stream[len("Microsoft-"):], False
    return None


def _check_flow(index, flow, streams, destinations, lookup, check_transform, details, workspace_of_stream) -> None:
    target = f"properties.dataFlows[{index}]"
    if not isinstance(flow, dict):
        details.append(_detail("InvalidDataFlow", "A data flow must be an object.", target))
        return
    flow_streams = flow.get("streams") or []
    flow_destinations = flow.get("destinations") or []
    if not flow_streams:
        details.append(_detail("InvalidDataFlow", "A data flow must name at least one stream.", f"{target}.streams"))
    if not flow_destinations:
        details.append(_detail("InvalidDataFlow", "A data flow must name at least one destination.", f"{target}.destinations"))
    for stream in flow_streams:
        if stream not in streams and not stream.startswith("Microsoft-"):
            details.append(_detail("InvalidStream", f"'Streams' stream '{stream}' must be a custom stream declared in "
                                   "'streamDeclarations' or one of the built-in 'Microsoft-' streams.", f"{target}.streams"))
    transform = flow.get("transformKql")
    if transform is not None and not isinstance(transform, str):
        details.append(_detail("InvalidTransformQuery", "'transformKql' must be a string.", f"{target}.transformKql"))
        transform = None
    if transform and len(transform) > MAX_TRANSFORM:
        details.append(_detail("TransformTooLong", f"'transformKql' has {len(transform)} characters; the maximum is {MAX_TRANSFORM}.",
                               f"{target}.transformKql"))
    if transform and transform.strip() != "source" and len(flow_streams) > 1:
        details.append(_detail("InvalidDataFlow", "A data flow with a transformation must have a single stream.", f"{target}.streams"))
    output_stream = flow.get("outputStream") or (flow_streams[0] if len(flow_streams) == 1 else "")
    for dest_name in flow_destinations:
        destination = destinations.get(str(dest_name).lower())
        if destination is None:
            details.append(_detail("InvalidDataFlow", f"Destination '{dest_name}' of the data flow is not defined in 'destinations'.",
                                   f"{target}.destinations"))
            continue
        workspace = destination.get("workspace")
        if destination["kind"] != "logAnalytics" or workspace is None:
            continue
        for stream in flow_streams:
            workspace_of_stream.setdefault(stream, set()).add(workspace["id"].lower())
        if not flow.get("outputStream") and flow_streams and all(s.startswith("Microsoft-") for s in flow_streams):
            continue  # known agent streams go to their own tables; outputStream is not used (§5.2 Semantics)
        parsed = output_table(output_stream) if output_stream else None
        table = lookup.table_state(workspace["id"], parsed[0]) if parsed else None
        if table is None or (parsed and parsed[1] != (not table.get("azure"))):
            details.append(_detail("InvalidOutputTable", f"Table for output stream '{output_stream}' is not available for destination "
                                   f"'{destination['name']}'.", target))
            continue
        if table.get("classic"):
            # A classic (Data Collector API) table takes no DCR data until it is migrated (custom-logs-migrate.md;
            # the service's exact answer is undocumented: docs/emulator.md "The HTTP Data Collector API").
            details.append(_detail("InvalidOutputTable", f"Table for output stream '{output_stream}' is a classic (Data "
                                   f"Collector API) table; migrate it first (POST .../tables/{table['name']}/migrate).", target))
            continue
        if transform and len(transform) <= MAX_TRANSFORM and len(flow_streams) == 1 and flow_streams[0] in streams:
            result = check_transform(transform, streams[flow_streams[0]], tables.destination_columns(table),
                                     custom_table=not table.get("azure"))
            for diagnostic in result.diagnostics:
                if diagnostic.is_error:
                    # Output that does not fit the table is InvalidTransformOutput (observed, azure-contract.md §5.3);
                    # anything else the query gets wrong is reported as InvalidTransformQuery.
                    code = "InvalidTransformOutput" if diagnostic.code in _OUTPUT_CODES else "InvalidTransformQuery"
                    where = f" (line {diagnostic.line}, column {diagnostic.column})" if diagnostic.line else ""
                    details.append(_detail(code, f"{diagnostic.code}: {diagnostic.message}{where}", f"{target}.transformKql"))


def render_dcr(state: dict, base_url: str) -> dict:
    """The DCR resource as returned by GET/PUT: stored body plus endpoints for kind Direct."""
    body = {k: v for k, v in state.items() if not k.startswith("_")}
    props = dict(body.get("properties") or {})
    immutable_id = props["immutableId"]
    if (body.get("kind") or "").strip().lower() == "direct":
        props["endpoints"] = {"logsIngestion": f"{base_url}/ingest/dcr/{immutable_id}",
                              "metricsIngestion": f"{base_url}/ingest/dcr/{immutable_id}/metrics"}
    body["properties"] = props
    return body


def render_dce(state: dict, base_url: str) -> dict:
    body = {k: v for k, v in state.items() if not k.startswith("_")}
    props = dict(body.get("properties") or {})
    immutable_id = props["immutableId"]
    props["configurationAccess"] = {"endpoint": f"{base_url}/ingest/dce/{immutable_id}/config"}
    props["logsIngestion"] = {"endpoint": f"{base_url}/ingest/dce/{immutable_id}"}
    props["metricsIngestion"] = {"endpoint": f"{base_url}/ingest/dce/{immutable_id}/metrics"}
    body["properties"] = props
    return body


def stored_dcr(resource_id: str, name: str, body: dict, location: str, existing: dict | None, lookup: Lookup, caller: str) -> dict:
    """The DCR to store: the request echoed with read-only fields set by the service (§10 item 2)."""
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in ("immutableId", "endpoints", "provisioningState", "metadata")}
    props["immutableId"] = existing["properties"]["immutableId"] if existing else new_immutable_id("dcr")
    destinations = props.get("destinations") or {}
    if isinstance(destinations, dict) and isinstance(destinations.get("logAnalytics"), list):
        filled = []
        for entry in destinations["logAnalytics"]:
            workspace = lookup.workspace(entry.get("workspaceResourceId") or "")
            filled.append({**entry, "workspaceId": workspace["customerId"]} if workspace else entry)
        props["destinations"] = {**destinations, "logAnalytics": filled}
    return _tracked_resource(resource_id, name, DCR_TYPE, location, props, body, existing, caller)


def _tracked_resource(resource_id: str, name: str, rtype: str, location: str, props: dict, body: dict,
                      existing: dict | None, caller: str) -> dict:
    """A stored DCR/DCE: ``props`` plus the tracked-resource envelope (name kept as first created, new etag)."""
    props["provisioningState"] = "Succeeded"
    state = {"id": resource_id, "name": existing["name"] if existing else name, "type": rtype, "location": location,
             "properties": props, "systemData": arm.system_data(caller, (existing or {}).get("systemData")),
             "etag": arm.new_etag()}
    state["tags"] = body.get("tags") or {}
    for key in ("kind", "identity", "sku"):
        if body.get(key) is not None:
            state[key] = body[key]
    identity = state.get("identity")
    if isinstance(identity, dict):
        state["identity"] = _managed_identity(identity, (existing or {}).get("identity"))
    return state


def _managed_identity(identity: dict, existing: dict | None) -> dict:
    """The identity block with the read-only fields the service fills (ARM ManagedServiceIdentity): a system-assigned
    identity gets a principalId (kept across updates) and the tenantId; each user-assigned one a principalId and clientId."""
    out = {k: v for k, v in identity.items() if k not in ("principalId", "tenantId")}
    kind = str(identity.get("type") or "").replace(" ", "").lower()
    if "systemassigned" in kind:
        out["principalId"] = (existing or {}).get("principalId") or str(uuid.uuid4())
        out["tenantId"] = seed.TENANT_ID
    users = identity.get("userAssignedIdentities")
    if isinstance(users, dict):
        known = (existing or {}).get("userAssignedIdentities") or {}
        out["userAssignedIdentities"] = {
            uid: known.get(uid) or {"principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, uid.lower())),
                                    "clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, uid.lower()))}
            for uid in users}
    return out


def stored_dce(resource_id: str, name: str, body: dict, location: str, existing: dict | None, caller: str) -> dict:
    props = {k: v for k, v in (body.get("properties") or {}).items()
             if k not in ("immutableId", "logsIngestion", "metricsIngestion", "configurationAccess", "provisioningState",
                          "privateLinkScopedResources")}
    props.setdefault("networkAcls", {"publicNetworkAccess": "Enabled"})
    # read-only: kept from the scoped resources that link the DCE to a private link scope (ops_privatelink.py)
    links = ((existing or {}).get("properties") or {}).get("privateLinkScopedResources")
    if links:
        props["privateLinkScopedResources"] = links
    props["immutableId"] = existing["properties"]["immutableId"] if existing else new_immutable_id("dce")
    return _tracked_resource(resource_id, name, DCE_TYPE, location, props, body, existing, caller)


def check_name(rtype: str, name: str) -> None:
    if not arm.NAME_PATTERNS[rtype].match(name):
        raise errors.InvalidResourceName(
            f"Resource name '{name}' is invalid. The name can contain only letters, digits, '-', '.', '_' and parentheses, "
            "must start with a letter or digit, must not end with '.' and be at most 64 characters.")

