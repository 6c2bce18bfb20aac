"""The plan: a pure function of (desired resources, live state) -> typed changes.

No network, no SDK. ``build_plan`` compares each rendered request body with the
live body read from Azure (or the emulator), field by field: a DCR or DCE as a
whole body against the live body minus read-only fields (``writable``), because
its PUT replaces the whole resource, so a live field the scenario lacks is shown
as a removal (docs/deploy.md "Fields set outside the tool"); a table and a role
assignment by the fields the tool sets. Ids, types, kinds and locations compare
case-insensitively, as ARM does (azure-contract.md §1). Each change is one of ``create``, ``update``, ``replace``, ``delete``
(only for what the scenario marks ``ensure: absent``) or ``no-op``, and is
classed by its most severe field difference:

- ``safe``: nothing is lost and senders keep working;
- ``data-affecting``: data disappears from queries or is no longer accepted
  (a column or a stream dropped, a table deleted, retention shortened);
- ``identity-rotating``: the DCR/DCE must be recreated, so its immutable ID and
  ingestion endpoint change and every sender must be reconfigured;
- ``impossible``: Azure refuses it (a column type change, a switch to or from
  the Auxiliary plan); the explanation names the options;
- ``irreversible``: nothing is lost but it cannot be undone: the ``migrate``
  action of a classic table (``migrate: true``), a change of its own.

Problems that only live state reveals (missing workspace, DCR region not the
workspace's or not a destination workspace's, a classic table, an Azure table a
flow writes to that the workspace lacks, a publisher that does not exist) are
collected in ``Plan.problems``, all at once, before anything is written, with
warnings such as a new column no flow fills; the file's validate warnings are in
``Plan.warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provision import ids
from provision.diagnostics import ERROR, WARNING, Diagnostic
from provision.errors import PlanError
from provision.resources import Kind, Resource

CREATE, UPDATE, REPLACE, DELETE, NOOP = "create", "update", "replace", "delete", "no-op"
MIGRATE = "migrate"  # a classic table's POST .../migrate (Kind.MIGRATION)
SAFE, DATA, IDENTITY, IMPOSSIBLE = "safe", "data-affecting", "identity-rotating", "impossible"
IRREVERSIBLE = "irreversible"
_SEVERITY = {SAFE: 0, IRREVERSIBLE: 1, DATA: 2, IDENTITY: 3, IMPOSSIBLE: 4}
# Shown in summaries only when a plan has one (plans without migrations keep their summary's shape).
_OCCASIONAL = {MIGRATE, IRREVERSIBLE}
MIGRATE_EXPLANATION = ("the classic (Data Collector API) table becomes DCR-based in place: its columns and rows stay, "
                       "it cannot be turned back, and the Data Collector API may then write existing columns only "
                       "(Microsoft's migration guide, custom-logs-migrate.md)")

# Fields ARM compares case-insensitively (resource ids, enums modelled as strings, regions).
_CASELESS_KEYS = {
    "type", "kind", "location", "plan", "workspaceResourceId", "dataCollectionEndpointId",
    "outputStream", "roleDefinitionId", "principalType", "publicNetworkAccess", "principalId", "linkedResourceId",
}


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs: ``before`` is live (None: absent), ``after`` is desired (None: removed)."""

    path: str
    before: Any
    after: Any
    cls: str = SAFE
    explanation: str = ""

    @property
    def op(self) -> str:
        if self.before is None:
            return "add"
        if self.after is None:
            return "remove"
        return "change"

    def to_dict(self) -> dict:
        return {"path": self.path, "op": self.op, "before": self.before, "after": self.after,
                "class": self.cls, "explanation": self.explanation}


@dataclass(frozen=True)
class Change:
    """What apply will do to one resource."""

    action: str
    kind: Kind
    name: str
    id: str
    cls: str = SAFE
    diffs: tuple[FieldDiff, ...] = ()
    explanations: tuple[str, ...] = ()
    resource: Resource | None = None
    live: dict | None = None

    @property
    def label(self) -> str:
        """What people read: role assignments by publisher and DCR rather than by their uuid name."""
        res = self.resource
        if self.kind == Kind.ROLE_ASSIGNMENT and res is not None and res.rule:
            who = res.app_id or res.principal_id or "?"
            if str(_props(res.body).get("principalType", "")).lower() == "group":
                who = f"group {who}"
            return f"role assignment Monitoring Metrics Publisher for {who} on {res.rule}"
        if self.kind == Kind.MIGRATION:
            return f"table {self.name} (classic -> DCR-based)"
        return f"{Kind(self.kind).label} {self.name}"

    @property
    def is_change(self) -> bool:
        return self.action != NOOP

    @property
    def needs_destructive(self) -> bool:
        """Deletes, dropped columns/streams and recreations need --allow-destructive."""
        return self.action in (DELETE, REPLACE) or self.cls in (DATA, IDENTITY)

    def to_dict(self) -> dict:
        return {
            "action": self.action, "kind": self.kind, "name": self.name, "label": self.label, "id": self.id,
            "class": self.cls, "explanations": list(self.explanations),
            "diffs": [d.to_dict() for d in self.diffs],
        }


@dataclass
class LiveState:
    """What Azure holds for every resource the scenario addresses (filled by ``provision.live``).

    ``resources`` maps a lower-cased ARM id to the live body (None: does not exist).
    ``missing_publishers`` lists publishers Graph does not know.
    """

    workspace_id: str
    workspace: dict | None
    resources: dict[str, dict | None] = field(default_factory=dict)
    missing_publishers: list = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)

    def get(self, resource_id: str) -> dict | None:
        return self.resources.get(resource_id.lower())


