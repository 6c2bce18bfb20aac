"""Options shared by several commands, declared once, and the closed choices of ``--format`` and the KQL profile.

Each choice is an ``Enum``, so ``--help`` lists the values and Typer rejects any other
(a usage error: exit 1). The values repeat the library's (``planview.PLAN_FORMATS``,
``outputs.FORMATS``, ``kql.PROFILES``) rather than import them: those modules are not
needed for ``provision --help``; tests/test_cli_options.py keeps the two in step.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    env = "env"
    github = "github"
    azure_devops = "azure-devops"
    snippet = "snippet"  # a Python sender for the rules (provision/snippet.py)


class ReportFormat(str, Enum):
    """``validate`` and ``transform check``: a report for people or for programs."""

    text = "text"
    json = "json"


class ValidateFormat(str, Enum):
    """``validate``: the report formats, plus CI annotations (GitHub workflow commands, Azure DevOps logissue)."""

    text = "text"
    json = "json"
    github = "github"
    azure_devops = "azure-devops"


class RenderFormat(str, Enum):
    json = "json"
    arm = "arm"


class RowsFormat(str, Enum):
    jsonl = "jsonl"
    json = "json"


class KqlProfile(str, Enum):
    compat = "compat"
    strict = "strict"


KQL_PROFILE_HELP = "transformKql check: compat (also what the service is known to accept) or strict (only the documented KQL)."

ScenarioFile = Annotated[Path, typer.Argument(help="Scenario file (YAML).")]
Env = Annotated[str | None, typer.Option("--env", "-e", help="Environment from the file's 'environments:' to overlay.")]
Var = Annotated[list[str] | None, typer.Option("--var", help="Set a variable, K=V (repeatable); wins over the environment's vars "
                                                             "and the process environment.")]
Templates = Annotated[Path | None, typer.Option("--templates", help="Folder of templates that override the defaults of the same name.")]
Cloud = Annotated[str | None, typer.Option("--cloud", help="public | usgov | china | local (default: $PROVISION_CLOUD or public).")]
State = Annotated[Path | None, typer.Option("--state", help="State directory of the in-process local emulator (default .provision/local).")]
Debug = Annotated[bool, typer.Option("--debug", "-v", help="Print each HTTP call (method, URL, status, duration, request ids; "
                                                           "credentials redacted) on stderr. Also PROVISION_DEBUG=1.")]
# default None: azure.DEFAULT_PARALLELISM (ARM's burst of 200 writes, capped at 128); the max is ARM's burst
# (literals: importing provision.azure here would cost every command's start-up; tests/test_apply_concurrency.py
# checks they agree)
Parallelism = Annotated[int | None, typer.Option("--parallelism", min=1, max=200, help=(
    "At most this many requests in flight (default 128: ARM's burst of 200 writes, capped; fewer while ARM "
    "answers 429)."))]


def examples(*lines: str) -> str:
    """A command's help epilog: one runnable example per line. Click rewraps help paragraphs; the ``\\b`` line
    before the examples tells it to keep their lines as written."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def command(group: typer.Typer, name: str | None, *example_lines: str):
    """``group.command(name)`` with the project's error path (``core.Command``) and its examples as the epilog."""
    from provision.cli.core import Command

    return group.command(name, cls=Command, epilog=examples(*example_lines))

