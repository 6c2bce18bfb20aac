"""`provision migrate`, the pure part: a classic (Data Collector API) table, as the Tables API returns it, ->
a scenario that migrates it in place and accepts the old senders' JSON, and the sender guide.

The scenario keeps every column of the table (so the plan drops nothing and the rows stay), says
``migrate: true`` (the plan's ``migrate`` change, run before anything writes to the table), and adds one DCR per
table whose stream declares the fields as the old sender posts them: the names without their type suffix
(``Computer`` for ``Computer_s``) and the types the Data Collector API gave them (``_s`` string, ``_b`` boolean,
``_d`` real, ``_t`` datetime, ``_g`` a GUID string; learn.microsoft.com azure-monitor/logs/data-collector-api,
"Record type and properties"). Its transform maps each field onto its suffixed column, so saved queries and
alerts keep working. Microsoft's migration guide (custom-logs-migrate.md) is followed: the table is migrated,
never deleted and recreated (AzLogDcrIngestPS's way when a type changes), and no column changes type.

No network: ``provision/cli/migrate.py`` reads the tables and the workspace and prints the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from provision.errors import ProvisionError
from provision.kql.keywords import RESERVED as KQL_RESERVED

# Type suffix -> the table types a Data Collector API column of that suffix may have (GUIDs: "stored as a
# string" in the documentation, guid in tables the emulator and newer workspaces show).
SUFFIXES = {"_s": ("string",), "_b": ("boolean",), "_d": ("real",), "_t": ("datetime",), "_g": ("guid", "string")}
# Table type -> the stream type a sender's JSON value of that column has (DCR spellings).
STREAM_TYPES = {"string": "string", "int": "int", "long": "long", "real": "real", "boolean": "boolean",
                "datetime": "datetime", "guid": "string", "dynamic": "dynamic"}
_DCR_NAME = re.compile(r"[^a-z0-9-]+")
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _kql_name(name: str) -> str:
    """A column name as the transform must write it: ['name'] for Kusto keywords (a field 'date' from a column
    'date_t') and names that are not bare identifiers (provision/kql/keywords.py)."""
    return name if _BARE.match(name) and name not in KQL_RESERVED else "['" + name.replace("'", "\\'") + "']"


class MigrateError(ProvisionError):
    """A table that cannot be migrated (missing, DCR-based already, an Azure table) or a bad option."""


@dataclass
class Field:
    """One field of the old sender's JSON and the column it lands in."""

    name: str  # as the sender posts it
    stream_type: str
    column: str  # the existing table column
    column_type: str


@dataclass
class TablePlan:
    name: str
    columns: list[tuple[str, str]]  # every column of the table, as it is (name, table type)
    fields: list[Field]
    stream: str
    rule: str
    transform: str
    warnings: list[str] = field(default_factory=list)


def check_classic(name: str, body: dict | None, workspace: str) -> dict:
    """The schema of a classic custom table, or a ``MigrateError`` naming what the table is instead."""
    if body is None:
        raise MigrateError(f"table '{name}' does not exist in workspace {workspace}",
                           hint="check the name (classic tables end in _CL, e.g. MyApp_CL) and the workspace")
    schema = (body.get("properties") or {}).get("schema") or {}
    table_type = str(schema.get("tableType") or "")
    if not name.endswith("_CL") or table_type.lower() == "microsoft":
        raise MigrateError(f"table '{name}' is an Azure table (tableType {table_type or 'Microsoft'}), not a classic "
                           "custom table: only custom '_CL' tables that the Data Collector API created are migrated",
                           hint="send to an Azure table through a DCR (`provision infer` or a scenario), without migrating")
    sub_type = str(schema.get("tableSubType") or "")
    if sub_type.lower() != "classic":
        raise MigrateError(f"table '{name}' is not a classic table: its tableSubType is {sub_type or 'unknown'}, so it "
                           "takes Logs Ingestion API data already and there is nothing to migrate",
                           hint="describe it in a scenario without `migrate: true` (e.g. with `provision import`)")
    return schema