@dataclass
class Plan:
    changes: list[Change]
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # the file's validate warnings (they never block)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.is_change]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    @property
    def impossible(self) -> list[Change]:
        return [c for c in self.changes if c.cls == IMPOSSIBLE]

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.pending if c.needs_destructive]

    def refusal(self, allow_destructive: bool) -> PlanError | None:
        """Why apply would refuse this plan (None: it would not). The one rule ``plan``, ``apply`` and the CLI use.

        Refused: live problems, changes Azure cannot make, and without ``allow_destructive``
        deletes, data-affecting changes and recreations.
        """
        errors = [p for p in self.problems if p.is_error]
        if errors:
            return PlanError(f"live state shows {len(errors)} problem(s); nothing was changed", errors)
        if self.impossible:
            lines = [f"{c.kind} {c.name}: " + "; ".join(d.explanation for d in c.diffs if d.cls == IMPOSSIBLE)
                     for c in self.impossible]
            return PlanError("the plan contains changes Azure cannot make; nothing was changed:\n  " + "\n  ".join(lines))
        if self.destructive and not allow_destructive:
            lines = [f"{c.action} {c.kind} {c.name} ({c.cls}): " + "; ".join(c.explanations) for c in self.destructive]
            return PlanError("these changes delete data or rotate identities; nothing was changed:\n  " + "\n  ".join(lines),
                             hint="review them, then re-run with --allow-destructive")
        return None

    def summary(self) -> dict[str, int]:
        """Changes per action; ``migrate`` only when the plan has one."""
        counts = {a: 0 for a in (CREATE, UPDATE, REPLACE, DELETE, NOOP)}
        for c in self.changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        return counts

    def classes(self) -> dict[str, int]:
        """Pending changes per class (safe, data-affecting, identity-rotating, impossible; irreversible only when
        the plan has one)."""
        counts = {c: 0 for c in _SEVERITY if c not in _OCCASIONAL}
        for c in self.pending:
            counts[c.cls] = counts.get(c.cls, 0) + 1
        return {c: counts[c] for c in _SEVERITY if c in counts}

    def to_dict(self) -> dict:
        return {
            "summary": self.summary(),
            "classes": self.classes(),
            "changes": [c.to_dict() for c in self.changes],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
        }


# ---------------------------------------------------------------- entry point


def build_plan(resources, live: LiveState, scenario=None) -> Plan:
    """Compare every desired resource with its live version. Pure.

    ``resources`` are rendered ``Resource`` objects in dependency order. A
    resource whose ``ensure`` is ``absent`` becomes a ``delete`` when it exists.
    ``scenario`` (optional) only lends file and line numbers to problems.
    """
    problems = list(live.problems) + live_problems(resources, live, scenario)
    changes = [_change_for(r, live) for r in resources if not _skipped(r)]
    problems += unfilled_columns(resources, changes, scenario)
    # A reviewer of the plan must see what validate warned about (e.g. a column billed, then dropped).
    return Plan(changes=changes, problems=problems, warnings=list(getattr(scenario, "warnings", ()) or ()))


def _skipped(resource) -> bool:
    # A role assignment whose publisher could not be resolved is reported as a problem instead.
    return resource.kind == "role_assignment" and resource.unresolved


def _absent(resource) -> bool:
    return resource.ensure == "absent" or resource.body is None


def _change_for(resource, live: LiveState) -> Change:
    current = live.get(resource.id)
    base = {"kind": resource.kind, "name": resource.name, "id": resource.id, "resource": resource, "live": current}
    if resource.kind == Kind.MIGRATION:
        # Its live state is the table's: only a classic table is migrated; a missing one is created DCR-based.
        if _is_classic(current):
            return Change(action=MIGRATE, cls=IRREVERSIBLE, explanations=(MIGRATE_EXPLANATION,), **base)
        return Change(action=NOOP, **base)
    if _absent(resource):
        if current is None:
            return Change(action=NOOP, **base)
        cls = DATA if resource.kind in ("table", "rule", "scoped_resource") else SAFE
        why = {
            "table": "deleting the table deletes its data",
            "rule": "senders posting to this DCR will be refused",
            "endpoint": "senders using this endpoint must switch to the DCR's own endpoint",
            "role_assignment": "the publisher may no longer send",
            "scoped_resource": "the endpoint leaves this private link scope: senders that reach it through the scope's "
                               "private endpoints are cut off",
        }[resource.kind]
        return Change(action=DELETE, cls=cls, explanations=(why,), **base)
    if current is None:
        return Change(action=CREATE, cls=SAFE, **base)
    diffs = DIFFERS[resource.kind](resource.body, current)
    if not diffs:
        return Change(action=NOOP, **base)
    cls = max((d.cls for d in diffs), key=_SEVERITY.__getitem__)
    action = REPLACE if any(d.cls == IDENTITY for d in diffs) else UPDATE
    explanations = tuple(dict.fromkeys(d.explanation for d in diffs if d.explanation and d.cls != SAFE))
    return Change(action=action, cls=cls, diffs=tuple(diffs), explanations=explanations, **base)


# ------------------------------------------------------------ normalisation


