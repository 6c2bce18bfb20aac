"""transformKql engine: the public API used by spec validation, the CLI and the emulator.

Layers (each its own module): ``lexer`` -> ``parser`` (AST in ``ast``, reserved words in
``keywords``, text back with ``printer``) -> ``checker`` (names, types, output schema, DCR
allow-list via the ``functions`` catalogue, operator/function typing from ``signatures``)
-> ``compiler`` (the evaluator: closures built once, run per record) -> ``codegen`` (a pipeline over
``source`` as one generated Python function per transform, calling those closures where it does not inline). Values: see ``values``
for the runtime representation and the JSON form of output rows; ``types`` for type
spellings and which output types a table column accepts; ``regex`` for every regular expression
a transform evaluates (RE2, as the service). Pure: standard library plus google-re2, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provision.diagnostics import ERROR, Diagnostic, caret_excerpt
from provision.kql.checker import COMPAT_PROFILE, STRICT, analyze
from provision.kql.parser import ParseError, parse, parse_expression
from provision.kql.printer import format_query
from provision.kql.regex import RegexError

COMPAT = COMPAT_PROFILE
PROFILES = (STRICT, COMPAT)
MAX_QUERY_LENGTH = 15_360  # characters of one transformKql: azure-contract.md §8 [DOC-LIMITS-DCR]

__all__ = [
    "COMPAT",
    "MAX_QUERY_LENGTH",
    "PROFILES",
    "STRICT",
    "CheckResult",
    "EvaluationTimeout",
    "ParseError",
    "Transform",
    "TransformCompileError",
    "TransformRuntimeError",
    "check_transform",
    "compile_transform",
    "format_query",
    "parse",
    "parse_expression",
    "sets_time_generated",
]


@dataclass
class CheckResult:
    """What the checker found. ``output_columns`` is None when the output schema is unknown."""

    output_columns: list[tuple[str, str | None]] | None  # (name, KQL type; None when unknown)
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

    ``input_columns``: (name, stream or table type) pairs; ``table_columns``: (name, table
    type) pairs or None when the destination is unknown. Diagnostics carry line/column
    inside ``query`` (1-based) and a caret excerpt. Output columns use KQL types (stream
    spellings plus ``guid``/``timespan``); a type the checker cannot infer is ``None``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use {STRICT!r} or {COMPAT!r}")
    if not query.strip():
        # kql-subset.md "Other limits": omitted or 'source' means no transformation; empty text is an error.
        return CheckResult(None, [Diagnostic(ERROR, "EmptyTransform", "transformKql is empty",
                                             fix="use 'source' for no transformation", line=1, column=1,
                                             excerpt=caret_excerpt(query, 1, 1), source="kql-subset.md 'Other limits'")])
    analysis = analyze(query, input_columns, table_columns, profile=profile, custom_table=custom_table)
    return CheckResult(analysis.output_columns, analysis.diagnostics)


class TransformRuntimeError(Exception):
    """A record the transform cannot process; the service drops it and counts it."""


class EvaluationTimeout(Exception):
    """``Transform.run_many`` passed its deadline: ``processed`` records were evaluated (of ``total``, when known).

    Raised between records, never inside one, so no output row is half built. The caller decides what
    the request answers (the emulator refuses it rather than store part of it).
    """

    def __init__(self, processed: int, total: int | None = None):
        of = f" of {total}" if total is not None else ""
        super().__init__(f"transformKql evaluation passed its deadline after {processed}{of} records")
        self.processed = processed
        self.total = total


class TransformCompileError(ValueError):
    """The query does not check clean; ``diagnostics`` says why."""

    def __init__(self, message: str, diagnostics):
        super().__init__(message)
        self.diagnostics = list(diagnostics)


def compile_transform(query: str, input_columns: list[tuple[str, str]]):
    """Compile ``query`` once (compat profile); run the result per record with ``Transform.run``.

    Raises TransformCompileError when the query has errors (the service would refuse the DCR).
    """
    from provision.kql.compiler import compile_analysis

    if not query.strip():
        query = "source"
    analysis = analyze(query, input_columns, None, profile=COMPAT, custom_table=False)
    if not analysis.valid:
        errors = [d for d in analysis.diagnostics if d.is_error]
        raise TransformCompileError(f"transformKql does not compile: {errors[0].where()}: {errors[0].message}", errors)
    try:
        return compile_analysis(query, analysis, input_columns)
    except RecursionError:
        raise TransformCompileError("transformKql nests expressions too deeply to compile", []) from None
    except RegexError as error:  # the checker refuses constant patterns first; kept so no other exception escapes
        raise TransformCompileError(f"transformKql does not compile: {error.message}", []) from None


def sets_time_generated(query: str) -> bool:
    """Whether ``query`` assigns ``TimeGenerated`` (``extend``/``project TimeGenerated = ...``, or a
    ``project-rename`` onto it): the Auxiliary plan's 30-minute TimeGenerated range per call applies only when
    TimeGenerated is not transformed (azure-contract.md §8 [DOC-LIMITS-LIA]). A query that does not parse: False
    (it is refused on its own account)."""
    from provision.kql import ast

    try:
        tree = parse(query)
    except (ParseError, RecursionError):
        return False
    pending: list = [tree]
    while pending:
        node = pending.pop()
        if (isinstance(node, ast.Assign) and node.name == "TimeGenerated"
                and not (isinstance(node.expr, ast.Name) and node.expr.name == "TimeGenerated")):
            return True
        if isinstance(node, ast.ProjectRename) and any(new.name == "TimeGenerated" for new, _old in node.pairs):
            return True
        if isinstance(node, tuple):
            pending.extend(node)
        else:
            pending.extend(getattr(node, name) for name in getattr(node, "_fields", ()))
    return False


def __getattr__(name):
    if name == "Transform":
        from provision.kql.compiler import Transform

        return Transform
    raise AttributeError(name)
