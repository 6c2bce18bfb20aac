"""The lazy command table (provision.cli.Root.sources): every command a module registers is reachable, and
``provision --help`` lists them all without building any (bench/startup.py measures what that saves)."""

from __future__ import annotations

import pkgutil

import typer
from typer._click import Context  # typer vendors click

import provision.cli
from provision.cli import Root, app
from provision.cli.core import RootGroup


def _registered_names(module_name: str) -> set[str]:
    holder = RootGroup._registered(module_name)
    return {info.name or "" for info in holder.registered_commands} | {g.name or "" for g in holder.registered_groups}


def test_every_registered_command_is_in_the_table_with_its_module():
    modules = [m.name for m in pkgutil.iter_modules(provision.cli.__path__)
               if m.name not in ("core", "options", "terminal")]
    found = {}
    for module_name in modules:
        if hasattr(__import__(f"provision.cli.{module_name}", fromlist=["register"]), "register"):
            found.update(dict.fromkeys(_registered_names(module_name), module_name))
    assert found == Root.sources


def test_help_lists_every_command_and_builds_none():
    group = typer.main.get_command(app)
    assert isinstance(group, Root)
    text = group.get_help(Context(group, info_name="provision"))
    assert "Commands:" in text, text
    section = text.split("Commands:")[1].split("Examples:")[0]
    listed = [line.split()[0] for line in section.splitlines() if line[:2] == "  " and line[2:3].strip()]
    assert listed == list(Root.sources)
    assert group.commands == {}  # listing read the docstrings only


def test_a_command_is_built_when_used():
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["schema", "--help"])
    assert result.exit_code == 0 and "Usage: provision schema" in result.output