def _norm(key: str | None, value: Any) -> Any:
    if isinstance(value, str):
        if key == "location":
            return value.replace(" ", "").lower()
        if key in _CASELESS_KEYS:
            return value.lower()
    return value


def _same(key: str | None, desired: Any, current: Any) -> bool:
    if key == "roleDefinitionId" and isinstance(desired, str) and isinstance(current, str):
        # ARM answers with the tenant form /providers/.../roleDefinitions/<guid> (azure-contract.md §6.1).
        return desired.rsplit("/", 1)[-1].lower() == current.rsplit("/", 1)[-1].lower()
    return _norm(key, desired) == _norm(key, current)


def _subset_diffs(desired: Any, current: Any, path: str, key: str | None = None) -> list[FieldDiff]:
    """Fields of ``desired`` that ``current`` lacks or holds differently (extra live fields ignored)."""
    if isinstance(desired, dict):
        current = current if isinstance(current, dict) else {}
        out: list[FieldDiff] = []
        for k, v in desired.items():
            out += _subset_diffs(v, current.get(k), f"{path}.{k}" if path else k, k)
        return out
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return [FieldDiff(path, current, desired)]
        if all(isinstance(d, dict) for d in desired):
            # Objects in place (e.g. destinations.logAnalytics[0].workspaceResourceId): name the field that differs.
            out = []
            for i, (d, c) in enumerate(zip(desired, current)):
                out += _subset_diffs(d, c, f"{path}[{i}]", key)
            return out
        if any(_subset_diffs(d, c, path, key) for d, c in zip(desired, current)):
            return [FieldDiff(path, current, desired)]
        return []
    if current is None and desired is not None:
        return [FieldDiff(path, None, desired)]
    return [] if _same(key, desired, current) else [FieldDiff(path, current, desired)]


def _props(body: dict | None) -> dict:
    return (body or {}).get("properties") or {}


# ----------------------------------------------------------------- tables

_AUX = "auxiliary"


def diff_table(desired: dict, current: dict) -> list[FieldDiff]:
    want, have = _props(desired), _props(current)
    diffs: list[FieldDiff] = []
    if want.get("plan") is not None and not _same("plan", want["plan"], have.get("plan")):
        before, after = have.get("plan"), want["plan"]
        if _AUX in (str(before).lower(), str(after).lower()):
            diffs.append(FieldDiff("properties.plan", before, after, IMPOSSIBLE,
                                   "a table's plan cannot be switched to or from Auxiliary (azure-contract.md §3.1): "
                                   "create a new table with the plan you want and point the DCR at it"))
        else:
            diffs.append(FieldDiff("properties.plan", before, after, SAFE,
                                   "Analytics and Basic can be switched (Azure allows one switch a week)"))
    for key, default_flag in (("retentionInDays", "retentionInDaysAsDefault"),
                              ("totalRetentionInDays", "totalRetentionInDaysAsDefault")):
        diffs += _retention_diff(key, want.get(key), have.get(key), bool(have.get(default_flag)))
    schema_want, schema_have = want.get("schema") or {}, have.get("schema") or {}
    for key in ("description", "displayName"):
        if schema_want.get(key) not in (None, "") and schema_want.get(key) != schema_have.get(key):
            diffs.append(FieldDiff(f"properties.schema.{key}", schema_have.get(key), schema_want[key]))
    name = str(schema_want.get("name") or (desired or {}).get("name") or "")
    diffs += _column_diffs(schema_want.get("columns") or [], schema_have, custom=name.endswith("_CL"))
    return diffs


def _retention_diff(key: str, want, have, have_is_default: bool) -> list[FieldDiff]:
    if want is None or want == have or (want == -1 and have_is_default):
        return []
    path = f"properties.{key}"
    if isinstance(want, int) and isinstance(have, int) and want != -1 and 0 < want < have:
        return [FieldDiff(path, have, want, DATA, f"shortening {key} deletes data older than {want} days")]
    return [FieldDiff(path, have, want)]


def _column_diffs(want_cols: list, schema_have: dict, custom: bool) -> list[FieldDiff]:
    have_cols = {c.get("name"): c for c in schema_have.get("columns") or []}
    standard = {c.get("name") for c in schema_have.get("standardColumns") or []}
    diffs: list[FieldDiff] = []
    wanted = set()
    for col in want_cols:
        name = col.get("name")
        wanted.add(name)
        path = f"properties.schema.columns[{name}]"
        live = have_cols.get(name)
        if live is None:
            if name in standard:
                continue  # e.g. TimeGenerated, which the service lists among its standard columns
            diffs.append(FieldDiff(path, None, col.get("type"), SAFE,
                                   "new column: the DCR's stream is updated in the same apply"))
        elif str(live.get("type", "")).lower() != str(col.get("type", "")).lower():
            diffs.append(FieldDiff(f"{path}.type", live.get("type"), col.get("type"), IMPOSSIBLE,
                                   f"the type of column '{name}' cannot be changed (azure-contract.md §3.1): "
                                   f"add a new column (e.g. '{name}2' of the new type) and convert in the transform, "
                                   "or create a new table"))
        else:
            for key in ("description", "displayName", "dataTypeHint"):
                if col.get(key) not in (None, "") and col.get(key) != live.get(key):
                    diffs.append(FieldDiff(f"{path}.{key}", live.get(key), col.get(key)))
    for name, have_col in have_cols.items():
        if name in wanted or name in standard:
            continue
        if not custom and not str(name).endswith("_CF"):
            continue  # an Azure table's own columns are not ours to drop
        diffs.append(FieldDiff(f"properties.schema.columns[{name}]", have_col.get("type"), None, DATA,
                               f"dropping column '{name}': its data disappears from queries"))
    return diffs


