"""Offline rules on a loaded ``Scenario``: every rule Azure would enforce at deploy time, checked before any call.

Each rule has a code (the ``Diagnostic.code``) and cites its source in
``shared/reference/azure-contract.md`` (which in turn cites the Azure specs and
docs). Rules never stop at the first problem: ``check_scenario`` returns them all.
Pure: no network, no Azure SDK. Transforms other than ``source`` go to
``provision.kql.check_transform``; its line/column are shifted into the file.
"""

from __future__ import annotations

import re
from dataclasses import replace

from provision import ids, kql
from provision.diagnostics import ERROR, WARNING, Diagnostic
from provision.scenario import tables as catalogue
from provision.scenario.features import check_features
from provision.scenario.load import PLANS, derived_stream_name
from provision.scenario.model import ABSENT, Flow, Rule, Scenario, Table
from provision.scenario.names import BAD_NAME_CHARS, check_names
from provision.scenario.positions import place_in_file
from provision.scenario.types import STREAM_TYPES, TABLE_TYPES, alias_hint, close_type, source_fits

SRC_TABLE_NAME = "azure-contract.md §3.2 [DOC-TABLE] (custom tables end in _CL; tableName 4-63 chars)"
SRC_SUPPORTED = "azure-contract.md §5.2 / reference/azure-tables.json ([DOC-LIA] §Supported tables)"
SRC_COLUMN_NAME = "azure-contract.md §3.2 [DOC-TABLE] §Add or delete a custom column"
SRC_RESERVED = "azure-contract.md §3.2 [DOC-TABLE] reserved column names"
SRC_TABLE_TYPES = "azure-contract.md §3.1 [SPEC-TBL25-07] Column.type"
SRC_STREAM_TYPES = "azure-contract.md §5.2 [SPEC-DCR] ColumnDefinition.type"
SRC_TIMEGENERATED = "azure-contract.md §3.2 [DOC-TABLE] (TimeGenerated is mandatory in every table)"
SRC_MAX_COLUMNS = "azure-contract.md §8 [DOC-WSLIM] (max 500 columns per table)"
SRC_RETENTION = "azure-contract.md §3.1 [SPEC-TBL25-07] retentionInDays / totalRetentionInDays"
SRC_PLAN = "azure-contract.md §3.1 [SPEC-TBL25-07] plan"
SRC_AZURE_DELETE = "azure-contract.md §3.2 [DOC-TABLE] (you can't delete Azure tables)"
SRC_STREAM_NAME = "azure-contract.md §5.2 [DOC-DCR-STRUCT] §Stream declarations (must begin with Custom-)"
SRC_DCR_LIMITS = "azure-contract.md §8 [DOC-LIMITS-DCR]"
SRC_DATAFLOW = "azure-contract.md §5.2 [DOC-DCR-STRUCT] §Data flows"
SRC_AUXILIARY = "azure-contract.md §3.2 [DOC-TABLE] Auxiliary plan limitations (issue #2: no transform, one table per DCR)"
SRC_AUXILIARY_TRANSFORM = ("azure-contract.md §9 [DOC-TRANSFORM] (custom tables with the Auxiliary plan support transformations) and §8 "
                           "[DOC-LIMITS-LIA] (Auxiliary: 30-minute TimeGenerated range per call when TimeGenerated is not transformed)")
SRC_DESCRIPTION = "azure-contract.md §5.2 (observed: description at most 256 characters)"
SRC_PRINCIPAL = "azure-contract.md §6.1 [SPEC-RA] principalId; [DOC-LIA] §Configuration"
SRC_KQL = "azure-contract.md §9 [DOC-KQL]"
SRC_RESOURCE_NAME = "azure-contract.md §1 (resource names are path segments of the ARM URL; limits there are the RPs')"

MAX_COLUMNS = 500
MAX_FLOWS = 10
MAX_STREAMS = 10
MAX_TRANSFORM = kql.MAX_QUERY_LENGTH
RETENTION = (4, 730)
TOTAL_RETENTION = (4, 4383)
RESERVED_COLUMNS = ("id", "BilledSize", "IsBillable", "InvalidTimeGenerated", "TenantId", "Title", "Type", "UniqueId", "_ItemId", "_ResourceGroup", "_ResourceId", "_SubscriptionId", "_TimeReceived")

COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,44}$")  # start with a letter, 2-45 chars ([DOC-TABLE])
CUSTOM_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}_CL$")  # 4-63 chars with the suffix
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_scenario(scenario: Scenario, kql_profile: str | None = None) -> list[Diagnostic]:
    """Every offline rule, in file order as far as practical.

    ``kql_profile``: ``strict`` (only the documented KQL) or ``compat`` (the default: also
    what the service is known to accept), passed to ``kql.check_transform``.
    """
    out = _Out(scenario.path, scenario.source_lines)
    out.kql_profile = kql_profile
    out.misspelt = scenario.misspelt
    check_scenario_name(scenario, out)
    check_names(scenario, out.error)
    for table in scenario.tables.values():
        check_table(table, out)
    for rule in scenario.rules.values():
        check_rule(rule, scenario, out)
    if scenario.endpoint is not None:
        check_resource_name("endpoint (DCE)", scenario.endpoint.name, scenario.endpoint.line, out)
    check_publishers(scenario, out)
    check_features(scenario, out.error, out.warning)
    check_output_names(scenario, out)
    return out.items


class _Out:
    """Collects diagnostics for one file."""

    def __init__(self, file: str, source_lines: tuple[str, ...] = ()):
        self.file = file
        self.source_lines = source_lines  # the file's text as the loader read it (KQL positions point into it)
        self.items: list[Diagnostic] = []
        self.kql_profile: str | None = None
        self.misspelt: frozenset[str] = frozenset()  # keys an UnknownKey probably meant (Scenario.misspelt)

    def error(self, code, message, line, fix, source):
        self.items.append(Diagnostic(ERROR, code, message, fix=fix, file=self.file, line=line, source=source))

    def warning(self, code, message, line, fix, source):
        self.items.append(Diagnostic(WARNING, code, message, fix=fix, file=self.file, line=line, source=source))


SCENARIO_NAME = re.compile(r"^[\w][\w.()-]{0,63}$")


def check_scenario_name(scenario: Scenario, out: _Out) -> None:
    """The scenario name names files the tool writes (``<name>.deployment.json``): no path separators or leading dot."""
    if not SCENARIO_NAME.match(scenario.name):
        out.error("ScenarioName", f"scenario name '{scenario.name[:80]}' cannot be used as a file name", scenario.lines.get("name"),
                  "use 1-64 letters, digits, '-', '_', '.', '(' or ')', starting with a letter or digit", "README.md §Scenario file (name)")


# -- tables -------------------------------------------------------------------------------------

def check_table(table: Table, out: _Out) -> None:
    line = table.line
    if table.is_custom:
        if not CUSTOM_TABLE_NAME.match(table.name):
            out.error("TableName", f"custom table name '{table.name}' is not valid", line,
                      "start with a letter, use only letters, digits and '_', end with _CL, 4-63 characters in all", SRC_TABLE_NAME)
    elif not catalogue.is_supported_azure_table(table.name):
        close = catalogue.closest_azure_table(table.name)
        slip = custom_suffix_slip(table.name)
        if close and close.lower() == table.name.lower():
            fix = f"did you mean the Azure table '{close}'?"
        elif slip:
            fix = f"did you mean '{slip}'? Custom table names end in '_CL', upper case"
        elif close:
            fix = f"did you mean the Azure table '{close}'?"
        else:
            fix = f"name a custom table '{table.name}_CL', or use one of the Azure tables the Logs Ingestion API supports"
        out.error("TableNotSupported", f"table '{table.name}' does not end in _CL and is not an Azure table the Logs Ingestion API supports", line, fix, SRC_SUPPORTED)
    if table.ensure == ABSENT:
        if not table.is_custom:
            out.error("AzureTableDelete", f"Azure table '{table.name}' cannot be removed (ensure: absent)", table.lines.get("ensure", line),
                      "remove its _CF columns from 'columns' instead, or drop the table from the file", SRC_AZURE_DELETE)
        return
    _check_plan_and_retention(table, out)
    _check_columns(table, out)


