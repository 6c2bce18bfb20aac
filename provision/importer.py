"""``provision import``: live DCRs, their tables, DCE and publishers -> a scenario file whose plan is empty.

Reads only (GETs and lists through the official SDK clients, as wire JSON), then builds the
scenario text and checks it offline the way ``plan`` would: the written file is loaded,
validated and rendered, and each rendered body is compared with the live one by the plan's
own differs (``plan.DIFFERS``). A rule whose flows were written with derived streams but whose
render differs is written again with its streams declared; whatever still differs is a field
the format cannot hold and is named, resource by resource, in ``Imported.notes`` (the CLI
prints them on stderr and the file carries them as a comment). Nothing secret is read, so
nothing secret is written.

What is imported: DCRs of kind Direct or without kind whose flows all write to Log Analytics
destinations; the tables their flows write to (custom ``_CL`` tables whole; Azure tables only
their ``_CF`` columns); the DCE they are bound to, with its private link scope associations; Monitoring Metrics Publisher assignments on
them (service principals as ``object_id`` with the app id as a comment, groups as ``group_id``
with the group's display name as a comment, each when Graph resolves it).
Agent DCRs (``dataSources``), other kinds and rules that do not fit one scenario (another
resource group, region or DCE) are skipped with the reason; nothing importable is an error.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from provision import ids
from provision.errors import ProvisionError
from provision.resources import Kind, ResourceId, workspace_parts

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_.\-/]*$")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "~"}


@dataclass
class Imported:
    """The scenario text, what the format could not hold (per resource) and what was skipped, with why."""

    text: str
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ live reads


def _rule_ids(session, rules: list[str], resource_group: str | None, subscription: str) -> list[str]:
    """ARM ids of the DCRs asked for (by name or id, or every DCR of a resource group)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from provision.azure import azure_error

    client = session.monitor(subscription).data_collection_rules
    if resource_group:
        try:
            found = [str(r.id) for r in client.list_by_resource_group(resource_group)]
        except ResourceNotFoundError:
            raise ProvisionError(f"resource group '{resource_group}' does not exist in subscription {subscription}",
                                 hint="check the name (az group list -o table), or pass --subscription") from None
        except HttpResponseError as error:
            raise azure_error(error, f"listing data collection rules in {resource_group}") from None
        if not found:
            raise ProvisionError(f"resource group '{resource_group}' holds no data collection rules; nothing was written",
                                 hint="check the resource group, or import rules by name or id with --rule")
        return found
    out = []
    by_name: dict[str, list[str]] | None = None
    for rule in rules:
        if rule.lower().startswith("/subscriptions/"):
            out.append(rule)
            continue
        if by_name is None:
            by_name = {}
            try:
                for r in client.list_by_subscription():
                    by_name.setdefault(str(r.name).lower(), []).append(str(r.id))
            except HttpResponseError as error:
                raise azure_error(error, f"listing data collection rules in subscription {subscription}") from None
        matches = by_name.get(rule.lower(), [])
        if not matches:
            raise ProvisionError(f"data collection rule '{rule}' does not exist in subscription {subscription}; nothing was written",
                                 hint="check the name (az monitor data-collection rule list -o table), give its resource id, "
                                      "or pass --subscription")
        if len(matches) > 1:
            raise ProvisionError(f"data collection rule name '{rule}' is used in several resource groups: {', '.join(matches)}",
                                 hint="give the rule's resource id instead of its name")
        out.append(matches[0])
    return out


def _publishers(session, rule_id: str) -> list[dict]:
    """Monitoring Metrics Publisher assignments exactly at ``rule_id``: [{principal, type}]."""
    from azure.core.exceptions import HttpResponseError

    from provision.azure import azure_error

    sub = ResourceId.parse(rule_id).subscription
    try:
        items = list(session.authorization(sub).role_assignments.list_for_scope(rule_id, filter="atScope()"))
    except HttpResponseError as error:
        raise azure_error(error, f"listing role assignments on {rule_id}") from None
    out = []
    for item in items:
        role = str(item.role_definition_id or "").rsplit("/", 1)[-1].lower()
        if role == ids.MONITORING_METRICS_PUBLISHER_ROLE_ID and str(item.scope or "").lower() == rule_id.lower():
            out.append({"principal": str(item.principal_id), "type": str(item.principal_type or "ServicePrincipal")})
    return out