# ------------------------------------------------------------------- DCRs


def _recreate(field_name: str, what: str) -> str:
    return (f"{field_name} cannot change on an existing {what}: it is deleted and recreated, so its immutable ID "
            "and ingestion endpoint change and every sender must be reconfigured")


def diff_rule(desired: dict, current: dict) -> list[FieldDiff]:
    current = writable(Kind.RULE, current)
    diffs = _identity_diffs(desired, current, "data collection rule")
    diffs += _envelope_diffs(desired, current)
    want, have = _props(desired), _props(current)
    for key, value in want.items():
        path = f"properties.{key}"
        if key == "streamDeclarations":
            diffs += _stream_diffs(value or {}, have.get(key) or {})
        elif key == "dataFlows":
            diffs += _flow_diffs(value or [], have.get(key) or [])
        elif key == "destinations":
            diffs += _destination_diffs(value or {}, have.get(key) or {})
        elif key == "dataCollectionEndpointId":
            if not _same(key, value, have.get(key)):
                diffs.append(FieldDiff(path, have.get(key), value, SAFE,
                                       "senders must use the new ingestion endpoint (the immutable ID stays)"))
        else:
            diffs += _full_diffs(value, have.get(key), path, key)
    if have.get("dataCollectionEndpointId") and not want.get("dataCollectionEndpointId"):
        # The PUT drops the binding (e.g. the DCE is marked `ensure: absent`).
        diffs.append(FieldDiff("properties.dataCollectionEndpointId", have["dataCollectionEndpointId"], None, DATA,
                               "the rule no longer uses its data collection endpoint: senders posting through the "
                               "DCE are refused and must switch to the rule's own endpoint (the immutable ID stays)"))
    for key, value in have.items():
        if key in want or key == "dataCollectionEndpointId" or _empty(value):
            continue
        # Set outside the tool (portal, az, Bicep, a policy): the full PUT removes it, so the plan says so.
        cls, why = _RULE_REMOVALS.get(key, (SAFE, f"'{key}' was set outside the scenario: the PUT removes it"))
        diffs.append(FieldDiff(f"properties.{key}", value, None, cls, why))
    return diffs


# Properties a DCR may hold that the scenario does not set, and what removing them costs.
_RULE_REMOVALS = {
    "dataSources": (DATA, "the rule's agent data sources are removed: the agents stop collecting them"),
    "streamDeclarations": (DATA, "every declared stream is removed: senders are refused"),
    "dataFlows": (DATA, "every data flow is removed: no data arrives"),
    "destinations": (DATA, "every destination is removed: no data arrives"),
    "agentSettings": (DATA, "the agents' settings are removed"),
    "references": (DATA, "the rule's references (enrichment data) are removed"),
}


def _destination_diffs(want: dict, have: dict) -> list[FieldDiff]:
    """Destinations by kind, then by name (flows refer to a destination by its name, so the name is its identity).

    A destination the scenario lacks is removed by the PUT: whatever flowed there stops arriving (data-affecting).
    """
    diffs: list[FieldDiff] = []
    for dest_kind in dict.fromkeys([*want, *have]):
        wanted = [d for d in want.get(dest_kind) or [] if isinstance(d, dict)]
        live = [d for d in have.get(dest_kind) or [] if isinstance(d, dict)]
        live_by_name = {str(d.get("name", "")).lower(): d for d in live}
        wanted_names = {str(d.get("name", "")).lower() for d in wanted}
        for i, entry in enumerate(wanted):
            current = live_by_name.get(str(entry.get("name", "")).lower())
            if current is None:
                diffs.append(FieldDiff(f"properties.destinations.{dest_kind}[{entry.get('name')}]", None, entry, SAFE,
                                       "new destination"))
            else:
                diffs += _full_diffs(entry, current, f"properties.destinations.{dest_kind}[{i}]")
        for entry in live:
            if str(entry.get("name", "")).lower() not in wanted_names:
                diffs.append(FieldDiff(f"properties.destinations.{dest_kind}[{entry.get('name')}]", entry, None, DATA,
                                       f"destination '{entry.get('name')}' is removed: what flowed to it stops arriving"))
    return diffs


def _envelope_diffs(desired: dict, current: dict) -> list[FieldDiff]:
    """Top-level fields besides location, kind and properties (tags, identity, or what a template adds), both ways."""
    diffs: list[FieldDiff] = []
    handled = {"location", "kind", "properties"}
    for key, value in desired.items():
        if key == "identity":
            # ARM ids compare case-insensitively, and ARM may answer a user-assigned identity's id in another case
            diffs += _full_diffs(_identity_ci(value), _identity_ci(current.get(key)), key, key)
        elif key not in handled:
            diffs += _full_diffs(value, current.get(key), key, key)
    for key, value in current.items():
        if key in handled or key in desired or _empty(value):
            continue
        cls, why = _ENVELOPE_REMOVALS.get(key, (SAFE, f"'{key}' was set outside the scenario: the PUT removes it"))
        diffs.append(FieldDiff(key, value, None, cls, why))
    return diffs


