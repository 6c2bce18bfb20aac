"""CLI commands of the 'transform' group (placeholder: filled in by its issue)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