def _app_id(session, object_id: str) -> str | None:
    """The app id of a service principal, for a comment; None when Graph cannot tell (it is only a comment)."""
    from provision.errors import AzureError

    try:
        body = session.graph_get(f"servicePrincipals/{object_id}")
    except AzureError:
        return None
    return (body or {}).get("appId")


def _group_name(session, group_id: str) -> str | None:
    """A group's display name, for a comment; None when Graph cannot tell (no Group/Directory read permission, or
    no such group): it is only a comment. One line, so the comment cannot end early or spill into the YAML."""
    from provision.errors import AzureError

    try:
        body = session.graph_get(f"groups/{group_id}")
    except AzureError:
        return None
    name = " ".join(str((body or {}).get("displayName") or "").split())
    return name or None


# ------------------------------------------------------------------ the model


@dataclass
class _Rule:
    name: str
    body: dict  # live, wire JSON
    derive: bool = True  # write flows whose stream the loader would derive without `streams`


def import_live(session, rules: list[str] | None = None, resource_group: str | None = None,
                tables: list[str] | None = None, workspace: str | None = None, subscription: str | None = None,
                cloud_name: str = "") -> Imported:
    """Read live state and build the scenario (raises ``ProvisionError`` when nothing can be imported)."""
    from provision.live import get_resource

    rules = rules or []
    if bool(rules) == bool(resource_group):
        raise ProvisionError("give --rule NAME_OR_ID (repeatable) or --resource-group RG, not both and not neither")
    subscription = subscription or _default_subscription(session, rules, workspace)
    session.warm_up()
    live_rules: list[_Rule] = []
    skipped: list[str] = []
    for rule_id in _rule_ids(session, rules, resource_group, subscription):
        body = get_resource(session, Kind.RULE, rule_id)
        if body is None:
            raise ProvisionError(f"data collection rule {rule_id} does not exist; nothing was written",
                                 hint="check the id (az monitor data-collection rule show --ids ...)")
        reason = _unimportable(body)
        if reason:
            skipped.append(f"rule {body.get('name') or rule_id}: {reason}")
        else:
            live_rules.append(_Rule(str(body.get("name") or ResourceId.parse(rule_id).name), body))
    live_rules, more = _one_scenario(live_rules)
    skipped += more
    if not live_rules:
        raise ProvisionError("nothing could be imported; nothing was written:\n  " + "\n  ".join(skipped),
                             hint="import Logs Ingestion rules (kind Direct, or no kind with a DCE) whose flows write to "
                                  "Log Analytics workspaces")
    first = live_rules[0].body
    rid = ResourceId.parse(str(first.get("id")))
    main_ws = workspace or _first_workspace(first)
    endpoint_id = _props(first).get("dataCollectionEndpointId")
    endpoint = get_resource(session, Kind.ENDPOINT, endpoint_id) if endpoint_id else None
    table_bodies = _read_tables(session, live_rules, tables or [], main_ws)
    publishers = {r.name: _publishers(session, str(r.body["id"])) for r in live_rules}
    app_ids = {p["principal"]: _app_id(session, p["principal"]) for ps in publishers.values() for p in ps
               if p["type"].lower() == "serviceprincipal"}
    group_names = {p["principal"]: _group_name(session, p["principal"]) for ps in publishers.values() for p in ps
                   if p["type"].lower() == "group"}
    context = _Context(location=str(first.get("location")), workspace=main_ws, subscription=rid.subscription,
                       resource_group=rid.resource_group, endpoint=endpoint, tables=table_bodies,
                       publishers=publishers, app_ids=app_ids, cloud=cloud_name, group_names=group_names)
    notes = _notes_before(context, live_rules)
    text, leftover = _settle(context, live_rules, notes)
    return Imported(text=text, notes=notes + leftover, skipped=skipped, rules=[r.name for r in live_rules])


def _default_subscription(session, rules: list[str], workspace: str | None) -> str:
    for rule in rules:
        if rule.lower().startswith("/subscriptions/"):
            return ResourceId.parse(rule).subscription
    if workspace:
        return workspace_parts(workspace)[0]
    local_ws = session.environ.get("PROVISION_LOCAL_WORKSPACE_ID")
    if local_ws:
        return workspace_parts(local_ws)[0]
    import os

    sub = os.environ.get("AZURE_SUBSCRIPTION_ID")
    if sub:
        return sub
    raise ProvisionError("which subscription? a rule given by name or --resource-group needs one",
                         hint="pass --subscription <id>, --workspace <workspace id>, give the rule's resource id, or set "
                              "AZURE_SUBSCRIPTION_ID")