def _identity_ci(identity: Any) -> Any:
    if not isinstance(identity, dict) or not isinstance(identity.get("userAssignedIdentities"), dict):
        return identity
    # the ids are what counts (their values are read-only principal/client ids): compared as a set
    return {**identity, "userAssignedIdentities": sorted(k.lower() for k in identity["userAssignedIdentities"])}


_ENVELOPE_REMOVALS = {
    "tags": (SAFE, "tags set outside the scenario are removed by the PUT (add them under `tags:` to keep them)"),
    "identity": (DATA, ("the managed identity is removed: destinations written with it stop receiving data, and "
                        "its role assignments no longer apply")),
}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _full_diffs(desired: Any, current: Any, path: str, key: str | None = None) -> list[FieldDiff]:
    """Like ``_subset_diffs``, but a live field the desired body lacks is a removal (the PUT replaces the whole body)."""
    if isinstance(desired, dict) and isinstance(current, dict):
        out: list[FieldDiff] = []
        for k, v in desired.items():
            if _empty(v) and _empty(current.get(k)):
                continue
            out += _full_diffs(v, current.get(k), f"{path}.{k}", k)
        for k, v in current.items():
            if k not in desired and not _empty(v):
                out.append(FieldDiff(f"{path}.{k}", v, None, SAFE, ""))
        return out
    if _empty(desired) and _empty(current):
        return []
    if current is None:
        return [FieldDiff(path, None, desired)]
    if desired is None:
        return [FieldDiff(path, current, None)]
    return _subset_diffs(desired, current, path, key)


def _identity_diffs(desired: dict, current: dict, what: str) -> list[FieldDiff]:
    diffs = []
    for key in ("location", "kind"):
        if desired.get(key) is not None and not _same(key, desired[key], current.get(key)):
            diffs.append(FieldDiff(key, current.get(key), desired[key], IDENTITY, _recreate(key, what)))
    if desired.get("kind") is None and current.get("kind"):
        # The service refuses a change of kind, so a rule without one is a new rule.
        diffs.append(FieldDiff("kind", current.get("kind"), None, IDENTITY, _recreate("kind", what)))
    return diffs


# ------------------------------------------------------- read-only fields

# What the service adds to a body: readOnly in [SPEC-DCR]/[SPEC-DCE] 2024-03-11 (or objects made only of read-only
# fields: the DCE's endpoint specs, metadata), the ARM envelope (azure-contract.md §1) and a managed identity's
# principal and tenant (ARM common types ManagedServiceIdentity). The whole live body minus these is compared.
_ENVELOPE = ("id", "name", "type", "etag", "systemData")
_READ_ONLY_PROPERTIES = {
    Kind.RULE: ("immutableId", "metadata", "endpoints", "ingestionQuotas", "provisioningState"),
    Kind.ENDPOINT: ("immutableId", "metadata", "provisioningState", "privateLinkScopedResources", "configurationAccess",
                    "logsIngestion", "metricsIngestion", "failoverConfiguration"),
}
_READ_ONLY_DESTINATION = ("workspaceId", "ingestionUri", "accountId")  # LogAnalytics / Adx / MonitoringAccount


def writable(kind: str, body: dict | None) -> dict:
    """``body`` without the fields the service sets (a copy): what a PUT could have sent."""
    if not body:
        return {}
    out = {k: v for k, v in body.items() if k not in _ENVELOPE}
    props = dict(out.get("properties") or {})
    for key in _READ_ONLY_PROPERTIES.get(Kind(kind), ()):
        props.pop(key, None)
    destinations = props.get("destinations")
    if isinstance(destinations, dict):
        props["destinations"] = {
            k: [{f: v for f, v in d.items() if f not in _READ_ONLY_DESTINATION} if isinstance(d, dict) else d
                for d in entries] if isinstance(entries, list) else entries
            for k, entries in destinations.items()}
    if "properties" in out or props:
        out["properties"] = props
    identity = out.get("identity")
    if isinstance(identity, dict):
        identity = {k: v for k, v in identity.items() if k not in ("principalId", "tenantId")}
        users = identity.get("userAssignedIdentities")
        if isinstance(users, dict):
            identity["userAssignedIdentities"] = {k: {} for k in users}  # their principalId/clientId are read-only
        out["identity"] = identity
    return out


def _stream_diffs(want: dict, have: dict) -> list[FieldDiff]:
    diffs = []
    have_ci = {k.lower(): v for k, v in have.items()}
    for stream, decl in want.items():
        path = f"properties.streamDeclarations[{stream}]"
        live = have_ci.get(stream.lower())
        if live is None:
            diffs.append(FieldDiff(path, None, [c.get("name") for c in decl.get("columns", [])]))
            continue
        live_cols = {c.get("name"): c for c in live.get("columns") or []}
        want_names = set()
        for col in decl.get("columns") or []:
            want_names.add(col.get("name"))
            old = live_cols.get(col.get("name"))
            if old is None:
                diffs.append(FieldDiff(f"{path}.columns[{col.get('name')}]", None, col.get("type")))
            elif str(old.get("type", "")).lower() != str(col.get("type", "")).lower():
                diffs.append(FieldDiff(f"{path}.columns[{col.get('name')}].type", old.get("type"), col.get("type"),
                                       SAFE, "senders must send the new type"))
        for name, old in live_cols.items():
            if name not in want_names:
                diffs.append(FieldDiff(f"{path}.columns[{name}]", old.get("type"), None, DATA,
                                       f"field '{name}' of stream '{stream}' will be dropped on ingestion"))
        order_want = [c.get("name") for c in decl.get("columns") or []]
        order_have = [n for n in live_cols if n in want_names]
        if not diffs and order_want != order_have:
            diffs.append(FieldDiff(f"{path}.columns", order_have, order_want))
    want_ci = {k.lower() for k in want}
    for stream in have:
        if stream.lower() not in want_ci:
            diffs.append(FieldDiff(f"properties.streamDeclarations[{stream}]", stream, None, DATA,
                                   f"senders posting to stream '{stream}' will be refused"))
    return diffs


