"""CLI commands ``validate`` and ``render``: offline, no credentials, no Azure SDK.

Parse options -> one library call (``provision.scenario`` / ``provision.render``) -> print -> exit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from provision.cli.options import KQL_PROFILE_HELP, Env, KqlProfile, RenderFormat, ScenarioFile, Templates, ValidateFormat, Var, command


def parse_vars(items: list[str] | None) -> dict[str, str]:
    """``["K=V", ...]`` -> dict; a bad item is a usage error (exit 1)."""
    result: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            from provision.errors import SpecError

            raise SpecError(f"--var '{item}' is not NAME=VALUE", hint="write e.g. --var WORKSPACE_ID=/subscriptions/...")
        result[name.strip()] = value
    return result


def validate(
    file: ScenarioFile,
    env: Env = None,
    var: Var = None,
    output_format: Annotated[ValidateFormat, typer.Option("--format", help="A report for people (text), programs (json), or CI "
                                                          "annotations on the file's lines (github, azure-devops).")] = ValidateFormat.text,
    kql_profile: Annotated[KqlProfile, typer.Option("--kql-profile", help=KQL_PROFILE_HELP)] = KqlProfile.compat,
) -> None:
    """Check a scenario offline: every problem at once, each with file:line, rule and fix."""
    from provision.diagnostics import has_errors
    from provision.scenario import validate_scenario

    scenario, diagnostics = validate_scenario(file, env=env, variables=parse_vars(var), kql_profile=kql_profile.value)
    failed = scenario is None or has_errors(diagnostics)
    if output_format in (ValidateFormat.github, ValidateFormat.azure_devops):
        from provision.annotations import annotation

        for diagnostic in diagnostics:
            typer.echo(annotation(output_format.value, diagnostic))
        for note in scenario.notes if scenario else ():
            typer.echo(annotation(output_format.value, None, note=note, file=str(file)))
        errors = sum(d.is_error for d in diagnostics)
        # the summary is for the log, not a command: stderr keeps stdout to annotations only
        typer.echo(f"{file}: {'invalid' if failed else 'valid'}: {errors} error(s), {len(diagnostics) - errors} warning(s)", err=True)
    elif output_format is ValidateFormat.json:
        payload = {
            "file": str(file),
            "valid": not failed,
            "diagnostics": [d.to_dict() | {"source": d.source} for d in diagnostics],
            "notes": list(scenario.notes) if scenario else [],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        for diagnostic in diagnostics:
            typer.echo(diagnostic.format() + (f"\n    source: {diagnostic.source}" if diagnostic.source else ""))
        for note in scenario.notes if scenario else ():
            typer.echo(f"{file}: info: {note}")
        errors = sum(d.is_error for d in diagnostics)
        warnings = len(diagnostics) - errors
        if failed:
            typer.echo(f"{file}: {errors} error(s), {warnings} warning(s)")
        else:
            typer.echo(f"{file}: valid ({_summary(scenario)}{f', {warnings} warning(s)' if warnings else ''})")
    raise typer.Exit(code=1 if failed else 0)


def render(
    file: ScenarioFile,
    env: Env = None,
    var: Var = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write files into this folder instead of printing.")] = None,
    output_format: Annotated[RenderFormat, typer.Option("--format", help="json (one body per resource) or arm (one deployment template).")]
    = RenderFormat.json,
    templates: Templates = None,
) -> None:
    """Render the request bodies (or one ARM template) a valid scenario deploys."""
    from provision import render as renderer
    from provision.scenario import require_valid

    if out is not None and out.exists() and not out.is_dir():
        from provision.errors import RenderError

        raise RenderError(f"--out '{out}' is a file, not a folder", hint="give a folder (it is created when missing) or remove the file")
    scenario = require_valid(file, env=env, variables=parse_vars(var))
    for note in scenario.notes:
        typer.echo(f"{file}: info: {note}", err=True)
    try:
        _render_to(renderer, scenario, file, out, output_format.value, templates)
    except OSError as error:
        from provision.errors import RenderError

        raise RenderError(f"cannot write into '{out}': {error.strerror or error}", hint="--out must be a folder you can write to") from None


def _render_to(renderer, scenario, file, out, output_format, templates) -> None:
    if output_format == "arm":
        template = renderer.render_arm(scenario, templates_dir=templates)
        text = json.dumps(template, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"[^\w.()-]", "-", scenario.name).lstrip(".") or "scenario"  # a file name, never a path out of --out
            target = out / f"{stem}.deployment.json"
            target.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {target}")
        return
    resources = [r for r in renderer.render_resources(scenario, templates_dir=templates) if r.ensure != "absent"]
    if out is None:
        listing = [_resource_json(r) for r in resources]
        typer.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    out.mkdir(parents=True, exist_ok=True)
    for resource in resources:
        target = out / renderer.resource_filename(resource)
        target.write_text(json.dumps(resource.body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(f"wrote {target}{'  (principal resolved at apply time)' if resource.unresolved else ''}")


def _resource_json(resource) -> dict:
    item = {"kind": resource.kind, "name": resource.name, "id": resource.id, "apiVersion": resource.api_version, "dependsOn": list(resource.depends_on), "body": resource.body}
    if resource.unresolved:
        item["unresolved"] = True
    return item


def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the schema to this file instead of printing it.")] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of the scenario file, for editors (VS Code's YAML extension) and CI."""
    from provision.scenario.schema import scenario_schema

    text = json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        from provision.errors import ProvisionError

        raise ProvisionError(f"cannot write '{out}': {error.strerror or error}", hint="--out must be a file path you can write") from None
    typer.echo(f"wrote {out}; point your editor at it with a first line '# yaml-language-server: $schema={out}'", err=True)


def _summary(scenario) -> str:
    parts = [f"{len(scenario.tables)} table(s)", f"{len(scenario.rules)} rule(s)"]
    if scenario.endpoint:
        parts.append("1 endpoint")
    parts.append(f"{len(scenario.publishers)} publisher(s)")
    return ", ".join(parts)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    command(app, "validate",
        "provision validate scenarios/quickstart.yaml",
        "provision validate scenarios/multi-env.yaml --env prod --var PROD_SUBSCRIPTION=11111111-1111-4111-8111-111111111111",
        "provision validate scenarios/quickstart.yaml --format json --kql-profile strict",
    )(validate)
    command(app, "render",
        "provision render scenarios/quickstart.yaml",
        "provision render scenarios/with-dce.yaml --format arm --out build/",
    )(render)
    command(app, "schema",
        "provision schema --out scenario.schema.json",
        "provision schema",
    )(schema)