def _check_plan_and_retention(table: Table, out: _Out) -> None:
    lines = table.lines
    if table.plan is not None:
        if not table.is_custom and catalogue.is_supported_azure_table(table.name):
            # (a name that is neither _CL nor an Azure table is one TableNotSupported, not also "an Azure table")
            out.error("PlanOnAzureTable", f"'plan' is for custom (_CL) tables; '{table.name}' is an Azure table", lines.get("plan", table.line),
                      "remove 'plan' from this table", SRC_PLAN)
        elif table.plan not in PLANS:
            out.error("PlanValue", f"plan '{table.plan}' is not one of {', '.join(PLANS)}", lines.get("plan", table.line), "write Analytics, Basic or Auxiliary", SRC_PLAN)
    for key, value, (low, high) in (("retention_days", table.retention_days, RETENTION), ("total_retention_days", table.total_retention_days, TOTAL_RETENTION)):
        if value is not None and value != -1 and not low <= value <= high:
            out.error("RetentionRange", f"{key} {value} is outside {low}-{high} (or -1 for the workspace default)", lines.get(key, table.line),
                      f"use a value between {low} and {high}, or -1", SRC_RETENTION)
    if table.retention_days is not None and table.plan in ("Basic", "Auxiliary"):
        out.error("RetentionReadOnly", f"retention_days is read-only for {table.plan} tables", lines.get("retention_days", table.line),
                  "remove retention_days; set total_retention_days for how long data is kept", SRC_RETENTION + " (read only for Basic and Auxiliary)")
    r, t = table.retention_days, table.total_retention_days
    if r is not None and t is not None and r > 0 and t > 0 and t < r:
        out.error("RetentionTotalBelowInteractive", f"total_retention_days {t} is less than retention_days {r}", lines.get("total_retention_days", table.line),
                  "total retention includes the interactive period: make it at least retention_days", SRC_RETENTION + " (archiveRetentionInDays = total - interactive)")


def _check_columns(table: Table, out: _Out) -> None:
    seen: dict[str, str] = {}
    for column in table.columns:
        name, line = column.name, column.line or table.line
        if not COLUMN_NAME.match(name):
            out.error("ColumnName", f"column name '{name}' in table '{table.name}' is not valid", line,
                      "start with a letter; then letters, digits or '_' only (ASCII); 2-45 characters", SRC_COLUMN_NAME)
        if name in RESERVED_COLUMNS:
            out.error("ColumnReserved", f"column name '{name}' is reserved in Log Analytics", line, f"rename it, e.g. '{name.lstrip('_')}Value'", SRC_RESERVED)
        elif name.lower() in {r.lower() for r in RESERVED_COLUMNS}:
            out.warning("ColumnReservedCase", f"column name '{name}' differs only by case from a reserved name", line, "rename it to avoid a clash", SRC_RESERVED)
        if not table.is_custom and not name.endswith("_CF") and catalogue.is_supported_azure_table(table.name):
            out.error("ColumnNeedsCF", f"column '{name}' added to Azure table '{table.name}' must end in _CF", line, f"rename it to '{name}_CF'", SRC_COLUMN_NAME)
        lowered = name.lower()
        if lowered in seen:
            message = f"columns '{seen[lowered]}' and '{name}' in table '{table.name}' differ only by case"
            if table.plan == "Auxiliary":
                out.error("ColumnCaseClash", message + " (Auxiliary tables drop such data)", line, "rename one of them", SRC_COLUMN_NAME)
            else:
                out.warning("ColumnCaseClash", message, line, "rename one of them: queries and Auxiliary tables treat them as the same", SRC_COLUMN_NAME)
        seen.setdefault(lowered, name)
        if column.type not in TABLE_TYPES:
            fix = _type_fix(column.type, TABLE_TYPES)
            out.error("ColumnType", f"column '{name}' has unknown type '{column.type}'", line, fix, SRC_TABLE_TYPES)
    if table.is_custom:
        time = next((c for c in table.columns if c.name == "TimeGenerated"), None)
        if time is None and f"tables.{table.name}.columns" in out.misspelt:
            pass  # 'colums:' is one UnknownKey ("did you mean 'columns'?"), not also a table without columns
        elif time is None:
            out.error("MissingTimeGenerated", f"custom table '{table.name}' has no TimeGenerated column", table.lines.get("columns", table.line),
                      "add 'TimeGenerated: datetime' to its columns (and set it in the transform if the data has another time field)", SRC_TIMEGENERATED)
        elif time.type != "dateTime":
            out.error("TimeGeneratedType", f"TimeGenerated in '{table.name}' must be datetime, not {time.type}", time.line, "write 'TimeGenerated: datetime'", SRC_TIMEGENERATED)
    if len(table.columns) > MAX_COLUMNS:
        out.error("TooManyColumns", f"table '{table.name}' has {len(table.columns)} columns; the limit is {MAX_COLUMNS}", table.lines.get("columns", table.line),
                  "split the data over several tables or use a dynamic column", SRC_MAX_COLUMNS)


