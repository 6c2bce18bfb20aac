"""The one error path of the command line, and the click classes every command runs under.

``report`` turns anything a command raises into one paragraph on stderr and an exit code:
a ``ProvisionError`` (its own code, 1), a usage error Typer found (1, not click's 2: 2 means
"changes present" for ``plan --detailed-exitcode``), an Azure SDK error (mapped by
``provision.azure.azure_error``), Ctrl-C (130, with the re-run advice), and a bug ("internal
error", a traceback only with ``PROVISION_DEBUG=1``). ``RootGroup`` applies it whether the app
runs from the console script or from ``CliRunner``, so both print and exit the same way.

``FlaglessMixin`` keeps rich help from showing ``<bool>`` after flags that take no value.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import ClickException  # typer vendors click; ClickException is not re-exported
from typer.core import TyperCommand, TyperGroup

from provision.errors import ProvisionError

INTERRUPTED = "Interrupted. What finished stays in place; run the command again to complete it."


def debug_enabled() -> bool:
    return os.environ.get("PROVISION_DEBUG", "") not in ("", "0")


def report(error: BaseException) -> int:
    """Print ``error`` for the user on stderr and return the exit code (re-raises a bug when debugging)."""
    if isinstance(error, ProvisionError):
        typer.echo(error.format(), err=True)
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        typer.echo(INTERRUPTED, err=True)
        return 130
    if isinstance(error, (typer.Abort, EOFError)):
        typer.echo("Aborted.", err=True)
        return 1
    if isinstance(error, ClickException):
        error.show()
        return 1
    if type(error).__module__.startswith("azure."):
        from provision.azure import azure_error

        return report(azure_error(error, "talking to Azure"))
    if debug_enabled():
        raise error
    typer.echo(f"internal error: {type(error).__name__}: {error}\n(set PROVISION_DEBUG=1 for a traceback)", err=True)
    return 1


class FlaglessMixin:
    """Flags (``--yes``, ``--help``) show no value placeholder in help: they take none."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]  # a mixin: the click class comes next in the MRO
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # rich help prints the metavar, else the type ('<bool>')
        return params


class Command(FlaglessMixin, TyperCommand):
    """Every leaf command."""


class Group(FlaglessMixin, TyperGroup):
    """Every sub-group (``transform``, ``emulator``)."""


class RootGroup(Group):
    """``provision`` itself: every error of every command goes through ``report``."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise  # control flow Typer handles (Exit) or that ``main`` reports (usage errors, Abort)
        except (Exception, KeyboardInterrupt) as error:  # inside: Typer would turn Ctrl-C into a silent exit 130
            raise typer.Exit(report(error)) from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
            code = result if isinstance(result, int) else 0
        except (Exception, KeyboardInterrupt) as error:
            code = report(error)
        if standalone_mode:
            sys.exit(code)
        return code
