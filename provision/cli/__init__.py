"""The ``provision`` command line: wiring only.

Each command group lives in its own module and registers itself on ``app``:
``scenario`` (validate, render), ``transform`` (transform check/run),
``emulator`` (emulator serve/rows), ``deploy`` (plan, apply, outputs, send).
Shared options and choices are in ``options``; the one error path (every
command, the console script and ``CliRunner`` alike) is ``core.report``.
Command bodies parse options, make one library call, print, and exit; they
raise ``ProvisionError`` for what the user can fix. No Azure SDK is imported at
module level anywhere under ``provision.cli`` so that ``provision --help`` and
``provision validate`` stay fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from provision.cli.core import INTERRUPTED, RootGroup, debug_enabled

__all__ = ["INTERRUPTED", "app", "debug_enabled", "main"]

app = typer.Typer(
    name="provision",
    cls=RootGroup,
    help="Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print locals: they may hold secrets
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
)


def _show_version(value: bool) -> None:
    if value:
        from provision import __version__

        typer.echo(f"provision {__version__}")
        raise typer.Exit()


@app.callback(epilog="Examples:\n\n  provision validate scenarios/quickstart.yaml\n  provision plan --help")
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True)] = False,
) -> None:
    """Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API."""


def _register_all() -> None:
    from provision.cli import deploy, emulator, scenario, transform

    for module in (scenario, transform, deploy, emulator):
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the console script: ``RootGroup.main`` reports errors and exits with the code."""
    app()