# -- rules (DCRs) -------------------------------------------------------------------------------

def check_resource_name(kind: str, name: str, line, out: _Out) -> None:
    """DCR/DCE names become ARM id path segments: characters that break a URL path are refused."""
    if not name or len(name) > 64 or BAD_NAME_CHARS.search(name):
        out.error("ResourceName", f"{kind} name '{name}' cannot be used in an ARM resource id", line,
                  "use 1-64 letters, digits, '-', '_' or '.'", SRC_RESOURCE_NAME)


def check_rule(rule: Rule, scenario: Scenario, out: _Out) -> None:
    check_resource_name("rule (DCR)", rule.name, rule.line, out)
    if rule.ensure == ABSENT:
        return
    if len(rule.description) > 256:
        out.warning("DescriptionLength", f"description of rule '{rule.name}' is {len(rule.description)} characters; ARM rejects more than 256", rule.lines.get("description", rule.line),
                    "shorten it", SRC_DESCRIPTION)
    flows_misspelt = any(m == f"rules.{rule.name}.flows" or m.startswith(f"rules.{rule.name}.flows[") for m in out.misspelt)
    if not rule.flows and not flows_misspelt:  # ('flws:' or a flow's 'tabel:' is its UnknownKey already)
        out.error("RuleNoFlows", f"rule '{rule.name}' has no flows", rule.lines.get("flows", rule.line), "add 'flows: [{table: <Table>_CL}]'", SRC_DATAFLOW)
    for stream, columns in rule.streams.items():
        _check_stream(rule, stream, columns, out)
    if len(rule.streams) > MAX_STREAMS:
        out.error("TooManyStreams", f"rule '{rule.name}' declares {len(rule.streams)} streams; the limit is {MAX_STREAMS}", rule.lines.get("streams", rule.line),
                  "split it into several rules", SRC_DCR_LIMITS)
    if len(rule.flows) > MAX_FLOWS:
        out.error("TooManyDataFlows", f"rule '{rule.name}' has {len(rule.flows)} data flows; the limit is {MAX_FLOWS}", rule.lines.get("flows", rule.line),
                  "split it into several rules", SRC_DCR_LIMITS)
    for flow in rule.flows:
        _check_flow(rule, flow, scenario, out)
    _check_duplicate_flows(rule, out)
    _check_auxiliary_single_table(rule, scenario, out)


def _check_duplicate_flows(rule: Rule, out: _Out) -> None:
    """The same streams, table and transform twice: every record would be stored twice.

    [DOC-DCR-STRUCT] §Data flows allows several flows for one stream to *different* tables
    (azure-contract.md §5.2); an exact copy is always a mistake, so it is a warning.
    """
    seen: dict[tuple, int] = {}
    for flow in rule.flows:
        key = (tuple(sorted(flow.streams)), flow.table, " ".join(flow.transform.split()))
        if key in seen:
            out.warning("DuplicateFlow", f"flow {flow.index + 1} of rule '{rule.name}' repeats flow {seen[key] + 1} (same streams, table and transform): every record would be ingested twice",
                        flow.line or rule.line, f"remove flow {flow.index + 1}", SRC_DATAFLOW + " (several flows per stream are for different tables)")
        else:
            seen[key] = flow.index


