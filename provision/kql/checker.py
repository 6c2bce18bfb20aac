"""Checker: binds names, infers types, computes the output schema, checks it against the table.

All problems are collected in one pass (sqlglot-style), each a ``Diagnostic`` with
line:column inside the query, a caret excerpt, a code, a fix hint and the rule's
source. Codes: SyntaxError, UnknownColumn, UnknownTable, UnknownType, UnknownFunction,
UnsupportedFunction, UnsupportedOperator, WrongArgumentCount, TypeMismatch, InvalidRegex,
TooManyParseColumns, DuplicateColumn, InvalidTransformOutput, MissingTimeGenerated,
ExtraColumn (warning), GeoLocationLatency (warning).

Typing follows Microsoft's binder: operator and function argument/result types come from
signatures.py (generated from Kusto.Language); the DCR rules on top (allow-list, profiles,
output vs table) come from kql-subset.md and azure-contract.md §9.

The checker also records the type of every expression node (``Analysis.types``,
keyed by ``id(node)``); the compiler uses it to pick typed operations.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field

from provision.diagnostics import ERROR, WARNING, Diagnostic, caret_excerpt
from provision.kql import ast as A
from provision.kql.functions import CATALOGUE, COMPAT, KNOWN_KUSTO_ONLY, NUMERIC, REJECTED
from provision.kql.lexer import Source
from provision.kql.parser import ParseError, parse
from provision.kql.regex import explain, parse_pattern
from provision.kql.signatures import BINARY, CALLS
from provision.kql.types import CONVERSION_FOR, normalize_type, output_compatible

STRICT = "strict"
COMPAT_PROFILE = "compat"
SRC_OPS = "kql-subset.md §1 Scalar operators (data-collection-transformations-kql.md)"
SRC_TABULAR = "azure-contract.md §9 Tabular operators (extend, project, print, where, parse, project-away, project-rename, datatable)"
SRC_OUTPUT = "kql-subset.md §1 Output and schema rules"
SRC_REGEX = "Microsoft Learn, Kusto 'RE2 syntax' (kusto/query/re2): KQL regular expressions are RE2's (google/re2 doc/syntax.txt)"

# kql-subset.md: "Not listed, so unsupported in strict reading: has_any, has_all, in~, !in~, between, hasprefix".
UNLISTED_OPS = {"has_any", "has_all", "in~", "!in~", "between", "!between", "hasprefix", "!hasprefix", "hasprefix_cs",
                "!hasprefix_cs", "hassuffix", "!hassuffix", "hassuffix_cs", "!hassuffix_cs", "like", "!like", "like_cs", "!like_cs"}
ARITHMETIC = {"+", "-", "*", "/", "%"}
COMPARISON = {"==", "!=", "<", "<=", ">", ">="}
ORDERED = {"<", "<=", ">", ">="}

_OPERATOR_FIXES = {
    "summarize": "transforms run once per record: aggregation is not possible; remove summarize",
    "parse-kv": "use parse, extract() or parse_json() instead (parse-kv is rejected: MicrosoftDocs/azure-docs issue #119016)",
    "join": "transforms see one record at a time: remove join/lookup and enrich the data before sending",
    "lookup": "transforms see one record at a time: remove join/lookup and enrich the data before sending",
    "union": "transforms have one input: remove union",
    "mv-expand": "transforms return at most one row per record: remove mv-expand",
    "take": "remove it: a transform sees one record at a time",
    "limit": "remove it: a transform sees one record at a time",
    "project-keep": "use project with the columns to keep",
    "project-reorder": "use project with the columns in the wanted order",
    "distinct": "remove it: a transform sees one record at a time",
    "order": "remove it: a transform sees one record at a time",
    "sort": "remove it: a transform sees one record at a time",
    "top": "remove it: a transform sees one record at a time",
    "count": "remove it: a transform sees one record at a time",
    "evaluate": "plugins are not supported in transforms",
}


@dataclass
class Analysis:
    """What the checker knows about a query (used by the compiler)."""

    query: A.Query | None
    output_columns: list[tuple[str, str | None]] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    types: dict = field(default_factory=dict)  # id(expr node) -> KQL type | None
    column_names: dict = field(default_factory=dict)  # id(Assign) -> output name

    @property
    def valid(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def analyze(text: str, input_columns, table_columns=None, *, profile: str = COMPAT_PROFILE, custom_table: bool = True) -> Analysis:
    try:
        return _analyze(text, input_columns, table_columns, profile=profile, custom_table=custom_table)
    except RecursionError:
        # thousands of nested parentheses/operators fit in the 15,360-character limit; the recursive-descent
        # parser and checker stop at Python's recursion limit: say so instead of failing with an internal error
        diag = Diagnostic(ERROR, "QueryTooComplex", "the query nests expressions too deeply to be checked (hundreds of levels of parentheses or chained operators)",
                          fix="split the expression over several extend steps, or use fewer nested parentheses", line=1, column=1,
                          excerpt=caret_excerpt(text, 1, 1), source="provision limit (Python recursion depth)")
        return Analysis(None, None, [diag])


def _analyze(text: str, input_columns, table_columns=None, *, profile: str = COMPAT_PROFILE, custom_table: bool = True) -> Analysis:
    source = Source(text)
    try:
        query = parse(text)
    except ParseError as error:
        line, column = source.location(error.pos)
        diag = Diagnostic(ERROR, error.code, error.message, fix=error.fix, line=line, column=column,
                          excerpt=caret_excerpt(text, line, column),
                          source="kql-subset.md 'Service error formats': SyntaxError:0x00000001 at line:column")
        return Analysis(None, None, [diag])
    checker = _Checker(text, source, profile)
    schema = {}
    for name, ctype in input_columns:
        schema[name] = normalize_type(ctype)
    output = checker.check_query(query, schema)
    if output is not None:
        checker.check_output(query, output, table_columns, custom_table)
    diags = sorted(checker.diagnostics, key=lambda d: (d.line or 0, d.column or 0))
    out_cols = None if output is None else [(name, ctype) for name, (ctype, _) in output.items()]
    return Analysis(query, out_cols, diags, checker.types, checker.column_names)


def _parse_column_type(item):
    """parse_pattern's view of a pattern item: a column's type, None for a wildcard (as the compiler builds it)."""
    return (normalize_type(item.type) or "string") if isinstance(item, A.ColumnDecl) else None


class _Scope:
    def __init__(self, scalars=None, tabulars=None, functions=None):
        self.scalars = dict(scalars or {})
        self.tabulars = dict(tabulars or {})
        self.functions = dict(functions or {})


class _Checker:
    def __init__(self, text: str, source: Source, profile: str):
        self.text = text
        self.source = source
        self.profile = profile
        self.diagnostics: list[Diagnostic] = []
        self.types: dict = {}
        self.column_names: dict = {}
        self.geo_calls: list[int] = []

    # ---- reporting ----
    def report(self, severity, code, message, pos, fix="", source=""):
        line, column = self.source.location(pos)
        self.diagnostics.append(Diagnostic(severity, code, message, fix=fix, line=line, column=column,
                                           excerpt=caret_excerpt(self.text, line, column), source=source))

    def error(self, code, message, pos, fix="", source=""):
        self.report(ERROR, code, message, pos, fix, source)

    # ---- statements ----
    def check_query(self, query: A.Query, input_schema):
        scope = _Scope(tabulars={"source": {k: (v, None) for k, v in input_schema.items()}})
        for let in query.lets:
            self.check_let(let, scope)
        result = self.check_pipeline(query.body, scope)
        if len(self.geo_calls) > 3:
            # azure-contract.md §9: geo_location "can add ingestion latency if used more than a few times".
            self.report(WARNING, "GeoLocationLatency", f"geo_location() is called {len(self.geo_calls)} times",
                        self.geo_calls[3], "call it once and reuse the result with extend",
                        "azure-contract.md §9 Special functions: geo_location latency")
        return result

    def check_let(self, let: A.Let, scope: _Scope):
        value = let.value
        if isinstance(value, A.FunctionDef):
            for p in value.params:
                if p.tabular:
                    # azure-contract.md §9: "Only UDFs with scalar arguments are supported".
                    self.error("UnsupportedFunction", f"function '{let.name}' takes a tabular parameter '{p.name}'", p.pos,
                               "DCR transforms support user-defined functions with scalar arguments only",
                               "azure-contract.md §9 Statements: let")
            scope.functions[let.name] = value
        elif isinstance(value, A.Pipeline):
            schema = self.check_pipeline(value, scope)
            scope.tabulars[let.name] = schema if schema is not None else {}
        else:
            scope.scalars[let.name] = self.expr(value, {}, scope)

    # ---- tabular ----
    def check_pipeline(self, pipe: A.Pipeline, scope: _Scope):
        src = pipe.source
        if isinstance(src, A.TableRef):
            if src.name in scope.tabulars:
                schema = dict(scope.tabulars[src.name])
            else:
                self.error("UnknownTable", f"unknown table '{src.name}': the only input is 'source'", src.pos,
                           "start the pipeline with 'source'", "azure-contract.md §9: the input table is named source")
                return None
        elif isinstance(src, A.Print):
            schema = {}
            self.assignments(src.assigns, schema, {}, scope, prefix="print_")
        else:
            schema = {}
            for col in src.columns:
                ctype = normalize_type(col.type)
                if ctype is None:
                    self.error("UnknownType", f"unknown type '{col.type}'", col.pos, "use string, int, long, real, bool, datetime, timespan, guid or dynamic")
                schema[col.name] = (ctype, col.pos)
            if len(src.values) % max(len(src.columns), 1):
                self.error("TypeMismatch", f"datatable has {len(src.values)} values for {len(src.columns)} columns", src.pos,
                           "give one value per column for every row")
            for i, value in enumerate(src.values):
                self.expr(value, {}, scope)
        for op in pipe.operators:
            schema = self.operator(op, schema, scope)
        return schema

    def operator(self, op, schema, scope):
        if isinstance(op, A.Extend):
            new = dict(schema)
            # Every expression of one extend sees the input row only (Kusto.Language: in
            # 'extend a = 1, b = a + 1' the name 'a' is unknown); chain extends instead.
            self.assignments(op.assigns, new, schema, scope, prefix="Column")
            return new
        if isinstance(op, A.Project):
            new = {}
            self.assignments(op.assigns, new, schema, scope, prefix="Column", project=True)
            return new
        if isinstance(op, A.ProjectAway):
            new = dict(schema)
            for name in op.names:
                if "*" in name.name and not name.quoted:
                    matched = [c for c in new if fnmatch.fnmatchcase(c, name.name)]
                    if not matched and name.name != "*":
                        self.error("UnknownColumn", f"no column matches '{name.name}'", name.pos, "remove the pattern or fix it")
                    for col in matched:
                        del new[col]
                elif name.name in new:
                    del new[name.name]
                else:
                    self.unknown_column(name.name, name.pos, schema)
            return new
        if isinstance(op, A.ProjectRename):
            new = dict(schema)
            for target, old in op.pairs:
                if old.name not in new:
                    self.unknown_column(old.name, old.pos, schema)
                    continue
                if target.name in new and target.name != old.name:
                    self.error("DuplicateColumn", f"column '{target.name}' already exists", target.pos,
                               f"project-away {target.name} first, or pick another name")
                    continue
                new = {(target.name if k == old.name else k): v for k, v in new.items() if k != target.name or k == old.name}
            return new
        if isinstance(op, A.Where):
            t = self.expr(op.predicate, schema, scope)
            if t not in (None, "boolean"):
                # Kusto.Language: "The expression must have the type bool" (also for dynamic values).
                fix = "convert it, e.g. where tobool(Props.flag)" if t == "dynamic" else "compare the value, e.g. where Column == \"x\""
                self.error("TypeMismatch", f"where needs a boolean predicate, got {t}", _pos(op.predicate), fix, SRC_TABULAR)
            return schema
        if isinstance(op, A.ParseOp):
            return self.parse_op(op, schema, scope)
        # kql-subset.md §1: "Only operators that take a single row ... anything not listed is unsupported".
        name = op.name.lower()
        source = SRC_TABULAR
        if name == "parse-kv":
            source = "kql-subset.md: parse-kv rejected (MicrosoftDocs/azure-docs issue #119016)"
        elif name == "summarize":
            source = "azure-contract.md §9: summarize is not supported"
        self.error("UnsupportedOperator", f"operator '{op.name}' is not supported in DCR transformations", op.pos,
                   _OPERATOR_FIXES.get(name, "use only extend, project, project-away, project-rename, where, parse"), source)
        return schema

    def parse_op(self, op: A.ParseOp, schema, scope):
        self.expr(op.expr, schema, scope)
        columns = [item for item in op.pattern if isinstance(item, A.ColumnDecl)]
        if len(columns) > 10:
            # azure-contract.md §9: "parse is limited to 10 columns per statement".
            self.error("TooManyParseColumns", f"parse extracts {len(columns)} columns; DCR transforms allow at most 10 per parse",
                       columns[10].pos, "split it into several parse operators of at most 10 columns each",
                       "azure-contract.md §9: parse is limited to 10 columns per statement")
        literals = [item for item in op.pattern if isinstance(item, str)]
        if literals:
            # The service matches the whole pattern as one RE2 regex (literals + a group per column), so check
            # it whole: "(" then a column then ")" is valid although neither literal is alone.
            text, spans = parse_pattern(op.kind, op.pattern, _parse_column_type)
            problem = explain(text, op.flags)
            if problem is not None:
                where = next((op.pattern[i] for start, end, i in spans
                              if problem.offset is not None and start <= problem.offset < end), literals[0])
                self.error("InvalidRegex", f"parse (its literals joined with a group per column): {problem.message}", getattr(where, "pos", op.pos), problem.fix, SRC_REGEX)
        new = dict(schema)
        for col in columns:
            ctype = normalize_type(col.type)
            if ctype is None:
                self.error("UnknownType", f"unknown type '{col.type}' for parsed column '{col.name}'", col.pos,
                           "use string, int, long, real, bool, datetime, timespan, guid or dynamic")
            new[col.name] = (ctype, col.pos)
        return new

    def assignments(self, assigns, target, row, scope, prefix, project=False):
        counter = 0
        for a in assigns:
            t = self.expr(a.expr, row if row is not None else {}, scope)
            if a.name is not None:
                name = a.name
            else:
                name = _derived_name(a.expr)
                if name is None:
                    name = f"{prefix}{counter}" if prefix == "print_" else f"{prefix}{counter + 1}"
                    counter += 1
            if project and name in target:
                self.error("DuplicateColumn", f"column '{name}' is projected twice", a.pos, "rename one of them: project New = Old")
            self.column_names[id(a)] = name
            pos = a.pos
            if a.name is None and isinstance(a.expr, A.Name) and a.expr.name in row and row[a.expr.name][1] is not None:
                pos = row[a.expr.name][1]  # a carried-over column keeps pointing at where it was computed
            target[name] = (t, pos)

    def unknown_column(self, name, pos, schema):
        candidates = list(schema)
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            fix = f"column names are case-sensitive: did you mean '{lowered[name.lower()]}'?"
        else:
            close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else (
                f"available columns: {', '.join(candidates[:12])}" if candidates else "no columns are in scope here")
        self.error("UnknownColumn", f"unknown column '{name}'", pos, fix,
                   "azure-contract.md §9: source has the input stream's columns")

    # ---- expressions ----
    def expr(self, node, row, scope):
        t = self._expr(node, row, scope)
        self.types[id(node)] = t
        return t

    def _expr(self, node, row, scope):
        cls = type(node)
        if cls is A.Literal:
            return node.type
        if cls is A.DynamicLiteral:
            return "dynamic"
        if cls is A.Name:
            if node.name in row:
                return row[node.name][0]
            if node.name in scope.scalars:
                return scope.scalars[node.name]
            self.unknown_column(node.name, node.pos, row)
            return None
        if cls is A.Paren:
            return self.expr(node.expr, row, scope)
        if cls is A.Member or cls is A.Index:
            target = self.expr(node.target, row, scope)
            if cls is A.Index:
                it = self.expr(node.index, row, scope)
                if it not in (None, "string", "int", "long", "dynamic"):
                    self.error("TypeMismatch", f"an index must be a number or a string, got {it}", _pos(node.index))
            if target not in (None, "dynamic"):
                what = f".{node.name}" if cls is A.Member else "[...]"
                self.error("TypeMismatch", f"'{what}' needs a dynamic value, but the expression is {target}", node.pos,
                           "declare the column as dynamic in the stream, or use parse_json(Column)" + what,
                           "azure-contract.md §9: Dynamic input: declare the column as dynamic, then parse_json(...)")
            return "dynamic"
        if cls is A.Unary:
            t = self.expr(node.operand, row, scope)
            if t not in (None, "dynamic", "timespan") and t not in NUMERIC:
                self.error("TypeMismatch", f"unary '{node.op}' needs a number or timespan, got {t}", node.pos)
            return t
        if cls is A.Binary:
            return self.binary(node, row, scope)
        if cls is A.InList:
            self.operator_allowed(node.op, node.pos)
            lt = self.expr(node.left, row, scope)
            for item in node.items:
                it = self.expr(item, row, scope)
                table = BINARY.get(node.op)
                if table is not None and lt is not None and it is not None and f"{lt},{it}" not in table:
                    self.error("TypeMismatch", f"the operator '{node.op}' is not defined for the operand types {lt} and {it}",
                               _pos(item), f"convert the values to {lt}", "signatures.py (Kusto.Language operator typing)")
            return "boolean"
        if cls is A.Between:
            self.operator_allowed(node.op, node.pos)
            for part in (node.left, node.low, node.high):
                self.expr(part, row, scope)
            return "boolean"
        if cls is A.Call:
            return self.call(node, row, scope)
        return None

    def operator_allowed(self, op, pos):
        if op in UNLISTED_OPS:
            # kql-subset.md §1: "Not listed, so unsupported in strict reading"; no evidence of acceptance either.
            alternative = {"in~": "use tolower(x) in (\"a\", \"b\")", "!in~": "use tolower(x) !in (\"a\", \"b\")",
                           "between": "use x >= low and x <= high", "!between": "use x < low or x > high",
                           "has_any": "use (x has \"a\" or x has \"b\")", "has_all": "use (x has \"a\" and x has \"b\")"}
            self.error("UnsupportedOperator", f"operator '{op}' is not supported in DCR transformations", pos,
                       alternative.get(op, "use has, contains, startswith or endswith"), SRC_OPS)

    def binary(self, node: A.Binary, row, scope):
        op = node.op
        lt = self.expr(node.left, row, scope)
        rt = self.expr(node.right, row, scope)
        self.operator_allowed(op, node.pos)
        if lt is not None and rt is not None and op in BINARY:
            # Types as Microsoft's binder types them (signatures.py, generated from Kusto.Language).
            result = BINARY[op].get(f"{_shape(node.left, lt)},{_shape(node.right, rt)}")
            if result is None:
                fix = "use strcat() to join strings" if op == "+" and "string" in (lt, rt) else \
                    f"convert an operand, e.g. {CONVERSION_FOR.get(rt if lt in ('string', 'dynamic') else lt, 'tostring')}(...)"
                self.error("TypeMismatch", f"the operator '{op}' is not defined for the operand types {lt} and {rt}", node.pos, fix,
                           "signatures.py (Kusto.Language operator typing); kql-subset.md §1 Scalar operators")
                return None
            self.check_regex(node)
            return result
        if op in ("and", "or"):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t not in (None, "boolean", "dynamic"):
                    self.error("TypeMismatch", f"'{op}' needs boolean operands, got {t}", _pos(side),
                               "compare the value, e.g. Column == \"x\"")
            return "boolean"
        if op in ARITHMETIC:
            return self.arithmetic(node, lt, rt)
        if op in COMPARISON:
            if not _comparable(lt, rt, ordered=op in ORDERED):
                self.error("TypeMismatch", f"cannot compare {lt} with {rt} using '{op}'", node.pos,
                           f"convert one side, e.g. {CONVERSION_FOR.get(lt, 'tostring')}(...)", SRC_OPS)
            return "boolean"
        self.check_regex(node)
        return "boolean"

    def check_regex(self, node: A.Binary) -> None:
        if node.op == "matches regex":
            self.regex_literal(node.right, "matches regex")

    def regex_literal(self, node, where: str) -> None:
        """A constant pattern must be RE2 syntax (the service compiles it with RE2 and refuses the DCR)."""
        if isinstance(node, A.Literal) and node.type == "string" and isinstance(node.value, str):
            problem = explain(node.value)
            if problem is not None:
                self.error("InvalidRegex", f"{where}: {problem.message}", _pos(node), problem.fix, SRC_REGEX)

    def arithmetic(self, node, lt, rt):
        op = node.op
        if lt is None or rt is None:
            return None
        if lt == "dynamic" or rt == "dynamic":
            return "dynamic"
        if lt in NUMERIC and rt in NUMERIC:
            if op == "/" and "real" not in (lt, rt):
                return max((lt, rt), key=NUMERIC.index)
            return max((lt, rt), key=NUMERIC.index)
        rules = {
            ("+", "datetime", "timespan"): "datetime", ("+", "timespan", "datetime"): "datetime",
            ("+", "timespan", "timespan"): "timespan", ("-", "datetime", "timespan"): "datetime",
            ("-", "datetime", "datetime"): "timespan", ("-", "timespan", "timespan"): "timespan",
            ("/", "timespan", "timespan"): "real", ("%", "timespan", "timespan"): "timespan",
        }
        result = rules.get((op, lt, rt))
        if result:
            return result
        if op in ("*", "/") and lt == "timespan" and rt in NUMERIC:
            return "timespan"
        if op == "*" and rt == "timespan" and lt in NUMERIC:
            return "timespan"
        fix = "use strcat() to join strings" if op == "+" and "string" in (lt, rt) else \
            f"convert the operands, e.g. {CONVERSION_FOR.get(lt, 'toreal')}(...)"
        self.error("TypeMismatch", f"operator '{op}' cannot be applied to {lt} and {rt}", node.pos, fix,
                   "kql-subset.md §1: all numerical operators, all datetime/timespan arithmetic")
        return None

    def call(self, node: A.Call, row, scope):
        name = node.name
        if name in scope.functions:
            return self.call_udf(node, scope.functions[name], row, scope)
        fn = CATALOGUE.get(name)
        lower = name.lower()
        if fn is None and lower in CATALOGUE:
            self.error("UnknownFunction", f"unknown function '{name}'", node.pos, f"function names are case-sensitive: use {lower}()")
            fn = CATALOGUE[lower]
        if lower == "typeof":
            return None
        arg_types = [self.expr(a, row, scope) if not (name == "columnifexists" and i == 0) else "string"
                     for i, a in enumerate(node.args)]
        if fn is None:
            hint = "DCR transformations support only the functions listed in the docs"
            if lower in KNOWN_KUSTO_ONLY:
                message = f"function '{name}' exists in Kusto but is not supported in DCR transformations"
            else:
                message = f"unknown function '{name}'"
                close = difflib.get_close_matches(lower, list(CATALOGUE), n=1, cutoff=0.75)
                if close and CATALOGUE[close[0]].status != REJECTED:
                    hint = f"did you mean {close[0]}()?"
            self.error("UnsupportedFunction" if lower in KNOWN_KUSTO_ONLY else "UnknownFunction", message, node.pos, hint,
                       "azure-contract.md §9 Scalar functions")
            return None
        if fn.status == REJECTED:
            self.error("UnsupportedFunction", f"function '{name}' is not supported in DCR transformations", node.pos, fn.fix,
                       fn.source)
            return None
        if fn.status == COMPAT and self.profile == STRICT:
            self.error("UnsupportedFunction", f"function '{name}' is not in the documented DCR function list (strict profile)",
                       node.pos, "use a documented function, or check with --profile compat (accepted by the service: "
                       + fn.source + ")", fn.source)
        if name == "geo_location":
            self.geo_calls.append(node.pos)
        count = len(node.args)
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            expected = str(fn.min_args) if fn.min_args == fn.max_args else (
                f"{fn.min_args} or more" if fn.max_args is None else f"{fn.min_args} to {fn.max_args}")
            self.error("WrongArgumentCount", f"{name}() takes {expected} arguments, got {count}", node.pos,
                       f"call {name}() with {expected} arguments")
            return None if callable(fn.returns) else fn.returns
        if name == "columnifexists":
            first = node.args[0]
            if not (isinstance(first, A.Literal) and first.type == "string"):
                self.error("TypeMismatch", "columnifexists() needs the column name as a string literal", _pos(first),
                           'write columnifexists("Name", default)')
                return arg_types[1]
            # The result has the default's type (as Kusto.Language types it); the column is converted.
            return arg_types[1]
        if name == "array_length" and isinstance(node.args[0], A.DynamicLiteral) and not isinstance(node.args[0].value, list):
            self.error("TypeMismatch", "array_length() needs a dynamic array", _pos(node.args[0]), "pass an array, e.g. dynamic([1, 2])")
            return "long"
        if name in ("extract", "extract_all", "replace"):
            self.regex_literal(node.args[0], f"{name}()")
        elif name == "countof" and count == 3 and isinstance(node.args[2], A.Literal) and node.args[2].value == "regex":
            self.regex_literal(node.args[1], "countof(..., 'regex')")
        typed = self.call_signature(node, name, fn, [_shape(a, t) for a, t in zip(node.args, arg_types)], row)
        if typed is not False:
            return typed
        for i, (arg, t) in enumerate(zip(node.args, arg_types)):
            expected = fn.args[i] if i < len(fn.args) else fn.rest
            if not _arg_ok(expected, t):
                self.error("TypeMismatch", f"argument {i + 1} of {name}() must be {_CLASS_TEXT[expected]}, got {t}", _pos(arg),
                           f"convert it, e.g. {_CLASS_FIX.get(expected, 'tostring')}(...)", "azure-contract.md §9 Scalar functions")
            if i in fn.literal_args and not _constant(arg, row):
                self.error("TypeMismatch", f"argument {i + 1} of {name}() must be a constant", _pos(arg), "write a literal here")
        if name in ("iif", "iff", "case"):
            preds = [0] if name != "case" else list(range(0, count - 1, 2))
            for i in preds:
                if arg_types[i] not in (None, "boolean"):
                    self.error("TypeMismatch", f"condition of {name}() must be boolean, got {arg_types[i]}", _pos(node.args[i]),
                               "compare the value, e.g. Column == \"x\"")
            if name == "case" and count % 2 == 0:
                self.error("WrongArgumentCount", "case() needs pairs of (condition, value) and a final else value", node.pos,
                           "add the else value as the last argument")
        if name == "extract" and count == 4:
            type_arg = node.args[3]
            if isinstance(type_arg, A.Call) and type_arg.name == "typeof" and type_arg.args and isinstance(type_arg.args[0], A.Name):
                return normalize_type(type_arg.args[0].name)
            return "string"
        return fn.returns(arg_types) if callable(fn.returns) else fn.returns

    def call_signature(self, node: A.Call, name: str, fn, arg_types, row):
        """Argument and result types from Microsoft's binder (signatures.py); False when it does not apply."""
        table = CALLS.get(name)
        count = len(arg_types)
        if table is None or None in arg_types or name in ("case", "extract", "pack") and count > 3 or count == 0:
            return False
        if count <= 3:
            keys = [",".join(arg_types)]
        elif fn.max_args is None:  # variadic: the table repeats the last position
            keys = [",".join(arg_types[:2] + [t]) for t in arg_types[2:]]
        else:
            keys = [",".join(arg_types[:3])]
        results = [table.get(k) for k in keys]
        if None in results:
            self.signature_error(node, name, table, keys[results.index(None)].split(","))
            return None
        for i in fn.literal_args:
            if i < count and not _constant(node.args[i], row):
                self.error("TypeMismatch", f"argument {i + 1} of {name}() must be a constant", _pos(node.args[i]), "write a literal here")
        if name in ("iif", "iff", "case", "max_of", "min_of"):
            return results[0] if len(set(results)) == 1 else "dynamic"
        if name == "extract" and count == 4:
            return False
        return results[0]

    def signature_error(self, node: A.Call, name: str, table: dict, types: list) -> None:
        """Name the argument that does not fit (and what would), else the whole call."""
        source = "signatures.py (Kusto.Language function signatures)"
        shown = lambda t: "dynamic" if t in ("array", "bag") else t
        for i, t in enumerate(types):
            fits = {parts[i] for parts in (k.split(",") for k in table)
                    if len(parts) == len(types) and all(j == i or parts[j] == types[j] for j in range(len(types)))}
            if fits and t not in fits:
                arg = node.args[min(i, len(node.args) - 1)] if i < 2 or len(types) == len(node.args) else node
                order = ("string", "long", "int", "real", "boolean", "datetime", "timespan", "guid", "dynamic")
                wanted = sorted({shown(f) for f in fits}, key=lambda w: order.index(w) if w in order else len(order))
                self.error("TypeMismatch", f"argument {i + 1} of {name}() must be {' or '.join(wanted)}, got {shown(t)}", _pos(arg),
                           f"convert it, e.g. {CONVERSION_FOR.get(wanted[0], 'tostring')}(...)", source)
                return
        self.error("TypeMismatch", f"{name}() is not compatible with arguments ({', '.join(shown(t) for t in types)})", node.pos,
                   f"check the argument types of {name}()", source)

    def call_udf(self, node: A.Call, fdef: A.FunctionDef, row, scope):
        for a in node.args:
            self.expr(a, row, scope)
        required = sum(1 for p in fdef.params if p.default is None)
        if not required <= len(node.args) <= len(fdef.params):
            self.error("WrongArgumentCount", f"{node.name}() takes {required} to {len(fdef.params)} arguments, got {len(node.args)}",
                       node.pos, "match the function's parameters")
        inner = _Scope(scope.scalars, scope.tabulars, scope.functions)
        for p in fdef.params:
            # Parameters have their declared type (Kusto.Language does not reject other argument types).
            inner.scalars[p.name] = normalize_type(p.type)
        for let in fdef.lets:
            self.check_let(let, inner)
        if isinstance(fdef.body, A.Pipeline):
            self.error("UnsupportedFunction", f"function '{node.name}' returns a table; only scalar functions can be called here",
                       node.pos, "make the function return a scalar expression")
            return None
        # The body is checked per call site (argument types may differ).
        return self.expr(fdef.body, {}, inner)

    # ---- output ----
    def check_output(self, query: A.Query, output, table_columns, custom_table):
        end = len(self.text.rstrip())
        pos_of = lambda name: output[name][1] if output[name][1] is not None else query.body.pos
        if "TimeGenerated" not in output:
            if custom_table:
                lowered = [c for c in output if c.lower() == "timegenerated"]
                fix = (f"rename '{lowered[0]}' to TimeGenerated (names are case-sensitive)" if lowered else
                       "add '| extend TimeGenerated = now()' or project a datetime column as TimeGenerated")
                self.error("MissingTimeGenerated", "the transform output has no TimeGenerated column", max(end - 1, 0), fix,
                           "kql-subset.md §1: the output must contain TimeGenerated of type datetime")
        else:
            t = output["TimeGenerated"][0]
            if t not in (None, "datetime"):
                self.error("InvalidTransformOutput", f"TimeGenerated must be datetime, but the transform produces {t}",
                           pos_of("TimeGenerated"), "wrap it in todatetime(...)",
                           "kql-subset.md §1: the output must contain TimeGenerated of type datetime")
        if table_columns is None:
            return
        table = {name: normalize_type(ctype) for name, ctype in table_columns}
        by_lower = {name.lower(): name for name in table}
        for name, (t, _) in output.items():
            if name not in table:
                hint = f"did you mean '{by_lower[name.lower()]}'? column names are case-sensitive" if name.lower() in by_lower else \
                    f"add it to the table, or drop it with '| project-away {name}'"
                # kql-subset.md §1: columns not in the table are "accepted without error, but you pay for ingesting data that isn't stored".
                self.report(WARNING, "ExtraColumn", f"output column '{name}' is not in the destination table: it is billed, then dropped",
                            pos_of(name), hint, SRC_OUTPUT)
                continue
            if name == "TimeGenerated":
                continue
            if not output_compatible(t, table[name]):
                self.error("InvalidTransformOutput", f"column '{name}' is {t} in the transform output but {table[name]} in the table",
                           pos_of(name), f"convert it: {name} = {CONVERSION_FOR.get(table[name] or '', 'tostring')}(...)",
                           "azure-contract.md §5.3 InvalidTransformOutput (output type must match the destination column)")