def _props(body: dict | None) -> dict:
    return (body or {}).get("properties") or {}


def _unimportable(body: dict) -> str:
    """Why a live DCR is not a Logs Ingestion rule the format describes ('' when it is)."""
    props = _props(body)
    kind = body.get("kind")
    if props.get("dataSources"):
        return (f"an agent DCR (dataSources: {', '.join(sorted(props['dataSources']))}): the scenario format describes "
                "Logs Ingestion rules only; skipped")
    if kind and str(kind).strip().lower() != "direct":
        return f"kind '{kind}' is not a Logs Ingestion rule (Direct, or no kind with a DCE); skipped"
    if not kind and not props.get("dataCollectionEndpointId"):
        return "no kind and no data collection endpoint: senders cannot reach it; skipped"
    endpoint_id = props.get("dataCollectionEndpointId")
    if endpoint_id:
        rule, dce = ResourceId.parse(str(body.get("id"))), ResourceId.parse(str(endpoint_id))
        if (rule.subscription.lower(), rule.resource_group.lower()) != (dce.subscription.lower(), dce.resource_group.lower()):
            return (f"its data collection endpoint {dce.name} is in resource group {dce.resource_group}, not the rule's "
                    f"({rule.resource_group}): the scenario format keeps the DCE beside its rules; skipped")
    destinations = props.get("destinations") or {}
    others = sorted(k for k, v in destinations.items() if k != "logAnalytics" and v)
    if others:
        return f"destinations of kinds the format does not hold ({', '.join(others)}); skipped"
    for i, flow in enumerate(props.get("dataFlows") or []):
        if not flow.get("outputStream") and not all(str(s).startswith("Custom-") for s in flow.get("streams") or []):
            return f"data flow {i + 1} has no outputStream (an agent stream); skipped"
    return ""


def _one_scenario(rules: list[_Rule]) -> tuple[list[_Rule], list[str]]:
    """The rules that fit one scenario with the first: same subscription, resource group, region and DCE."""
    if not rules:
        return [], []
    first = rules[0].body
    key = _scenario_key(first)
    kept, skipped = [rules[0]], []
    for rule in rules[1:]:
        if _scenario_key(rule.body) != key:
            skipped.append(f"rule {rule.name}: another resource group, region or DCE than rule {rules[0].name} "
                           "(one scenario has one of each); import it separately")
        else:
            kept.append(rule)
    return kept, skipped


def _scenario_key(body: dict) -> tuple:
    rid = ResourceId.parse(str(body.get("id")))
    return (rid.subscription.lower(), rid.resource_group.lower(), str(body.get("location", "")).replace(" ", "").lower(),
            str(_props(body).get("dataCollectionEndpointId") or "").lower())


def _first_workspace(body: dict) -> str:
    for entry in (_props(body).get("destinations") or {}).get("logAnalytics") or []:
        if entry.get("workspaceResourceId"):
            return str(entry["workspaceResourceId"])
    raise ProvisionError(f"rule {body.get('name')} has no Log Analytics destination; pass --workspace")


def _flow_workspace(body: dict, flow: dict) -> str:
    names = {str(n).lower() for n in flow.get("destinations") or []}
    for entry in (_props(body).get("destinations") or {}).get("logAnalytics") or []:
        if str(entry.get("name", "")).lower() in names:
            return str(entry.get("workspaceResourceId"))
    return ""


def _table_of(output_stream: str) -> str:
    if output_stream.startswith("Custom-"):
        return output_stream[len("Custom-"):]
    if output_stream.startswith("Microsoft-"):
        return output_stream[len("Microsoft-"):]
    return output_stream


def _read_tables(session, rules: list[_Rule], extra: list[str], main_ws: str) -> dict[str, tuple[str, dict | None]]:
    """table name -> (workspace id, live body or None) for every table a flow writes to, and the --table ones."""
    from provision.live import get_resource

    wanted: dict[str, str] = {}
    for rule in rules:
        for flow in _props(rule.body).get("dataFlows") or []:
            output = flow.get("outputStream") or (flow.get("streams") or [""])[0]
            wanted.setdefault(_table_of(str(output)), _flow_workspace(rule.body, flow) or main_ws)
    for name in extra:
        wanted.setdefault(name, main_ws)
    return {name: (ws, get_resource(session, Kind.TABLE, ids.table_id(ws, name))) for name, ws in wanted.items()}