def _check_stream(rule: Rule, stream: str, columns, out: _Out) -> None:
    line = rule.lines.get(f"stream:{stream}", rule.line)
    if not stream.startswith("Custom-"):
        out.error("StreamName", f"stream '{stream}' in rule '{rule.name}' must begin with 'Custom-'", line, f"rename it 'Custom-{stream}'", SRC_STREAM_NAME)
    elif BAD_NAME_CHARS.search(stream) or ".." in stream:
        # the stream name is a path segment of the ingestion URL (.../streams/{stream}), azure-contract.md §7
        out.error("StreamName", f"stream '{stream}' in rule '{rule.name}' cannot be a segment of the ingestion URL", line,
                  "use letters, digits, '-', '_' or '.' after 'Custom-'", SRC_STREAM_NAME)
    if not columns and stream not in rule.derived_streams:
        out.error("StreamEmpty", f"stream '{stream}' declares no columns", line, "list the columns the sender posts, e.g. 'Time: datetime'", SRC_STREAM_NAME)
    for column in columns:  # (a column listed twice is a DuplicateKey in the YAML already)
        if column.type == "guid":
            out.error("StreamTypeGuid", f"stream column '{column.name}' is declared guid, which is not a stream type", column.line or line,
                      f"declare it 'string' and convert it in the transform: 'extend {column.name} = toguid({column.name})'", SRC_STREAM_TYPES)
        elif column.type not in STREAM_TYPES:
            fix = _type_fix(column.type, STREAM_TYPES)
            out.error("StreamType", f"stream column '{column.name}' has unknown type '{column.type}'", column.line or line, fix, SRC_STREAM_TYPES)


def _flow_table_columns(flow: Flow, scenario: Scenario) -> list[tuple[str, str]] | None:
    """The destination's writable columns (table spellings), or None when unknown."""
    table = scenario.tables.get(flow.table)
    if flow.table.endswith("_CL"):
        return None if table is None else [(c.name, c.type) for c in table.columns]
    base = catalogue.azure_table_ingestible_columns(flow.table)
    if base is None:
        return None
    extra = [(c.name, c.type) for c in table.columns] if table else []
    return base + extra


def _check_flow(rule: Rule, flow: Flow, scenario: Scenario, out: _Out) -> None:
    label = f"flow {flow.index + 1} of rule '{rule.name}'"
    line = flow.line or rule.line
    table = scenario.tables.get(flow.table)
    table_known = table is not None or catalogue.is_supported_azure_table(flow.table)
    if not table_known:
        if flow.table.endswith("_CL"):
            fix = f"declare '{flow.table}' under 'tables:'"
        else:
            close = catalogue.closest_azure_table(flow.table)
            fix = f"did you mean '{close}'?" if close else "declare it under 'tables:' (custom tables end in _CL)"
        slip = custom_suffix_slip(flow.table)
        if slip and slip in scenario.tables:
            fix = f"did you mean '{slip}'?"
        out.error("FlowTableUnknown", f"{label} writes to table '{flow.table}', which is neither declared in this file nor a supported Azure table",
                  rule.lines.get(f"flow:{flow.index}:table", line), fix, SRC_SUPPORTED)
    elif table is not None and table.ensure == ABSENT:
        out.error("FlowTableAbsent", f"{label} writes to table '{flow.table}', which is marked 'ensure: absent'", line, "remove the flow or keep the table", SRC_DATAFLOW)
    streams_misspelt = f"rules.{rule.name}.streams" in out.misspelt
    for stream in flow.streams:
        if streams_misspelt:
            break  # 'stream:' misspelt: its UnknownKey says so; the streams it declares are not "undeclared"
        if stream not in rule.streams and not (not table_known and stream == derived_stream_name(flow.table)):
            if table_known:
                fix = f"declare '{stream}' under this rule's 'streams:', or omit 'stream' to derive '{derived_stream_name(flow.table)}' from the table"
            else:
                fix = f"declare '{stream}' under this rule's 'streams:'"
            out.error("FlowStreamUndeclared", f"{label} reads stream '{stream}', which is not declared in the rule and cannot be derived", line, fix, SRC_DATAFLOW)
    if len(flow.streams) > 1 and flow.transform.strip() != "source":
        out.warning("FlowManyStreams", f"{label} has {len(flow.streams)} streams and a transformation", line, "use one stream per data flow when it has a transformation", SRC_DATAFLOW)
    if len(flow.transform) > MAX_TRANSFORM:
        out.error("TransformTooLong", f"the transform of {label} is {len(flow.transform)} characters; the limit is {MAX_TRANSFORM:,}", flow.transform_line or line,
                  "shorten it (move constant tables out, simplify expressions)", SRC_DCR_LIMITS)
    own_transform = flow.user_transform.strip()
    if table is not None and table.plan == "Auxiliary" and own_transform != "source" and not kql.sets_time_generated(own_transform):
        # Auxiliary custom tables take transformations ([DOC-TRANSFORM]); what the docs still restrict is the
        # 30-minute TimeGenerated range per call, lifted only when TimeGenerated is transformed ([DOC-LIMITS-LIA]).
        # Judged on the user's own text: the toguid() the loader adds for a derived stream is not theirs to fix.
        out.warning("AuxiliaryTransform", f"{label} transforms data for Auxiliary table '{flow.table}' but leaves TimeGenerated as sent: "
                    "each call's TimeGenerated values must still span under 30 minutes", flow.transform_line or line,
                    "send batches that span under 30 minutes, or set TimeGenerated in the transform (e.g. 'extend TimeGenerated = todatetime(TimeGenerated)')",
                    SRC_AUXILIARY_TRANSFORM)
    if not all(s in rule.streams for s in flow.streams):
        return
    input_columns = _input_columns(rule, flow)
    table_columns = _flow_table_columns(flow, scenario)
    if any(m.startswith(f"tables.{flow.table}.columns") for m in out.misspelt):
        table_columns = None  # columns under a misspelt key are unknown: nothing to compare the output with
    if flow.transform.strip() == "source":
        if table_columns is not None:
            _check_source_fit(label, flow, input_columns, table_columns, rule, out)
        return
    _check_kql(flow, input_columns, table_columns, out)