def _flow_diffs(want: list, have: list) -> list[FieldDiff]:
    diffs = []
    for i, flow in enumerate(want):
        live = have[i] if i < len(have) else None
        if live is None:
            diffs.append(FieldDiff(f"properties.dataFlows[{i}]", None, flow))
            continue
        for key, value in flow.items():
            path = f"properties.dataFlows[{i}].{key}"
            if key == "transformKql":
                # No transformKql is the service's `source` (data passes unchanged: azure-contract.md §5.2).
                if str(value or "source").strip() != str(live.get(key) or "source").strip():
                    diffs.append(FieldDiff(path, live.get(key), value))
            else:
                diffs += _full_diffs(value, live.get(key), path, key)
        for key, value in live.items():
            if key not in flow and not _empty(value) and not (key == "transformKql" and str(value).strip() == "source"):
                diffs.append(FieldDiff(f"properties.dataFlows[{i}].{key}", value, None, SAFE,
                                       f"'{key}' of data flow {i + 1} was set outside the scenario: the PUT removes it"))
    for i in range(len(want), len(have)):
        diffs.append(FieldDiff(f"properties.dataFlows[{i}]", have[i], None, DATA,
                               f"data flow to '{have[i].get('outputStream')}' removed: that data stops arriving"))
    return diffs


# ------------------------------------------------------- DCE, role assignments


def diff_endpoint(desired: dict, current: dict) -> list[FieldDiff]:
    current = writable(Kind.ENDPOINT, current)
    diffs = _identity_diffs(desired, current, "data collection endpoint")
    diffs += _envelope_diffs(desired, current)
    return diffs + [_network_access(d) for d in _full_diffs(_props(desired), _props(current), "properties")]


def _network_access(diff: FieldDiff) -> FieldDiff:
    """Public access Enabled -> Disabled: senders outside the private link start failing (azure-contract.md §4)."""
    if (diff.path == "properties.networkAcls.publicNetworkAccess" and str(diff.before).lower() == "enabled"
            and str(diff.after).lower() == "disabled"):
        return FieldDiff(diff.path, diff.before, diff.after, DATA,
                         "public network access is turned off: senders that do not come through the private link are "
                         "refused from now on")
    return diff


def diff_role_assignment(desired: dict, current: dict) -> list[FieldDiff]:
    # The name is uuid5(scope, principal, role), so a difference means someone edited it by hand;
    # role assignments cannot be updated in place (delete and create).
    diffs = _subset_diffs(_props(desired), _props(current), "properties")
    return [FieldDiff(d.path, d.before, d.after, SAFE, "role assignments are recreated to change") for d in diffs]


def diff_scoped_resource(desired: dict, current: dict) -> list[FieldDiff]:
    """A private link scope association. ``linkedResourceId`` cannot be changed (the association is deleted and
    created again); ``kind`` and ``subscriptionLocation`` are filled by the service from the linked resource when
    not sent (privateLinkScopes_API.json examples), so a live value the body lacks is no removal."""
    want, have = _props(desired), _props(current)
    diffs = []
    if not _same("linkedResourceId", want.get("linkedResourceId"), have.get("linkedResourceId")):
        diffs.append(FieldDiff("properties.linkedResourceId", have.get("linkedResourceId"), want.get("linkedResourceId"),
                               IDENTITY, "a scoped resource cannot be pointed at another resource: it is deleted and "
                               "created again"))
    for key, value in want.items():
        if key != "linkedResourceId":  # what a template adds (kind, subscriptionLocation) is compared as written
            diffs += _subset_diffs(value, have.get(key), f"properties.{key}", key)
    return diffs


DIFFERS = {"table": diff_table, "rule": diff_rule, "endpoint": diff_endpoint, "role_assignment": diff_role_assignment,
           "scoped_resource": diff_scoped_resource}


# ------------------------------------------------------- live-only problems


