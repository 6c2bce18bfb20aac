"""The ``provision`` command line: wiring only.

Each command group lives in its own module with a ``register(app)`` that adds its commands;
``Root.sources`` names the module of each top-level command, and ``core.RootGroup`` loads a
module only when one of its commands is used (start-up cost, bench/startup.py):
``scenario`` (validate, render), ``transform`` (transform check/run),
``emulator`` (emulator serve/rows), ``deploy`` (plan, apply, outputs, send), ``infer`` (infer).
Shared options and choices are in ``options``; the one error path (every
command, the console script and ``CliRunner`` alike) is ``core.report``.
Command bodies parse options, make one library call, print, and exit; they
raise ``ProvisionError`` for what the user can fix. No Azure SDK is imported at
module level anywhere under ``provision.cli`` so that ``provision --help`` and
``provision validate`` stay fast.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import typer

from provision.cli.core import INTERRUPTED, RootGroup, debug_enabled
from provision.cli.options import examples

__all__ = ["INTERRUPTED", "app", "debug_enabled", "main"]


class Root(RootGroup):
    """The top-level commands, in ``--help`` order, and the module under ``provision.cli`` that adds each."""

    sources: ClassVar[dict[str, str]] = {
        "validate": "scenario", "render": "scenario",
        "plan": "deploy", "apply": "deploy", "outputs": "deploy", "send": "deploy",
        "transform": "transform", "emulator": "emulator",
        "schema": "scenario", "import": "importer", "migrate": "migrate", "infer": "infer",
    }


app = typer.Typer(
    name="provision",
    cls=Root,
    help="Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: rendering with rich costs more start-up than the command (bench/startup.py)
    pretty_exceptions_show_locals=False,  # never print locals: they may hold secrets
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
)


def _show_version(value: bool) -> None:
    if value:
        from provision import __version__

        typer.echo(f"provision {__version__}")
        raise typer.Exit()


@app.callback(epilog=examples("provision validate scenarios/quickstart.yaml", "provision plan --help"))
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True)] = False,
) -> None:
    """Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API."""


def main() -> None:
    """Entry point of the console script: ``RootGroup.main`` reports errors and exits with the code."""
    app()