_CLASS_TEXT = {"string": "a string", "num": "a number", "numlike": "a number, datetime or timespan", "datetime": "a datetime",
               "timespan": "a timespan", "bool": "a boolean", "dynamic": "dynamic", "any": "any value", "int": "int",
               "long": "long", "real": "real", "boolean": "a boolean", "guid": "a guid"}
_CLASS_FIX = {"string": "tostring", "num": "toreal", "numlike": "toreal", "datetime": "todatetime", "timespan": "totimespan",
              "bool": "tobool", "dynamic": "parse_json"}


_ARRAY_MAKERS = {"pack_array", "split", "extract_all", "array_concat", "zip"}


def _shape(node, t):
    """Kusto.Language tells dynamic arrays and bags it can see from plain dynamic values (signatures.py)."""
    if t != "dynamic":
        return t
    if isinstance(node, A.Paren):
        return _shape(node.expr, t)
    if isinstance(node, A.DynamicLiteral):
        return "array" if isinstance(node.value, list) else "bag" if isinstance(node.value, dict) else t
    if isinstance(node, A.Call):
        if node.name in _ARRAY_MAKERS:
            return "array"
        if node.name == "pack":
            return "bag"
    return t


def _arg_ok(expected: str, t) -> bool:
    if t is None or t == "dynamic" or expected == "any":
        return True
    if expected == "num":
        return t in NUMERIC
    if expected == "numlike":
        return t in NUMERIC or t in ("datetime", "timespan")
    if expected == "bool":
        return t == "boolean"
    if expected == "string":
        return t in ("string", "guid")
    if expected == "dynamic":
        return False
    return t == expected


