"""CLI command ``import``: live DCRs, their tables, DCE and publishers -> a scenario file (provision/importer.py).

The scenario goes to ``--out`` (refused when the file exists, unless ``--force``) or stdout;
what the format cannot hold and what was skipped go to stderr. Exit 1, nothing written, when
nothing could be imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provision.cli.options import Cloud, State, command


def import_command(
    rule: Annotated[list[str] | None, typer.Option("--rule", help="A DCR to import, by name or resource id (repeatable).")] = None,
    resource_group: Annotated[str | None, typer.Option("--resource-group", "-g", help="Import every DCR of this resource group.")] = None,
    table: Annotated[list[str] | None, typer.Option("--table", help="Also import this table of the workspace (repeatable).")] = None,
    workspace: Annotated[str | None, typer.Option("--workspace", help="The scenario's workspace id (default: the first rule's first destination).")] = None,
    subscription: Annotated[str | None, typer.Option("--subscription", help="Where to look rules up by name or resource group (default: from --workspace, $AZURE_SUBSCRIPTION_ID, or the local cloud's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the scenario here (default: stdout).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out when it exists.")] = False,
    cloud: Cloud = None,
    state: State = None,
) -> None:
    """Write a scenario that reproduces live DCRs, their tables, DCE and publishers (its plan is empty)."""
    from provision.errors import ProvisionError

    if out is not None and out.exists() and not force:  # before any call to Azure
        raise ProvisionError(f"{out} exists; nothing was written", hint="pass --force to overwrite it, or choose another --out")
    from provision.azure import cloud_name, connect
    from provision.cli.deploy import _quiet_sdk_logs
    from provision.importer import import_live, write_scenario

    _quiet_sdk_logs()
    name = cloud_name(cloud)
    with (connect(name, state_dir=state) if name == "local" else connect(cloud)) as session:
        imported = import_live(session, rules=list(rule or []), resource_group=resource_group, tables=list(table or []),
                               workspace=workspace, subscription=subscription, cloud_name=session.cloud.name)
    for line in imported.skipped:
        typer.echo(f"skipped: {line}", err=True)
    for line in imported.notes:
        typer.echo(f"not in the format: {line}", err=True)
    if out is None:
        typer.echo(imported.text, nl=False)
        return
    write_scenario(imported, out, force)
    typer.echo(f"wrote {out}: {len(imported.rules)} rule(s) ({', '.join(imported.rules)})", err=True)


def register(app: typer.Typer) -> None:
    command(app, "import",
        "provision import --cloud local --rule dcr-quickstart --out imported.yaml",
        "provision import --resource-group rg-logs --subscription <sub> --out logs.yaml --force",
    )(import_command)
