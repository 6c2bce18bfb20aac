"""The ``provision`` command line: wiring only.

Each command group lives in its own module and registers itself on ``app``:
``scenario`` (validate, render), ``transform`` (transform check/run),
``emulator`` (emulator serve/rows), ``deploy`` (plan, apply, outputs, send).
Command bodies parse options, make one library call, print, and exit; no
Azure SDK is imported at module level anywhere under ``provision.cli`` so that
``provision --help`` and ``provision validate`` stay fast.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import TyperException

from provision.errors import ProvisionError

app = typer.Typer(
    name="provision",
    help="Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print locals: they may hold secrets
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        from provision import __version__

        typer.echo(f"provision {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_show_version, is_eager=True),
) -> None:
    """Provision tables, DCRs, a DCE and roles for the Azure Monitor Logs Ingestion API."""


def _register_all() -> None:
    from provision.cli import deploy, emulator, scenario, transform

    for module in (scenario, transform, deploy, emulator):
        module.register(app)


_register_all()


INTERRUPTED = "Interrupted. What finished stays in place; run the command again to complete it."


def debug_enabled() -> bool:
    return os.environ.get("PROVISION_DEBUG", "") not in ("", "0")


def fail(error: ProvisionError) -> None:
    """Print a user error on stderr and exit with its code (never a traceback)."""
    typer.echo(error.format(), err=True)
    raise typer.Exit(code=error.exit_code)


def main() -> None:
    """Entry point of the console script: maps exceptions to exit codes."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except ProvisionError as error:
        typer.echo(error.format(), err=True)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        sys.exit(130)
    except TyperException as error:  # usage errors: exit 1, not 2 (2 means "changes" for plan)
        show = getattr(error, "show", None)  # Click's usage errors print themselves; others have only a message
        if callable(show):
            show()
        else:
            typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # a bug: say so clearly, traceback only on request
        if debug_enabled():
            raise
        typer.echo(f"internal error: {type(error).__name__}: {error}\n(set PROVISION_DEBUG=1 for a traceback)", err=True)
        sys.exit(1)