def live_problems(resources, live: LiveState, scenario=None) -> list[Diagnostic]:
    """Everything live state makes impossible, all at once (nothing has been written yet)."""
    file = getattr(scenario, "path", None)
    problems: list[Diagnostic] = []
    if live.workspace is None:
        problems.append(Diagnostic(
            ERROR, "WorkspaceNotFound", f"the workspace {live.workspace_id} does not exist (or the deploying identity "
            "cannot read it)", fix="check the `workspace` id (subscription, resource group, name) and that the "
            "deploying identity has at least Reader on it", file=file, source="azure-contract.md §2"))
    workspace_region = (live.workspace or {}).get("location")
    region = _norm("location", workspace_region)
    migrating = {r.id.lower() for r in resources if r.kind == Kind.MIGRATION}
    for r in resources:
        if _absent(r):
            continue
        where = _where(scenario, r)
        if r.kind in ("rule", "endpoint") and region and _norm("location", r.body.get("location")) != region:
            what = "DCR" if r.kind == "rule" else "DCE"
            problems.append(Diagnostic(
                ERROR, "LocationMismatch", f"{what} '{r.name}' is in '{r.body.get('location')}' but the workspace is "
                f"in '{workspace_region}': the region of the DCR must match the workspace's",
                fix=f"set `location: {workspace_region}` in the scenario (or its environment)",
                file=file, line=where, source="azure-contract.md §5.3 [DOC-LIA] region"))
        if r.kind == "rule":
            problems += _destination_problems(r, live, file, where)
            problems += _azure_table_problems(r, live, file, where)
        if r.kind == Kind.SCOPED_RESOURCE and r.scope and r.scope.lower() in live.resources and live.get(r.scope) is None:
            problems.append(Diagnostic(
                ERROR, "PrivateLinkScopeNotFound", f"private link scope {r.scope} of the endpoint does not exist (or the "
                "deploying identity cannot read it)", fix="create the Azure Monitor private link scope first (this tool "
                "associates the endpoint with it, it does not create scopes), or correct its name or id",
                file=file, line=where, source="privateLinkScopes_API.json 2023-06-01-preview PrivateLinkScopes_Get"))
        if r.kind == Kind.ENDPOINT:
            problems += _unmanaged_scope_links(r, resources, live, file, where)
        if r.kind == "table" and _is_classic(live.get(r.id)) and f"{r.id}/migrate".lower() not in migrating:
            problems.append(Diagnostic(
                ERROR, "ClassicTable", f"table '{r.name}' exists as a classic (Data Collector API) table; "
                "the Logs Ingestion API needs a DCR-based table",
                fix=f"run `provision migrate --table {r.name}` (a scenario that migrates it in place and accepts the "
                "old senders' JSON), or say `migrate: true` on the table; or migrate it first (POST "
                f"…/tables/{r.name}/migrate, or 'Migrate to manual schema management' in the portal), or use a new "
                "table name",
                file=file, line=where, source="azure-contract.md §3 (tableSubType, migrate)"))
    for publisher in live.missing_publishers:
        object_id = getattr(publisher, "object_id", None)
        group_id = getattr(publisher, "group_id", None)
        if group_id and not object_id:
            message = f"publisher group_id {group_id} is not a group in this tenant"
            fix = ("give the object id of an Entra group (Groups in the Entra admin center, or `az ad group show "
                   "--group <name> --query id`), or give `object_id:` / `app_id:` for a service principal")
        elif object_id:
            message = f"publisher object_id {object_id} is not a service principal in this tenant"
            fix = ("give the object id of the app's service principal (Enterprise applications, or `az ad sp show "
                   "--id <app id> --query id`), not the app registration's object id, or give `app_id:` instead")
        else:
            message = f"publisher app_id {getattr(publisher, 'app_id', publisher)} has no service principal in this tenant"
            fix = ("check the app id (an app registration's Application (client) ID) or give `object_id:` of its "
                   "service principal instead")
        problems.append(Diagnostic(ERROR, "PublisherNotFound", message, fix=fix, file=file,
                                   line=getattr(publisher, "line", None),
                                   source="azure-contract.md §6.1 PrincipalNotFound; Graph 404 Request_ResourceNotFound"))
    return problems


def _unmanaged_scope_links(endpoint, resources, live: LiveState, file, line) -> list[Diagnostic]:
    """The live DCE's private link scope associations that the scenario does not list: kept as they are (they are
    resources of their own), and said, so that a reviewer knows the endpoint is reachable through them."""
    listed = {r.id.lower() for r in resources if r.kind == Kind.SCOPED_RESOURCE}
    problems = []
    for entry in _props(live.get(endpoint.id)).get("privateLinkScopedResources") or []:
        scoped = str((entry or {}).get("resourceId") or "")
        if scoped and scoped.lower() not in listed:
            scope = ids.scope_of_scoped_resource(scoped)[0].rsplit("/", 1)[-1]
            problems.append(Diagnostic(
                WARNING, "ScopeLinkNotInScenario", f"endpoint '{endpoint.name}' is also associated with private link scope "
                f"'{scope}' ({scoped}), which the scenario does not list: it is kept as it is",
                fix="list it under the endpoint's private_link_scopes to manage it (`provision import` writes it), or mark "
                "it `ensure: absent` there to remove it", file=file, line=line,
                source="azure-contract.md §4 (privateLinkScopedResources, read-only on the DCE)"))
    return problems


def _is_classic(body: dict | None) -> bool:
    return str((_props(body).get("schema") or {}).get("tableSubType") or "").lower() == "classic"


