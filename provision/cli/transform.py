"""CLI commands of the 'transform' group: ``transform check`` and ``transform run``.

Parse options -> one library call (``provision.kql``, ``provision.scenario``) -> print -> exit.
``check`` exits 0 with the output schema when the query is valid, 1 with every
diagnostic otherwise. ``run`` runs a scenario flow's transform on sample rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from provision.cli.core import Group
from provision.cli.options import KQL_PROFILE_HELP, Env, KqlProfile, ReportFormat, RowsFormat, ScenarioFile, Var, command
from provision.cli.scenario import parse_vars
from provision.rows import read_rows, read_text

transform_app = typer.Typer(rich_markup_mode=None, name="transform", cls=Group, help="Check and run transformKql queries offline.", no_args_is_help=True)


def _parse_columns(text: str, option: str, stream: bool = False) -> list[tuple[str, str]]:
    """'Time:datetime,Msg:string' -> [(name, type)]; a bad item is a usage error.

    ``stream``: the columns are a DCR input stream, typed with the stream types (no ``guid``,
    azure-contract.md §5.2 [SPEC-DCR] ColumnDefinition.type); otherwise table columns, typed
    with the table types (§3.1 [SPEC-TBL25-07] Column.type). Either is accepted in any case.
    """
    from provision.errors import SpecError
    from provision.scenario.types import STREAM_TYPES, TABLE_TYPES, alias_hint, normalise_stream_type, normalise_table_type

    allowed = STREAM_TYPES if stream else TABLE_TYPES
    columns = []
    seen: dict[str, str] = {}
    for item in [part.strip() for part in text.split(",") if part.strip()]:
        name, sep, ctype = item.partition(":")
        name, ctype = name.strip(), ctype.strip()
        if not sep or not name or " " in ctype:
            raise SpecError(f"{option} item '{item}' is not NAME:TYPE",
                            hint=f"separate columns with commas, e.g. \"Time:datetime,Msg:string\"; types: {', '.join(allowed)}")
        if stream and ctype.lower() == "guid":
            raise SpecError(f"{option} item '{item}': guid is not a stream type",
                            hint=f"declare it string and convert it in the query: extend {name} = toguid({name})")
        if (normalise_stream_type if stream else normalise_table_type)(ctype) is None:
            alias = alias_hint(ctype)
            kind = "stream" if stream else "table"
            raise SpecError(f"{option} item '{item}': '{ctype}' is not a {kind} column type",
                            hint=f"write '{alias}'" if alias else f"types: {', '.join(allowed)}")
        if name.lower() in seen:
            raise SpecError(f"{option} names column '{name}' twice (first as '{seen[name.lower()]}')",
                            hint="column names are case-insensitive in KQL: keep one of them")
        seen[name.lower()] = name
        columns.append((name, ctype))
    return columns


def _table_columns(table: str | None, table_columns: str | None):
    """(columns or None, custom_table) from --table / --table-columns."""
    from provision.errors import SpecError

    if table_columns is not None:
        return _parse_columns(table_columns, "--table-columns"), (table or "_CL").endswith("_CL")
    if table is None:
        return None, True
    if table.endswith("_CL"):
        raise SpecError(f"--table {table}: the columns of a custom table are not known offline",
                        hint="give them with --table-columns \"TimeGenerated:dateTime,Message:string\"")
    from provision.scenario.tables import azure_table_columns, closest_azure_table

    columns = azure_table_columns(table)
    if columns is None:
        close = closest_azure_table(table)
        raise SpecError(f"--table {table} is not a supported Azure table", hint=f"did you mean '{close}'?" if close else
                        "custom tables end in _CL: use --table-columns")
    return columns, False


def check(
    columns: Annotated[str, typer.Option("--columns", help="Input columns, e.g. \"Time:datetime,Msg:string\".")],
    query: Annotated[str | None, typer.Option("--query", "-q", help="The transformKql query.")] = None,
    query_file: Annotated[Path | None, typer.Option("--query-file", help="Read the query from this file instead.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Destination table: an Azure table name (its schema is known).")] = None,
    table_columns: Annotated[str | None, typer.Option("--table-columns", help="Destination table columns, e.g. "
                                                                             "\"TimeGenerated:dateTime,Msg:string\".")] = None,
    profile: Annotated[KqlProfile, typer.Option("--profile", help=KQL_PROFILE_HELP)] = KqlProfile.compat,
    output_format: Annotated[ReportFormat, typer.Option("--format", help="A report for people (text) or programs (json).")] = ReportFormat.text,
) -> None:
    """Check one transformKql query: exit 0 and its output schema, or exit 1 and every problem."""
    from provision import kql
    from provision.errors import SpecError

    if query_file is not None and query is None:
        query = read_text(query_file, "--query-file")
    elif query is None or query_file is not None:
        raise SpecError("give the query with exactly one of --query or --query-file")
    inputs = _parse_columns(columns, "--columns", stream=True)
    table_cols, custom = _table_columns(table, table_columns)
    result = kql.check_transform(query, inputs, table_cols, profile=profile.value, custom_table=custom)
    if len(query) > kql.MAX_QUERY_LENGTH:  # a DCR rule, checked by validate and the service before any KQL parsing
        from provision.diagnostics import ERROR, Diagnostic

        too_long = Diagnostic(ERROR, "TransformTooLong", f"the query is {len(query):,} characters; transformKql takes at most {kql.MAX_QUERY_LENGTH:,}",
                              fix="shorten it (move constant tables out, simplify expressions)", line=1, column=1,
                              source="azure-contract.md §8 [DOC-LIMITS-DCR]")
        result = kql.CheckResult(result.output_columns, [too_long, *result.diagnostics])
    if output_format is ReportFormat.json:
        payload = {
            "valid": result.valid,
            "output_columns": [{"name": n, "type": t} for n, t in (result.output_columns or [])],
            "diagnostics": [{"severity": d.severity, "code": d.code, "message": d.message, "line": d.line, "column": d.column,
                             "fix": d.fix} for d in result.diagnostics],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        for d in result.diagnostics:
            typer.echo(d.format(), err=not result.valid)
        if result.valid:
            typer.echo("valid; output columns:")
            for name, ctype in result.output_columns or []:
                typer.echo(f"  {name}: {ctype or 'unknown'}")
        else:
            errors = sum(d.is_error for d in result.diagnostics)
            typer.echo(f"{errors} error(s), {len(result.diagnostics) - errors} warning(s)", err=True)
    raise typer.Exit(code=0 if result.valid else 1)


def _select_flow(scenario, flow_ref: str):
    from provision.errors import SpecError

    rule_name, _, number = flow_ref.partition(":")
    rule = scenario.rules.get(rule_name)
    if rule is None:
        raise SpecError(f"--flow {flow_ref}: no rule '{rule_name}' in {scenario.path}",
                        hint=f"rules: {', '.join(scenario.rules) or 'none'}")
    if not number:
        if len(rule.flows) != 1:
            raise SpecError(f"--flow {flow_ref}: rule '{rule_name}' has {len(rule.flows)} flows", hint=f"write --flow {rule_name}:N with N from 1 to {len(rule.flows)}")
        return rule, rule.flows[0]
    if not number.isdigit() or not 1 <= int(number) <= len(rule.flows):
        raise SpecError(f"--flow {flow_ref}: flow number must be 1 to {len(rule.flows)}", hint="flows are numbered from 1 in file order")
    return rule, rule.flows[int(number) - 1]


def run(
    file: ScenarioFile,
    flow: Annotated[str, typer.Option("--flow", help="RULE:N, the N-th flow (from 1) of rule RULE; RULE alone when it has one flow.")],
    rows_file: Annotated[Path, typer.Option("--file", help="Sample rows: a JSON array (.json) or one object per line (.jsonl).")],
    env: Env = None,
    var: Var = None,
    output_format: Annotated[RowsFormat, typer.Option("--format", help="jsonl (rows on stdout, summary on stderr) or json (one document).")]
    = RowsFormat.jsonl,
) -> None:
    """Run a scenario flow's transformKql on sample rows: prints the output rows and what was dropped and why."""
    from provision import kql
    from provision.errors import SpecError
    from provision.scenario import require_valid

    scenario = require_valid(file, env=env, variables=parse_vars(var))
    rule, selected = _select_flow(scenario, flow)
    columns: dict[str, str] = {}
    for stream in selected.streams:
        for column in rule.streams.get(stream, ()):
            columns.setdefault(column.name, column.type)
    records = read_rows(rows_file)
    try:
        transform = kql.compile_transform(selected.transform, list(columns.items()))
    except kql.TransformCompileError as error:
        raise SpecError(f"the transform of {flow} does not compile", error.diagnostics) from None
    rows, filtered, dropped = transform.run_many(records)
    schema = [{"name": n, "type": t} for n, t in (transform.output_columns or [])]
    if output_format is RowsFormat.json:
        typer.echo(json.dumps({"flow": flow, "table": selected.table, "output_columns": schema, "rows": rows,
                               "filtered": filtered, "dropped": [{"index": i, "reason": r} for i, r in dropped]}, indent=2))
        return
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))
    typer.echo(f"{len(records)} row(s) in, {len(rows)} out to {selected.table}, {filtered} filtered out by where, {len(dropped)} dropped",
               err=True)
    typer.echo("output columns: " + ", ".join(f"{c['name']}:{c['type'] or 'unknown'}" for c in schema), err=True)
    for index, reason in dropped:
        typer.echo(f"  row {index + 1} dropped: {reason}", err=True)


def register(app: typer.Typer) -> None:
    """Add the 'transform' group to ``app``."""
    command(transform_app, "check",
        "provision transform check --columns Time:datetime,Msg:string --query 'source | extend TimeGenerated = Time'",
        "provision transform check --columns Time:datetime --query-file flow.kql --table Syslog --profile strict",
    )(check)
    command(transform_app, "run",
        "provision transform run scenarios/quickstart.yaml --flow dcr-quickstart:1 --file rows.json",
        "provision transform run scenarios/quickstart.yaml --flow dcr-quickstart --file rows.jsonl --format json",
    )(run)
    app.add_typer(transform_app, name="transform")
