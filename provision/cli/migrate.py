"""``provision migrate``: classic (Data Collector API) tables, read live -> a scenario that migrates them in place.

Reads the workspace and each ``--table`` through the Tables API, makes the scenario with ``provision.migrate``
(pure), writes it to ``--out`` (or stdout), and prints the sender guide on stderr. Writes nothing to Azure:
``provision apply`` on the written file does the migration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from provision.cli.options import Cloud, State, command
from provision.errors import ProvisionError


def migrate_command(
    table: Annotated[list[str], typer.Option("--table", "-t", help="Classic table to migrate, e.g. MyApp_CL (repeatable).")],
    cloud: Cloud = None,
    state: State = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the scenario here (default: stdout).")] = None,
    time_field: Annotated[str | None, typer.Option("--time-field", help="The field the old sender named in its "
                                                   "time-generated-field header: TimeGenerated keeps coming from it.")] = None,
    workspace: Annotated[str | None, typer.Option("--workspace", help="Workspace ARM id (default: $WORKSPACE_ID; on "
                                                  "--cloud local the seeded workspace).")] = None,
) -> None:
    """Read classic tables and write a scenario that migrates them in place and accepts the old senders' JSON."""
    from provision import migrate
    from provision.azure import cloud_name, connect
    from provision.cli.deploy import _quiet_sdk_logs
    from provision.live import get_resource
    from provision.resources import Kind, ResourceId, workspace_parts

    names = list(dict.fromkeys(table))
    if not names:
        raise ProvisionError("name at least one table: --table MyApp_CL")
    _quiet_sdk_logs()
    with connect(cloud, state_dir=state) if cloud_name(cloud) == "local" else connect(cloud) as session:
        workspace_id = workspace or os.environ.get("WORKSPACE_ID") or session.environ.get("PROVISION_LOCAL_WORKSPACE_ID")
        if not workspace_id:
            raise ProvisionError("which workspace? pass --workspace /subscriptions/<sub>/resourceGroups/<rg>/providers/"
                                 "Microsoft.OperationalInsights/workspaces/<name> (or set WORKSPACE_ID)")
        try:
            _, resource_group, _ = workspace_parts(workspace_id)
        except ValueError as error:
            raise ProvisionError(f"--workspace {workspace_id}: {error}") from None
        ws_body = get_resource(session, Kind.WORKSPACE, workspace_id)
        if ws_body is None:
            raise ProvisionError(f"the workspace {workspace_id} does not exist (or the signed-in identity cannot read it)")
        plans = []
        for name in names:
            body = get_resource(session, Kind.TABLE, ResourceId.table(workspace_id, name).format())
            schema = migrate.check_classic(name, body, workspace_id)
            plans.append(migrate.plan_table(name, schema, time_field))
    text = migrate.scenario_text(plans, workspace_id, str(ws_body.get("location") or ""), resource_group)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ProvisionError(f"cannot write --out {out}: {error.strerror or error}") from None
        typer.echo(f"wrote {out}", err=True)
    typer.echo(migrate.sender_guide(plans, str(out or "FILE")), err=True)  # FILE: where stdout was saved


def register(app: typer.Typer) -> None:
    """Add ``migrate`` to ``app``."""
    command(app, "migrate",
        "provision migrate --table AppEvents_CL --cloud local --out migrate.yaml",
        "provision migrate --table AppEvents_CL --table Audit_CL --time-field When --out migrate.yaml",
    )(migrate_command)