def unfilled_columns(resources, changes: list[Change], scenario=None) -> list[Diagnostic]:
    """Warnings for new table columns that no flow writing to the table fills: they would stay empty.

    A flow fills a column when its output has it: the stream's columns for ``source``, else the output schema
    the KQL checker computes (a flow whose output cannot be inferred is assumed to fill it)."""
    from provision import kql

    added: dict[str, list[str]] = {}
    for change in changes:
        if change.kind == Kind.TABLE and change.action == UPDATE:
            names = [d.path[len("properties.schema.columns["):-1] for d in change.diffs
                     if d.op == "add" and d.path.startswith("properties.schema.columns[") and d.path.endswith("]")]
            if names:
                added[change.name] = names
    problems: list[Diagnostic] = []
    for table, columns in added.items():
        outputs: list[set[str] | None] = []
        for r in resources:
            if r.kind != Kind.RULE or _absent(r):
                continue
            props = _props(r.body)
            declared = props.get("streamDeclarations") or {}
            for flow in props.get("dataFlows") or []:
                if str(flow.get("outputStream") or "") not in (f"Custom-{table}", f"Microsoft-{table}"):
                    continue
                stream_columns = [(c.get("name"), c.get("type")) for s in flow.get("streams") or []
                                  for c in (declared.get(s) or {}).get("columns") or []]
                transform = str(flow.get("transformKql") or "source").strip()
                if transform == "source":
                    outputs.append({str(n) for n, _ in stream_columns})
                else:
                    result = kql.check_transform(transform, stream_columns, None, custom_table=table.endswith("_CL"))
                    outputs.append(None if result.output_columns is None else {n for n, _ in result.output_columns})
        if not outputs or any(o is None for o in outputs):
            continue
        for column in columns:
            if not any(column in o for o in outputs if o is not None):
                problems.append(Diagnostic(
                    WARNING, "NewColumnNotFilled", f"new column '{column}' of table '{table}' is filled by no flow: it will "
                    "stay empty", fix=f"add '{column}' to the stream the flow reads (or set it in the transform)",
                    file=getattr(scenario, "path", None), source="azure-contract.md §5.2 (the transform output fills the table)"))
    return problems


def _azure_table_problems(rule, live: LiveState, file, line) -> list[Diagnostic]:
    """A flow to ``Microsoft-<Table>`` needs that table in the workspace; Azure creates it only with the solution that
    brings it (CommonSecurityLog and SecurityEvent come with Microsoft Sentinel), and the DCR PUT is refused
    with InvalidOutputTable otherwise (azure-contract.md §5.3)."""
    problems = []
    props = _props(rule.body)
    workspaces = {str(d.get("name", "")).lower(): str(d.get("workspaceResourceId") or live.workspace_id)
                  for d in (props.get("destinations") or {}).get("logAnalytics") or [] if isinstance(d, dict)}
    seen = set()
    for flow in props.get("dataFlows") or []:
        output = str(flow.get("outputStream") or "")
        if not output.startswith("Microsoft-"):
            continue
        table = output[len("Microsoft-"):]
        for name in flow.get("destinations") or []:
            workspace = workspaces.get(str(name).lower())
            key = f"{workspace}/tables/{table}".lower()
            if not workspace or key in seen or key not in live.resources or live.resources[key] is not None:
                continue  # not read, or it exists
            seen.add(key)
            problems.append(Diagnostic(
                ERROR, "AzureTableMissing", f"DCR '{rule.name}' sends to table {table} (stream {output}), which does not "
                f"exist in workspace {workspace.rsplit('/', 1)[-1]}", fix=f"enable the solution that brings {table} in that "
                "workspace first (CommonSecurityLog, SecurityEvent and the ASim tables come with Microsoft Sentinel)",
                file=file, line=line, source="azure-contract.md §5.3 InvalidOutputTable; [DOC-LIA] §Supported tables"))
    return problems


def _destination_problems(rule, live: LiveState, file, line) -> list[Diagnostic]:
    """Each Log Analytics destination besides the scenario's workspace must exist and be in the rule's region."""
    problems = []
    region = _norm("location", rule.body.get("location"))
    for entry in (_props(rule.body).get("destinations") or {}).get("logAnalytics") or []:
        workspace_id = str((entry or {}).get("workspaceResourceId") or "")
        if not workspace_id or workspace_id.lower() == live.workspace_id.lower():
            continue
        if workspace_id.lower() not in live.resources:
            continue  # not read (a plan built without live reads of destinations)
        body = live.get(workspace_id)
        name = entry.get("name")
        if body is None:
            problems.append(Diagnostic(
                ERROR, "WorkspaceNotFound", f"workspace {workspace_id} of destination '{name}' of DCR '{rule.name}' does not exist "
                "(or the deploying identity cannot read it)", fix="check the destination's workspace id and that the deploying "
                "identity has at least Reader on it", file=file, line=line, source="azure-contract.md §2"))
        elif region and _norm("location", body.get("location")) != region:
            problems.append(Diagnostic(
                ERROR, "LocationMismatch", f"DCR '{rule.name}' is in '{rule.body.get('location')}' but workspace "
                f"'{workspace_id.rsplit('/', 1)[-1]}' of its destination '{name}' is in '{body.get('location')}': the region of "
                "the DCR must match each workspace's", fix="give that workspace its own rule in its region",
                file=file, line=line, source="azure-contract.md §5.3 [DOC-LIA] region"))
    return problems


def _where(scenario, resource) -> int | None:
    if scenario is None:
        return None
    group = {"table": "tables", "migration": "tables", "rule": "rules"}.get(resource.kind)
    if group:
        item = getattr(scenario, group, {}).get(resource.name)
        return getattr(item, "line", None)
    if resource.kind == "endpoint" and scenario.endpoint is not None:
        return scenario.endpoint.line
    if resource.kind == Kind.SCOPED_RESOURCE and scenario.endpoint is not None:
        endpoint = scenario.endpoint
        for link in endpoint.private_link_scopes:
            _scope, rid = ids.scope_link_ids(scenario.subscription, scenario.resource_group, endpoint.name, link.scope,
                                             link.name)
            if rid.lower() == resource.id.lower():
                return link.line
        return endpoint.line
    return None
