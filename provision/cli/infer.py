"""CLI command ``infer``: sample rows -> a scenario, or (``--into``) the additions an existing scenario needs.

Parse options -> one library call (``provision.infer``) -> print -> exit. Offline: no credentials,
no Azure SDK. The scenario goes to stdout (or ``--out``); what infer decided (renames, widened
types, TimeGenerated, fields left out) goes to stderr, so ``provision infer rows.json > s.yaml`` works.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from provision.cli.options import command


def _default_table(path: Path) -> str:
    """``app-events.json`` -> ``app_events_CL``: the file's stem as a custom table name."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_")
    if not stem or not stem[0].isalpha():
        stem = "Sample" + ("_" + stem if stem else "")
    return stem[:60] + "_CL"


def infer(
    file: Annotated[Path, typer.Argument(help="Sample rows: a JSON array, JSON lines, or Data Collector API payloads (JSON arrays).")],
    table: Annotated[str | None, typer.Option("--table", help="The custom table, NAME_CL (default: from the file name).")] = None,
    stream: Annotated[str | None, typer.Option("--stream", help="The input stream, Custom-... (default: Custom-<Name>Raw).")] = None,
    time_field: Annotated[str | None, typer.Option("--time-field", help="The field that becomes TimeGenerated.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the scenario to this file instead of printing it.")] = None,
    into: Annotated[Path | None, typer.Option("--into", help="An existing scenario: print the columns it lacks for --table (never changes it).")]
    = None,
) -> None:
    """Infer a scenario (table, stream, flow and transform) from sample rows."""
    from provision import infer as inference
    from provision.errors import SpecError
    from provision.rows import read_text

    text = read_text(file, "the sample")
    sample = inference.collect(inference.read_samples(text, str(file)))
    if into is not None:
        if table is None:
            raise SpecError("--into needs --table: which table of the scenario the sample is for", hint=f"e.g. provision infer {file} --into {into} --table NAME_CL")
        unused = [name for name, value in (("--stream", stream), ("--time-field", time_field), ("--out", out)) if value is not None]
        if unused:
            # --into prints additions to a scenario that already has its stream and TimeGenerated; nothing is written
            raise SpecError(f"{', '.join(unused)} cannot be used with --into", hint="--into only prints what the scenario lacks; drop the option")
        from provision.scenario import require_valid

        scenario = require_valid(into)
        listing, _count = inference.additions(sample, scenario, table, str(file))
        typer.echo(listing, nl=False)
        return
    result = inference.infer(sample, table or _default_table(file), stream=stream, time_field=time_field, source=str(file))
    scenario_text = inference.render_scenario(result, str(file))
    if out is None:
        typer.echo(scenario_text, nl=False)
    else:
        if out.exists() and out.resolve() == file.resolve():
            raise SpecError(f"--out {out} is the sample file itself", hint="write the scenario to another file")
        try:
            out.write_text(scenario_text, encoding="utf-8")
        except OSError as error:
            raise SpecError(f"cannot write --out {out}: {error.strerror or error}") from None
        typer.echo(f"wrote {out}", err=True)
    for note in result.notes:
        typer.echo(f"infer: {note}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``infer`` to ``app``."""
    command(app, "infer",
        "provision infer rows.json --table AppEvents_CL --out appevents.yaml",
        "provision infer payloads.jsonl --table Orders_CL --time-field Time",
        "provision infer new-rows.jsonl --into appevents.yaml --table AppEvents_CL",
    )(infer)