def custom_suffix_slip(name: str) -> str | None:
    """``AppEvents_CL`` for ``AppEvents_cl``, ``AppEvents_LC`` or ``AppEventsCL``: a custom-table suffix typed wrong."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9_]*?)_?(cl|lc)$", name, re.IGNORECASE)
    if not match or name.endswith("_CL"):
        return None
    return match[1] + "_CL"


def _type_fix(text: str, types: tuple[str, ...]) -> str:
    """``write 'boolean'`` for a known alias, ``did you mean 'string'?`` for a misspelling, else the list."""
    alias = alias_hint(text)
    if alias:
        return f"write '{alias}'"
    close = close_type(text, types)
    if close:
        return f"did you mean '{close}'? (types: {', '.join(types)})"
    return f"use one of {', '.join(types)}"


def _input_columns(rule: Rule, flow: Flow) -> list[tuple[str, str]]:
    columns: dict[str, str] = {}
    for stream in flow.streams:
        for column in rule.streams[stream]:
            columns.setdefault(column.name, column.type)
    return list(columns.items())


def _check_source_fit(label, flow: Flow, input_columns, table_columns, rule: Rule, out: _Out) -> None:
    """With ``transform: source`` the stream must already look like the table ([DOC-LIA]; [DOC-DCR-STRUCT] §Data flows)."""
    table_types = dict(table_columns)
    line = flow.line or rule.line
    stream_lines = {c.name: c.line for s in flow.streams for c in rule.streams.get(s, ())}
    for name, stream_type in input_columns:
        where = stream_lines.get(name) or line
        if name not in table_types:
            # accepted by the service, but billed and then dropped (kql-subset.md §1 Output and schema rules)
            out.warning("SourceColumnNotInTable", f"{label}: stream column '{name}' has no column in table '{flow.table}' and the transform is 'source': it is billed, then dropped", where,
                        f"add '{name}' to the table, remove it from the stream, or drop it in the transform ('source | project-away {name}')", SRC_DATAFLOW)
        elif stream_type in STREAM_TYPES and table_types[name] in TABLE_TYPES and not source_fits(stream_type, table_types[name]):
            conversion = {"guid": "toguid", "dateTime": "todatetime", "int": "toint", "long": "tolong", "real": "toreal", "boolean": "tobool", "string": "tostring"}.get(table_types[name], "a conversion")
            out.error("SourceTypeMismatch", f"{label}: stream column '{name}' is {stream_type} but table column '{flow.table}.{name}' is {table_types[name]}", where,
                      f"declare the stream column to match, or convert it: 'source | extend {name} = {conversion}({name})'", SRC_DATAFLOW)
    if "TimeGenerated" not in dict(input_columns):
        out.error("SourceNoTimeGenerated", f"{label}: the stream has no TimeGenerated and the transform is 'source'", line,
                  "add 'TimeGenerated: datetime' to the stream, or set it: 'source | extend TimeGenerated = todatetime(<time column>)'", SRC_TIMEGENERATED)


def _check_kql(flow: Flow, input_columns, table_columns, out: _Out) -> None:
    """The KQL engine's checks, with its query-relative positions moved into the file."""
    options = {"profile": out.kql_profile} if out.kql_profile else {}
    result = kql.check_transform(flow.transform, input_columns, table_columns, custom_table=flow.table.endswith("_CL"), **options)
    # a custom table without TimeGenerated is already a MissingTimeGenerated error whose fix is to add it:
    # "drop it with project-away TimeGenerated" would advise the opposite
    lacks_time = flow.table.endswith("_CL") and table_columns is not None and "TimeGenerated" not in dict(table_columns)
    for diagnostic in result.diagnostics:
        if lacks_time and diagnostic.code == "ExtraColumn" and "'TimeGenerated'" in diagnostic.message:
            continue
        placed = place_in_file(diagnostic, flow, out.file, out.source_lines)
        out.items.append(replace(placed, source=placed.source or SRC_KQL))