# ------------------------------------------------------------------ writing


@dataclass
class _Context:
    location: str
    workspace: str
    subscription: str
    resource_group: str
    endpoint: dict | None
    tables: dict[str, tuple[str, dict | None]]
    publishers: dict[str, list[dict]]
    app_ids: dict[str, str | None]
    cloud: str = ""
    group_names: dict[str, str | None] = field(default_factory=dict)


def _q(value) -> str:
    """A YAML scalar: plain when unambiguous, else JSON-quoted (valid YAML); '${' doubled so it is not a variable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML11_WORDS:
        return text
    return json.dumps(text.replace("${", "$${"), ensure_ascii=False)


def _flow_map(items: dict) -> str:
    return "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in items.items()) + "}"


def _notes_before(context: _Context, rules: list[_Rule]) -> list[str]:
    """What the format cannot hold, seen before writing (the render check finds the rest)."""
    notes = []
    for name, (ws, body) in context.tables.items():
        if body is None:
            notes.append(f"table {name}: not found in workspace {ws.rsplit('/', 1)[-1]}; the scenario declares it from the "
                         "rule's stream, so plan would create it")
            continue
        for col in _props(body).get("schema", {}).get("columns") or []:
            if col.get("dataTypeHint"):
                notes.append(f"table {name}: column {col.get('name')} dataTypeHint '{col['dataTypeHint']}' (not in the format)")
    for rule_name, found in context.publishers.items():
        for p in found:
            if p["type"].lower() not in ("serviceprincipal", "group"):
                notes.append(f"rule {rule_name}: Monitoring Metrics Publisher for {p['type']} {p['principal']} (publishers are "
                             "service principals or groups)")
    return notes


def _render_text(context: _Context, rules: list[_Rule], notes: list[str]) -> str:
    source = f" from the {context.cloud} cloud" if context.cloud else ""
    lines = [f"# Imported by `provision import`{source}: {', '.join(r.name for r in rules)}."]
    if notes:
        lines.append("# Not held by the scenario format (left as they are in Azure; a plan does not show them unless noted):")
        lines += [f"#   - {n}" for n in notes]
    name = re.sub(r"[^\w.()-]", "-", rules[0].name if len(rules) == 1 else context.resource_group)
    lines += [f"name: {_q(name)}", f"location: {_q(context.location)}",
              f"workspace: {_q(context.workspace)}", f"resource_group: {_q(context.resource_group)}"]
    if workspace_parts(context.workspace)[0].lower() != context.subscription.lower():
        lines.append(f"subscription: {_q(context.subscription)}")
    lines += _tables_text(context)
    lines += _endpoint_text(context)
    lines.append("rules:")
    for rule in rules:
        lines += _rule_text(context, rule)
    lines += _publishers_text(context, rules)
    return "\n".join(lines) + "\n"


def _tables_text(context: _Context) -> list[str]:
    out = []
    for name, (ws, body) in context.tables.items():
        if body is None:
            continue
        props = _props(body)
        schema = props.get("schema") or {}
        custom = name.endswith("_CL")
        columns = [c for c in schema.get("columns") or [] if custom or str(c.get("name", "")).endswith("_CF")]
        if not custom and not columns:
            continue  # an Azure table with no _CF columns needs no entry
        names = {c.get("name") for c in columns}
        if custom and "TimeGenerated" not in names:
            standard = {c.get("name"): c for c in schema.get("standardColumns") or []}
            if "TimeGenerated" in standard:
                columns = [standard["TimeGenerated"], *columns]
        entry = [f"  {_q(name)}:"]
        if ws.lower() != context.workspace.lower():
            entry.append(f"    workspace: {_q(ws)}")
        if custom and props.get("plan"):
            entry.append(f"    plan: {_q(props['plan'])}")
        if custom and props.get("retentionInDays") is not None and not props.get("retentionInDaysAsDefault"):
            entry.append(f"    retention_days: {int(props['retentionInDays'])}")
        if custom and props.get("totalRetentionInDays") is not None and not props.get("totalRetentionInDaysAsDefault"):
            entry.append(f"    total_retention_days: {int(props['totalRetentionInDays'])}")
        if schema.get("description"):
            entry.append(f"    description: {_q(schema['description'])}")
        entry.append("    columns:")
        for col in columns:
            if col.get("description"):
                entry.append(f"      {_q(col['name'])}: {_flow_map({'type': col.get('type'), 'description': col['description']})}")
            else:
                entry.append(f"      {_q(col['name'])}: {_q(col.get('type'))}")
        out += entry
    return (["tables:"] + out) if out else []


def _endpoint_text(context: _Context) -> list[str]:
    if context.endpoint is None:
        return []
    props = _props(context.endpoint)
    out = ["endpoint:", f"  name: {_q(context.endpoint.get('name'))}"]
    access = (props.get("networkAcls") or {}).get("publicNetworkAccess")
    if access and str(access).lower() != "enabled":
        out.append(f"  public_network_access: {_q(access)}")
    if props.get("description"):
        out.append(f"  description: {_q(props['description'])}")
    if context.endpoint.get("tags"):
        out.append(f"  tags: {_flow_map(context.endpoint['tags'])}")
    if context.endpoint.get("kind"):
        out.append(f"  kind: {_q(context.endpoint['kind'])}")
    return out + _scope_links_text(context)


def _scope_links_text(context: _Context) -> list[str]:
    """The DCE's private link scope associations (its read-only ``privateLinkScopedResources``: the scoped resource
    ids), as ``private_link_scopes``: a scope of the scenario's resource group by name, another by its id; the
    scoped resource's name only where it is not the endpoint's."""
    assert context.endpoint is not None
    endpoint_name = str(context.endpoint.get("name"))
    here = ids.private_link_scope_id(context.subscription, context.resource_group, "").lower()
    out = []
    for entry in _props(context.endpoint).get("privateLinkScopedResources") or []:
        resource_id = str((entry or {}).get("resourceId") or "")
        if "/scopedresources/" not in resource_id.lower():
            continue
        scope_id, name = ids.scope_of_scoped_resource(resource_id)
        scope = scope_id.rsplit("/", 1)[-1] if scope_id.lower().startswith(here) else scope_id
        out.append(f"    - {_q(scope)}" if name == endpoint_name else f"    - {{scope: {_q(scope)}, name: {_q(name)}}}")
    return ["  private_link_scopes:", *out] if out else []


def _rule_text(context: _Context, rule: _Rule) -> list[str]:
    from provision.scenario.load import DEFAULT_DESTINATION, derived_stream_name

    body, props = rule.body, _props(rule.body)
    out = [f"  {_q(rule.name)}:"]
    if not body.get("kind"):
        out.append("    kind: none")
    if props.get("description"):
        out.append(f"    description: {_q(props['description'])}")
    if body.get("tags"):
        out.append(f"    tags: {_flow_map(body['tags'])}")
    identity = body.get("identity") or {}
    id_type = str(identity.get("type") or "")
    if id_type and id_type.lower() != "none":
        users = list(identity.get("userAssignedIdentities") or {})
        if users:
            out.append(f"    identity: {{type: {_q(id_type)}, user_assigned: [{', '.join(_q(u) for u in users)}]}}")
        else:
            out.append(f"    identity: {_q(id_type)}")
    destinations = [(str(d.get("name")), str(d.get("workspaceResourceId")))
                    for d in (props.get("destinations") or {}).get("logAnalytics") or []]
    default = len(destinations) == 1 and destinations[0][0] == DEFAULT_DESTINATION and \
        destinations[0][1].lower() == context.workspace.lower()
    if not default:
        out.append("    destinations:")
        out += [f"      {_q(n)}: {_q(w)}" for n, w in destinations]
    flows = props.get("dataFlows") or []
    uses: dict[str, int] = {}
    for flow in flows:
        for s in flow.get("streams") or []:
            uses[s] = uses.get(s, 0) + 1
    derived = set()
    for i, flow in enumerate(flows):
        streams = list(flow.get("streams") or [])
        table = _table_of(str(flow.get("outputStream") or streams[0]))
        if rule.derive and len(streams) == 1 and streams[0] == derived_stream_name(table) and uses[streams[0]] == 1:
            derived.add(i)
    declared = {name: decl for name, decl in (props.get("streamDeclarations") or {}).items()
                if not any(i in derived and name in (flows[i].get("streams") or []) for i in range(len(flows)))}
    if declared:
        out.append("    streams:")
        for name, decl in declared.items():
            out.append(f"      {_q(name)}:")
            out += [f"        {_q(c.get('name'))}: {_q(c.get('type'))}" for c in decl.get("columns") or []]
    out.append("    flows:")
    for i, flow in enumerate(flows):
        streams = list(flow.get("streams") or [])
        table = _table_of(str(flow.get("outputStream") or streams[0]))
        out.append(f"      - table: {_q(table)}")
        if i not in derived:
            if len(streams) == 1:
                out.append(f"        stream: {_q(streams[0])}")
            else:
                out.append(f"        streams: [{', '.join(_q(s) for s in streams)}]")
        transform = flow.get("transformKql")
        if transform is not None and str(transform).strip() != "source":
            out.append(f"        transform: {_q(transform)}")
        if not default and len(destinations) > 1:
            out.append(f"        destinations: [{', '.join(_q(d) for d in flow.get('destinations') or [])}]")
    return out


def _publishers_text(context: _Context, rules: list[_Rule]) -> list[str]:
    everyone = [r.name for r in rules]
    holders: dict[tuple[str, str], list[str]] = {}
    for rule in rules:
        for p in context.publishers.get(rule.name, []):
            if p["type"].lower() in ("serviceprincipal", "group"):
                holders.setdefault((p["principal"], p["type"].lower()), []).append(rule.name)
    if not holders:
        return []
    out = ["publishers:"]
    for (principal, kind), on in holders.items():
        key = "group_id" if kind == "group" else "object_id"
        app_id = context.app_ids.get(principal)
        group_name = context.group_names.get(principal) if kind == "group" else None
        comment = f"  # app_id {app_id}" if app_id else (f"  # group {group_name}" if group_name else "")
        out.append(f"  - {key}: {_q(principal)}" + comment)
        if sorted(on) != sorted(everyone):
            out.append(f"    rules: [{', '.join(_q(r) for r in on)}]")
    return out


def _settle(context: _Context, rules: list[_Rule], notes: list[str]) -> tuple[str, list[str]]:
    """Write, then check as plan would; re-write rules whose derived streams do not render the live body."""
    problems, diffs = _check(_render_text(context, rules, notes), context, rules)
    retry = [r for r in rules if r.derive and diffs.get(("rule", r.name))]
    if retry or problems:
        for rule in rules if problems else retry:
            rule.derive = False
        problems, diffs = _check(_render_text(context, rules, notes), context, rules)
    leftover = [f"{kind} {name}: {d.path} " + ("is not held by the format" if d.op == "remove" else
                                                f"differs ({json.dumps(d.before)[:80]} live)")
                for (kind, name), found in diffs.items() for d in found]
    leftover += [f"validate: {p.code} {p.message}" for p in problems]
    return _render_text(context, rules, notes + leftover), leftover


def _check(text: str, context: _Context, rules: list[_Rule]):
    """(validation errors, {(kind, name): field diffs}) of ``text`` against the live bodies, offline."""
    from provision.plan import DIFFERS
    from provision.render import render_deployables
    from provision.scenario import validate_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "imported.yaml"
        path.write_text(text, encoding="utf-8")
        scenario, diagnostics = validate_scenario(str(path), environ={})
    errors = [d for d in diagnostics if d.is_error]
    if scenario is None or errors:
        return errors, {}
    live = {("rule", r.name): r.body for r in rules}
    live.update({("table", name): body for name, (_, body) in context.tables.items() if body is not None})
    if context.endpoint is not None:
        live[("endpoint", str(context.endpoint.get("name")))] = context.endpoint
    diffs = {}
    for resource in render_deployables(scenario):
        current = live.get((resource.kind.value, resource.name))
        if current is not None:
            found = DIFFERS[resource.kind.value](resource.body, current)
            if found:
                diffs[(resource.kind.value, resource.name)] = found
    return [], diffs


def write_scenario(imported: Imported, out: Path | None, force: bool) -> None:
    """Write the file (refusing to overwrite without ``force``); nothing is written when it refuses."""
    if out is None:
        return
    if out.exists() and not force:
        raise ProvisionError(f"{out} exists; nothing was written", hint="pass --force to overwrite it, or choose another --out")
    if out.exists() and out.is_dir():
        raise ProvisionError(f"{out} is a folder; nothing was written", hint="give a file name, e.g. --out imported.yaml")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(imported.text, encoding="utf-8")
    tmp.replace(out)
