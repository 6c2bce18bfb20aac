"""transformKql engine: the public API used by spec validation, the CLI and the emulator.

INTERIM (foundation issue): these functions only check that a transform is
non-empty and apply transforms as the identity. The transformKql issue replaces
the internals with a real lexer/parser/checker/evaluator; the signatures below
are the contract and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provision.diagnostics import ERROR, Diagnostic

STRICT = "strict"
COMPAT = "compat"


@dataclass
class CheckResult:
    """What the checker found. ``output_columns`` is None when the output schema is unknown."""

    output_columns: list[tuple[str, str]] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_transform(
    query: str,
    input_columns: list[tuple[str, str]],
    table_columns: list[tuple[str, str]] | None = None,
    *,
    profile: str = COMPAT,
    custom_table: bool = True,
) -> CheckResult:
    """Check ``query`` against its input stream and destination table.

    ``input_columns``: (name, stream type) pairs; ``table_columns``: (name, table
    type) pairs or None when the destination is unknown. Diagnostics carry
    line/column inside ``query`` (1-based).
    """
    if not query.strip():
        return CheckResult(None, [Diagnostic(ERROR, "EmptyTransform", "transformKql is empty", fix="use 'source' for no transformation", line=1, column=1)])
    if query.strip() == "source":
        return CheckResult(list(input_columns))
    return CheckResult(None)


class Transform:
    """A compiled transform: run it once per record."""

    def __init__(self, query: str, input_columns: list[tuple[str, str]]):
        self.query = query
        self.input_columns = input_columns
        self.identity_fallback = query.strip() != "source"

    def run(self, record: dict) -> dict | None:
        """The output record, or None when the transform filters it out.

        Raises TransformRuntimeError for a record the service would drop.
        """
        return dict(record)


class TransformRuntimeError(Exception):
    """A record the transform cannot process; the service drops it and counts it."""


def compile_transform(query: str, input_columns: list[tuple[str, str]]) -> Transform:
    return Transform(query, input_columns)
