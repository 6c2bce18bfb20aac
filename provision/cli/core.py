"""The one error path of the command line, and the click classes every command runs under.

``report`` turns anything a command raises into one paragraph on stderr and an exit code:
a ``ProvisionError`` (its own code, 1), a usage error Typer found (1, not click's 2: 2 means
"changes present" for ``plan --detailed-exitcode``), an Azure SDK error (mapped by
``provision.azure.azure_error``), Ctrl-C (130, with the re-run advice), and a bug ("internal
error", a traceback only with ``PROVISION_DEBUG=1``). ``RootGroup`` applies it whether the app
runs from the console script or from ``CliRunner``, so both print and exit the same way.

``RootGroup`` builds a command's options only when that command runs (or its own ``--help`` is asked
for): Typer turns every signature into click parameters, and doing that for all commands on each start
cost more than the command itself (bench/startup.py).

``FlaglessMixin`` keeps help from showing ``<bool>`` after flags that take no value.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any, ClassVar

import typer
from typer._click.exceptions import ClickException  # typer vendors click; ClickException is not re-exported
from typer.core import TyperCommand, TyperGroup

from provision.errors import ProvisionError

SUMMARY_LIMIT = 200  # characters of a command's first sentence in the command list; the list wraps it

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
                param.metavar = ""  # help prints the metavar, else the type ('<bool>')
        return params


class Command(FlaglessMixin, TyperCommand):
    """Every leaf command."""


def _summary(holder: typer.Typer, name: str, limit: int) -> str:
    """The short help click would print for command ``name`` of ``holder``, without building the command."""
    from typer._click.utils import make_default_short_help  # the helper click's Command.get_short_help_str uses

    help_text: object = None
    for info in holder.registered_commands:
        if (info.name or "") == name:
            help_text = info.help or inspect.getdoc(info.callback)
    for group in holder.registered_groups:
        if group.name == name and group.typer_instance is not None:
            help_text = group.typer_instance.info.help
    if not isinstance(help_text, str):
        return ""
    return make_default_short_help(inspect.cleandoc(help_text).split("\f")[0], limit).strip()


class Group(FlaglessMixin, TyperGroup):
    """Every group (``provision``, ``transform``, ``emulator``): lists its commands with their first sentence,
    wrapped rather than cut at the terminal's width as click does."""

    def summary(self, ctx: Any, name: str) -> str:
        command = self.get_command(ctx, name)
        return command.get_short_help_str(SUMMARY_LIMIT) if command is not None else ""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, self.summary(ctx, name)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class RootGroup(Group):
    """``provision`` itself: commands built on first use, and every error of every command through ``report``.

    ``sources`` maps each top-level command to the module under ``provision.cli`` whose ``register(app)``
    adds it (a subclass sets it: ``provision.cli.Root``). ``provision --help`` lists the commands from
    their docstrings without building any; ``provision plan`` builds the commands of one module.
    """

    sources: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.sources, *(name for name in self.commands if name not in self.sources)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.sources:
            built = typer.main.get_group(self._registered(self.sources[cmd_name]))
            for name, built_command in built.commands.items():
                self.commands.setdefault(name, built_command)
        return self.commands.get(cmd_name)

    def summary(self, ctx: Any, name: str) -> str:
        if name in self.commands:
            return super().summary(ctx, name)
        return _summary(self._registered(self.sources[name]), name, SUMMARY_LIMIT)  # from the docstring, unbuilt

    @staticmethod
    @functools.cache  # one per module: ``--help`` asks once per command, and deploy alone has four
    def _registered(module_name: str) -> typer.Typer:
        """A Typer app holding what ``provision.cli.<module_name>.register`` adds: its commands' declarations."""
        holder = typer.Typer(cls=Group, rich_markup_mode=None, add_completion=False)
        importlib.import_module(f"provision.cli.{module_name}").register(holder)
        return holder

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