def _check_auxiliary_single_table(rule: Rule, scenario: Scenario, out: _Out) -> None:
    targets = {f.table for f in rule.flows}
    auxiliary = [t for t in targets if (scenario.tables.get(t) and scenario.tables[t].plan == "Auxiliary")]
    if auxiliary and len(targets) > 1:
        out.error("AuxiliaryOneTable", f"rule '{rule.name}' sends to Auxiliary table '{auxiliary[0]}' and to other tables ({', '.join(sorted(targets - {auxiliary[0]}))})",
                  rule.lines.get("flows", rule.line), f"give '{auxiliary[0]}' a rule of its own", SRC_AUXILIARY)


# -- publishers ---------------------------------------------------------------------------------

def check_output_names(scenario: Scenario, out: _Out) -> None:
    """Names that give the same CI variable (``dcr-a``/``dcr_a`` -> ``DCR_DCR_A_ID``) in env/GitHub/Azure DevOps outputs."""
    rules = {r.name: list(r.streams) for r in scenario.rules.values() if r.ensure != ABSENT}
    tables = [t.name for t in scenario.tables.values() if t.ensure != ABSENT]
    for key, first, second in ids.output_key_clashes(rules, tables):
        out.warning("OutputNameClash", f"{first} and {second} both give the output variable {key}", scenario.lines.get("rules"),
                    "rename one of them if you use 'outputs --format env|github|azure-devops' (JSON output is not affected)",
                    "README.md §plan/apply/outputs")


def check_publishers(scenario: Scenario, out: _Out) -> None:
    seen: set[str] = set()
    for publisher in scenario.publishers:
        line = publisher.line
        given = [(k, v) for k, v in (("app_id", publisher.app_id), ("object_id", publisher.object_id),
                                     ("group_id", publisher.group_id)) if v]
        if len(given) != 1:
            out.error("PublisherIdentity", "a publisher needs exactly one of app_id, object_id or group_id", line,
                      "write '- app_id: <application (client) id>', '- object_id: <service principal object id>' or "
                      "'- group_id: <Entra group object id>'", SRC_PRINCIPAL)
            continue
        key, value = given[0]
        if "${" in value:
            continue  # an unresolved variable, already reported
        if not GUID.match(value):
            out.error("PublisherGuid", f"publisher {key} '{value}' is not a GUID", line,
                      "use the GUID from Entra ID (App registrations -> Application (client) ID, or Enterprise applications -> Object ID)", SRC_PRINCIPAL)
        elif value.lower() in seen:
            out.warning("PublisherDuplicate", f"publisher {key} '{value}' is listed twice", line, "remove the duplicate", SRC_PRINCIPAL)
        seen.add(value.lower())
    if scenario.publishers and not any(r.ensure != ABSENT for r in scenario.rules.values()):
        out.warning("PublishersWithoutRule", "publishers are listed but there is no rule (DCR) to grant them a role on", scenario.lines.get("publishers"),
                    "add a rule, or remove 'publishers'", SRC_PRINCIPAL)