def _comparable(lt, rt, ordered) -> bool:
    if lt is None or rt is None or lt == "dynamic" or rt == "dynamic" or lt == rt:
        return True
    if lt in NUMERIC and rt in NUMERIC:
        return True
    return not ordered and {lt, rt} == {"string", "guid"}


def _constant(node, row) -> bool:
    """Kusto.Language's notion of a constant argument: literals, let scalars and calls on constants
    (tolong("3")), but not operator expressions ((16 + 7) is "not a constant"; test_differential.py)."""
    if isinstance(node, A.Name):
        return node.name not in row
    if isinstance(node, (A.Literal, A.DynamicLiteral)):
        return True
    children = []
    if isinstance(node, A.Call):
        children = list(node.args)
    elif isinstance(node, (A.Unary,)):
        children = [node.operand]
    elif isinstance(node, A.Paren):
        children = [node.expr]
    elif isinstance(node, (A.Member, A.Index)):
        children = [node.target]
    else:
        return False
    return all(_constant(c, row) for c in children)


def _derived_name(expr):
    """Kusto's name for an unnamed extend/project expression: a column keeps its name, x.y becomes x_y."""
    if isinstance(expr, A.Name):
        return expr.name
    if isinstance(expr, A.Member):
        base = _derived_name(expr.target)
        return f"{base}_{expr.name}" if base else None
    if isinstance(expr, A.Index) and isinstance(expr.index, A.Literal) and expr.index.type == "string":
        base = _derived_name(expr.target)
        return f"{base}_{expr.index.value}" if base else None
    return None


def _pos(node) -> int:
    """Position of the leftmost token of an expression (for carets)."""
    while True:
        if isinstance(node, (A.Binary, A.InList, A.Between)):
            node = node.left
        elif isinstance(node, (A.Member, A.Index)):
            node = node.target
        else:
            return getattr(node, "pos", 0)