def plan_table(name: str, schema: dict, time_field: str | None) -> TablePlan:
    """Stream fields and transform for one classic table (``schema``: the Tables API's ``properties.schema``)."""
    columns = [(str(c["name"]), str(c.get("type", "string"))) for c in schema.get("columns") or []]
    warnings: list[str] = []
    fields: list[Field] = []
    seen: dict[str, str] = {}
    for column, ctype in columns:
        if column == "TimeGenerated":
            continue
        low = ctype.lower()
        base = column[:-2] if column[-2:] in SUFFIXES and low in SUFFIXES[column[-2:]] else column
        if base in seen:
            warnings.append(f"column '{column}' keeps its rows but the new stream does not feed it: the old API also "
                            f"saw '{base}' as another type ({seen[base]} gets it); send such values through a field "
                            "of its own")
            continue
        seen[base] = column
        stream_type = STREAM_TYPES.get(low)
        if stream_type is None:
            warnings.append(f"column '{column}' has type '{ctype}', which a stream cannot declare: it is not fed")
            continue
        fields.append(Field(base, stream_type, column, low))
    names = {f.name for f in fields}
    steps = []
    if time_field is not None:
        source = next((f for f in fields if f.name == time_field or f.column == time_field), None)
        if source is None:
            raise MigrateError(f"--time-field {time_field}: table '{name}' has no column for that field",
                               hint="name the field the old sender gave in its time-generated-field header (e.g. "
                                    f"'When' for a column 'When_t'); fields: {', '.join(sorted(names)) or '(none)'}")
        value = _kql_name(source.name) if source.stream_type == "datetime" else f"todatetime({_kql_name(source.name)})"
        steps.append(f"TimeGenerated = {value}")
    else:
        steps.append("TimeGenerated = now()")
        warnings.append("TimeGenerated is the time the Logs Ingestion API receives each record (now()), as the Data "
                        "Collector API did without a time-generated-field header; if the old sender set that header, "
                        "re-run with --time-field FIELD so that TimeGenerated keeps coming from that field")
    for f in fields:
        if f.name == f.column:
            continue  # a column without a type suffix: the field arrives under its own name
        column, value = _kql_name(f.column), _kql_name(f.name)
        steps.append(f"{column} = toguid({value})" if f.column_type == "guid" else f"{column} = {value}")
    renamed = [_kql_name(f.name) for f in fields if f.name != f.column]
    transform = "source | extend " + ", ".join(steps)
    if renamed:
        transform += " | project-away " + ", ".join(renamed)
    base_name = name.removesuffix("_CL")
    rule = "dcr-" + (_DCR_NAME.sub("-", base_name.lower()).strip("-") or "migrated") + "-migrated"
    return TablePlan(name, columns, fields, f"Custom-{base_name}", rule[:64], transform, warnings)


def _q(text: str) -> str:
    """A YAML scalar: JSON quoting, which YAML reads as is."""
    return json.dumps(text)


def scenario_text(plans: list[TablePlan], workspace_id: str, location: str, resource_group: str) -> str:
    """The scenario file (YAML, with comments saying what was derived and what to check)."""
    names = ", ".join(p.name for p in plans)
    out = [
        f"# Written by `provision migrate` for {names}: migrates the classic (Data Collector API) table(s) in place",
        "# (no delete, no recreate: columns and rows stay) and adds a DCR whose stream takes the JSON the old sender",
        "# posts, mapped onto the existing suffixed columns, so saved queries and alerts keep working.",
        "# Next: add the sending identity under `publishers:`, then `provision plan` / `provision apply` this file;",
        "# docs/migrate.md says what changes in the sender.",
        f"name: migrate-{plans[0].rule.removeprefix('dcr-').removesuffix('-migrated')}",
        f"location: {location}",
        f"workspace: {workspace_id}",
        f"resource_group: {resource_group}",
        "",
        "tables:",
    ]
    for p in plans:
        out += [f"  {p.name}:", "    migrate: true  # POST .../tables/" + p.name + "/migrate before anything writes to it",
                "    columns:  # as the table has them (none changes type; none is dropped)"]
        out += [f"      {c}: {t}" for c, t in p.columns]
    out += ["", "rules:"]
    for p in plans:
        out += [f"  {p.rule}:", f"    description: {_q('The old Data Collector API JSON into ' + p.name)}", "    streams:",
                f"      {p.stream}:  # the fields as the old sender posts them"]
        out += [f"        {f.name}: {f.stream_type}" for f in p.fields]
        for warning in p.warnings:
            out.append(f"    # note: {warning}")
        out += ["    flows:", f"      - stream: {p.stream}", f"        table: {p.name}", f"        transform: {_q(p.transform)}"]
    out += ["", "# publishers:  # the identity (app registration) the new sender signs in as",
            "#   - app_id: 00000000-0000-0000-0000-000000000000", ""]
    return "\n".join(out)


def sender_guide(plans: list[TablePlan], scenario_file: str) -> str:
    """What changes in the sender, what stays, and how to run both during the cut-over (printed at the end)."""
    lines = [
        "Sender guide (docs/migrate.md has the long form):",
        f"  1. Add the new sender's identity under `publishers:` in {scenario_file}, then `provision apply {scenario_file}`.",
        f"  2. `provision outputs {scenario_file}` prints, per DCR, the ingestion endpoint, the immutable ID and the stream.",
        "  3. In the sender, change only how it posts:",
        "     - endpoint: POST {endpoint}/dataCollectionRules/{immutable ID}/streams/{stream}?api-version=2023-01-01",
        "       instead of https://<workspace id>.ods.opinsights.azure.com/api/logs;",
        "     - auth: an Entra ID token for the https://monitor.azure.com audience (.us / .cn in other clouds), with",
        "       Monitoring Metrics Publisher on the DCR, instead of the SharedKey signature and workspace key;",
        "     - drop the Log-Type, x-ms-date and time-generated-field headers; at most 1 MB per call (was 30 MB).",
        "  4. What stays: the body is the same JSON array, field names without suffixes; the table, its rows and its",
        "     column names (so saved queries and alerts keep working).",
        "  5. Cut-over: the old sender may keep posting while the new one starts (the Data Collector API keeps",
        "     writing the existing columns of a migrated table, never new ones); switch senders one at a time and",
        "     retire the workspace key when none uses it (POST .../regenerateSharedKey).",
    ]
    for p in plans:
        lines.append(f"  {p.name}: stream {p.stream} of DCR {p.rule}; fields: "
                     + ", ".join(f"{f.name} ({f.stream_type}) -> {f.column}" for f in p.fields))
        lines += [f"  ! {w}" for w in p.warnings]
    return "\n".join(lines)
