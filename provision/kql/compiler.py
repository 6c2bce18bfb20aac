"""Compiler: a checked AST -> Python closures, run once per record (the evaluator).

The AST is walked once per DCR version; each expression becomes a closure
``f(row) -> value`` specialised on the static types the checker inferred, so a
record costs a few closure calls rather than an AST walk. A pipeline over
``source`` (the common shape) then runs as generated Python source (codegen.py),
which writes the simple constructs inline and calls these closures for the rest:
the closures are the reference semantics (tests/kql/test_codegen.py).

KQL semantics implemented here: nulls propagate through operators and most
functions; failed conversions give null; string operators are case-insensitive
unless ``_cs``; ``has`` matches whole terms; ``where`` keeps a row only when the
predicate is true (null is false); integer division truncates toward zero and an
integer division by zero gives null; real division follows IEEE (inf/NaN). An
invalid regular expression reaching a function at run time raises
``TransformRuntimeError`` (the record is dropped and counted, as the service does).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import math
import operator
import re
import time
import uuid
from typing import Any

from provision.kql import ast as A
from provision.kql.checker import Analysis, _derived_name, _parse_column_type
from provision.kql.functions import CATALOGUE, CONVERTERS, NUMERIC, to_bool
from provision.kql.regex import RegexError, compile_regex, parse_pattern
from provision.kql.types import normalize_type
from provision.kql.values import to_json_value, to_string

_EXPECTED_ERRORS = (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError)


class _Ctx:
    def __init__(self, analysis: Analysis):
        self.types = analysis.types
        self.names = analysis.column_names
        self.scalars: dict = {}  # let name -> closure(row)
        self.tabulars: dict = {}  # let name -> (run(record_row) -> row | None, columns)
        self.functions: dict = {}  # let name -> FunctionDef


def compile_analysis(query_text: str, analysis: Analysis, input_columns, *, generate: bool = True):
    """The Transform of a checked query. ``generate``: a pipeline over ``source`` runs as generated Python source
    (codegen.py); False keeps every step a closure (the reference the generated code is tested against)."""
    ctx = _Ctx(analysis)
    query = analysis.query
    if query is None:
        raise ValueError("compile_analysis needs the analysis of a query that parsed")
    columns = [(name, normalize_type(t)) for name, t in input_columns]
    for let in query.lets:
        _compile_let(let, ctx, [n for n, _ in columns])
    body = query.body
    if generate and isinstance(body.source, A.TableRef) and body.source.name == "source":
        # The common shape (a pipeline over the record): generated as Python source, steps inline (codegen.py).
        return Transform(query_text, columns, analysis.output_columns, None, body=body, ctx=ctx)
    run, names = _compile_pipeline(body, ctx, [n for n, _ in columns])
    return Transform(query_text, columns, analysis.output_columns, run, names)



def _compile_let(let: A.Let, ctx: _Ctx, input_names):
    value = let.value
    if isinstance(value, A.FunctionDef):
        ctx.functions[let.name] = value
    elif isinstance(value, A.Pipeline):
        ctx.tabulars[let.name] = _compile_pipeline(value, ctx, input_names)
    else:
        f = _expr(value, ctx, set())
        ctx.scalars[let.name] = lambda row, f=f: f({})


# ---- tabular ----
def _compile_pipeline(pipe: A.Pipeline, ctx: _Ctx, input_names):
    src = pipe.source
    if isinstance(src, A.TableRef):
        if src.name == "source":
            head, names = (lambda row: row), list(input_names)
        else:
            head, names = ctx.tabulars[src.name]
    elif isinstance(src, A.Print):
        fns, names = _assign_fns(src.assigns, ctx, set(), "print_")

        def head(row, fns=fns):
            out = {}
            for name, f in fns:
                out[name] = f(out)
            return out
    else:
        head, names = _datatable(src, ctx)
    compiled_steps = []
    for op in pipe.operators:
        step, names = _compile_operator(op, ctx, names)
        compiled_steps.append(step)
    steps = tuple(compiled_steps)
    if not steps:
        return head, names

    def run(row, head=head, steps=steps):
        row = head(row)
        for step in steps:
            if row is None:
                return None
            row = step(row)
        return row
    return run, names


def _datatable(src: A.DataTable, ctx: _Ctx):
    names = [c.name for c in src.columns]
    values = [_expr(v, ctx, set())({}) for v in src.values]
    width = max(len(names), 1)
    rows = [dict(zip(names, values[i:i + width])) for i in range(0, len(values), width)]

    def head(row, rows=rows):
        # A per-record transform returns at most one row (azure-contract.md §9): the first one.
        return dict(rows[0]) if rows else None
    return head, names


def _assign_fns(assigns, ctx, columns, prefix):
    fns = []
    names = []
    for a in assigns:
        name = ctx.names.get(id(a)) or a.name or _derived_name(a.expr) or prefix
        fns.append((name, _expr(a.expr, ctx, columns)))
        if name not in names:
            names.append(name)
    return tuple(fns), names


def _compile_operator(op, ctx: _Ctx, names):
    if isinstance(op, A.Extend):
        fns, new_names = _assign_fns(op.assigns, ctx, set(names), "Column")

        # All expressions see the input row (Kusto semantics), then the columns are set.
        body = [f"    v{i} = f{i}(row)" for i in range(len(fns))]
        body += [f"    row[{name!r}] = v{i}" for i, (name, _) in enumerate(fns)]
        extend = _generate("extend", body + ["    return row"], {f"f{i}": f for i, (_, f) in enumerate(fns)})
        return extend, names + [n for n in new_names if n not in names]
    if isinstance(op, A.Project):
        fns, new_names = _assign_fns(op.assigns, ctx, set(names), "Column")
        if all(isinstance(a.expr, A.Name) and a.expr.name in names for a in op.assigns):
            pairs = tuple((name, a.expr.name) for (name, _), a in zip(fns, op.assigns))

            def project_columns(row, pairs=pairs):
                return {new: row[old] for new, old in pairs}
            return project_columns, new_names

        items = ", ".join(f"{name!r}: f{i}(row)" for i, (name, _) in enumerate(fns))
        project = _generate("project", [f"    return {{{items}}}"], {f"f{i}": f for i, (_, f) in enumerate(fns)})
        return project, new_names
    if isinstance(op, A.ProjectAway):
        drop: set[str] = set()
        for n in op.names:
            if "*" in n.name and not n.quoted:
                drop.update(c for c in names if fnmatch.fnmatchcase(c, n.name))
            else:
                drop.add(n.name)
        keep = tuple(c for c in names if c not in drop)

        def project_away(row, keep=keep):
            return {c: row[c] for c in keep}
        return project_away, list(keep)
    if isinstance(op, A.ProjectRename):
        mapping = {old.name: new.name for new, old in op.pairs}
        new_names = []
        for c in names:
            target = mapping.get(c, c)
            if target in mapping.values() and c not in mapping:
                continue  # overwritten by a rename onto an existing name
            new_names.append(target)
        pairs = tuple((mapping.get(c, c), c) for c in names if not (c not in mapping and c in mapping.values()))

        def rename(row, pairs=pairs):
            return {new: row[old] for new, old in pairs}
        return rename, new_names
    if isinstance(op, A.Where):
        pred = _expr(op.predicate, ctx, set(names))
        if ctx.types.get(id(op.predicate)) == "boolean":
            def where(row, pred=pred):
                return row if pred(row) is True else None
        else:
            def where(row, pred=pred):
                return row if to_bool(pred(row)) is True else None
        return where, names
    if isinstance(op, A.ParseOp):
        return _compile_parse(op, ctx, names)
    raise ValueError(f"operator {type(op).__name__} cannot be compiled")


def _generate(name: str, body: list[str], env: dict):
    """A small straight-line function (no per-record loops); column names enter only through repr()."""
    exec(compile(f"def {name}(row):\n" + "\n".join(body), f"<transformKql {name}>", "exec"), env)  # noqa: S102
    return env[name]


def _compile_parse(op: A.ParseOp, ctx: _Ctx, names):
    source = _expr(op.expr, ctx, set(names))
    columns = [item for item in op.pattern if isinstance(item, A.ColumnDecl)]
    # RE2 for every kind: the lazy groups of a simple/relaxed parse backtrack polynomially in Python's re.
    text, _ = parse_pattern(op.kind, op.pattern, _parse_column_type)
    pattern = compile_regex(text, op.flags)  # RegexError: the checker refused it already (compile_transform reports it)
    matcher = pattern.search if op.kind == "regex" else pattern.match
    converters = tuple((c.name, CONVERTERS.get(normalize_type(c.type) or "string", to_string),
                        normalize_type(c.type) or "string") for c in columns)
    empty = {name: ("" if t == "string" else None) for name, _, t in converters}

    def parse(row):
        text = source(row)
        if type(text) is not str:
            text = to_string(text)
        spans = matcher(text)
        if spans is None:
            row.update(empty)
            return row
        for (name, conv, t), span in zip(converters, spans[1:]):
            value = None if span[0] < 0 else text[span[0]:span[1]]
            row[name] = value if t == "string" else conv(value)
        return row
    return parse, names + [c.name for c in columns if c.name not in names]


# ---- expressions ----
def _expr(node, ctx: _Ctx, columns):
    cls = type(node)
    if cls is A.Literal:
        value = node.value
        return lambda row: value
    if cls is A.DynamicLiteral:
        value = node.value
        return lambda row: value
    if cls is A.Name:
        name = node.name
        if name in columns:
            return lambda row: row[name]
        if name in ctx.scalars:
            return ctx.scalars[name]
        return lambda row: row.get(name)  # UDF parameters (checked already)
    if cls is A.Paren:
        return _expr(node.expr, ctx, columns)
    if cls is A.Member:
        target = _expr(node.target, ctx, columns)
        key = node.name

        def member(row):
            v = target(row)
            return v.get(key) if type(v) is dict else None
        return member
    if cls is A.Index:
        return _index(node, ctx, columns)
    if cls is A.Unary:
        operand = _expr(node.operand, ctx, columns)
        if node.op == "+":
            return operand

        def negate(row):
            v = operand(row)
            if v is None or type(v) is bool or not isinstance(v, (int, float, _dt.timedelta)):
                return None
            return -v
        return negate
    if cls is A.Binary:
        return _binary(node, ctx, columns)
    if cls is A.InList:
        return _in_list(node, ctx, columns)
    if cls is A.Between:
        left, low, high = (_expr(x, ctx, columns) for x in (node.left, node.low, node.high))
        negated = node.op.startswith("!")

        def between(row):
            v, lo, hi = left(row), low(row), high(row)
            if v is None or lo is None or hi is None:
                return None
            try:
                return (lo <= v <= hi) != negated
            except TypeError:
                return None
        return between
    if cls is A.Call:
        return _call(node, ctx, columns)
    raise ValueError(f"cannot compile {cls.__name__}")


def _index(node: A.Index, ctx, columns):
    target = _expr(node.target, ctx, columns)
    index = _expr(node.index, ctx, columns)

    def get(row):
        v = target(row)
        i = index(row)
        if type(v) is list and type(i) is int:
            if -len(v) <= i < len(v):
                return v[i]
            return None
        if type(v) is dict and i is not None:
            return v.get(i if type(i) is str else to_string(i))
        return None
    return get


def _logic(op, left, right):
    if op == "and":
        def f(row):
            x = left(row)
            if type(x) is not bool:
                x = to_bool(x)
            if x is False:
                return False
            y = right(row)
            if type(y) is not bool:
                y = to_bool(y)
            if y is False:
                return False
            return None if x is None or y is None else True
        return f

    def g(row):
        x = left(row)
        if type(x) is not bool:
            x = to_bool(x)
        if x is True:
            return True
        y = right(row)
        if type(y) is not bool:
            y = to_bool(y)
        if y is True:
            return True
        return None if x is None or y is None else False
    return g


def _cmp_values(x, y):
    """Normalise a pair for comparison (guid vs string, numbers across int/real)."""
    if type(x) is uuid.UUID and type(y) is str:
        return str(x), y.lower()
    if type(y) is uuid.UUID and type(x) is str:
        return x.lower(), str(y)
    return x, y


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _binary(node: A.Binary, ctx, columns):
    op = node.op
    left = _expr(node.left, ctx, columns)
    right = _expr(node.right, ctx, columns)
    lt, rt = ctx.types.get(id(node.left)), ctx.types.get(id(node.right))
    if op in ("and", "or"):
        return _logic(op, left, right)
    if op in ("==", "!="):
        want = op == "=="
        if lt == rt == "string":
            if want:
                return lambda row: left(row) == right(row)
            return lambda row: left(row) != right(row)

        def eq(row):
            x, y = left(row), right(row)
            if x is None or y is None:
                return None
            x, y = _cmp_values(x, y)
            return (x == y) == want
        return eq
    if op in _ORDER:
        compare = _ORDER[op]
        if lt in NUMERIC and rt in NUMERIC:
            cmp = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

            def order_numeric(row):
                x = left(row)
                if x is None:
                    return None
                y = right(row)
                return None if y is None else cmp(x, y)
            return order_numeric

        def order(row):
            x, y = left(row), right(row)
            if x is None or y is None:
                return None
            try:
                return compare(x, y)
            except TypeError:
                return None
        return order
    if op in ("+", "-", "*", "/", "%"):
        return _arith(op, left, right, lt, rt)
    if op == "matches regex":
        return _regex_op(node, left, right)
    return _string_op(op, node, left, right)


def _int_div(a, b):
    if b == 0:
        return None
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _int_mod(a, b):
    if b == 0:
        return None
    return a - b * _int_div(a, b)


def _real_div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or (type(a) is float and math.isnan(a)):
            return math.nan
        return math.copysign(math.inf, a) * (1 if math.copysign(1, b) > 0 else -1)


def _generic_arith(op, x, y):
    if x is None or y is None:
        return None
    tx, ty = type(x), type(y)
    if tx is bool or ty is bool:
        return None
    try:
        if tx is int and ty is int:
            if op == "/":
                return _int_div(x, y)
            if op == "%":
                return _int_mod(x, y)
        elif op == "/" and tx in (int, float) and ty in (int, float):
            return _real_div(float(x), y)
        elif op == "%" and tx in (int, float) and ty in (int, float):
            return math.fmod(x, y) if y else math.nan
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return x / y
        if op == "%":
            return x % y
    except (TypeError, OverflowError, ZeroDivisionError, ValueError):
        return None
    return None


def _arith(op, left, right, lt, rt):
    if lt in NUMERIC and rt in NUMERIC:
        if op == "+":
            def add(row):
                x, y = left(row), right(row)
                return None if x is None or y is None else x + y
            return add
        if op == "-":
            def sub(row):
                x, y = left(row), right(row)
                return None if x is None or y is None else x - y
            return sub
        if op == "*":
            def mul(row):
                x, y = left(row), right(row)
                return None if x is None or y is None else x * y
            return mul
        if "real" in (lt, rt) and op == "/":
            def div(row):
                x, y = left(row), right(row)
                return None if x is None or y is None else _real_div(float(x), y)
            return div

    def arith(row):
        return _generic_arith(op, left(row), right(row))
    return arith


def _regex_op(node, left, right):
    if isinstance(node.right, A.Literal) and node.right.type == "string":
        compiled = compile_regex(node.right.value)

        def matches(row):
            v = left(row)
            return None if v is None else compiled.test(v if type(v) is str else to_string(v))
        return matches

    def matches_dynamic(row):
        v, p = left(row), right(row)
        if v is None or p is None:
            return None
        try:
            return compile_regex(to_string(p)).test(to_string(v))
        except RegexError as exc:
            from provision.kql import TransformRuntimeError

            raise TransformRuntimeError(f"matches regex: {exc.message}") from None
    return matches_dynamic


_TERM = "A-Za-z0-9"


def _has_regex(needle: str, case: bool) -> re.Pattern:
    """'has': the needle must sit on term boundaries (terms are runs of ASCII letters and digits)."""
    body = re.escape(needle)
    start = f"(?<![{_TERM}])" if needle[:1].isalnum() else ""
    end = f"(?![{_TERM}])" if needle[-1:].isalnum() else ""
    return re.compile(start + body + end, 0 if case else re.IGNORECASE)


def _string_test(base: str, case: bool):
    if base == "contains":
        return (lambda h, n: n in h) if case else (lambda h, n: n.lower() in h.lower())
    if base == "startswith":
        return (lambda h, n: h.startswith(n)) if case else (lambda h, n: h.lower().startswith(n.lower()))
    if base == "endswith":
        return (lambda h, n: h.endswith(n)) if case else (lambda h, n: h.lower().endswith(n.lower()))
    if base == "hasprefix":
        return lambda h, n: re.search(r"(?<![A-Za-z0-9])" + re.escape(n), h, 0 if case else re.IGNORECASE) is not None
    if base == "hassuffix":
        return lambda h, n: re.search(re.escape(n) + r"(?![A-Za-z0-9])", h, 0 if case else re.IGNORECASE) is not None
    if base == "like":
        return lambda h, n: fnmatch.fnmatchcase(h if case else h.lower(), (n if case else n.lower()).replace("%", "*"))
    if base in ("=~", "!~"):
        return lambda h, n: h.lower() == n.lower()
    return lambda h, n: (not n) or _has_regex(n, case).search(h) is not None  # has


def _string_op(op, node, left, right):
    negated = op.startswith("!")
    base = op.lstrip("!")
    case = base.endswith("_cs")
    base = base[:-3] if case else base
    if op in ("=~", "!~"):
        base = "=~"
    if base == "has" and isinstance(node.right, A.Literal) and node.right.type == "string":
        needle = node.right.value
        compiled = _has_regex(needle, case) if needle else None

        def has_const(row):
            h = left(row)
            if h is None:
                return None
            if compiled is None:
                return not negated
            return (compiled.search(h if type(h) is str else to_string(h)) is not None) != negated
        return has_const
    test = _string_test(base, case)
    if base in ("contains", "=~") and not case and isinstance(node.right, A.Literal) and node.right.type == "string":
        needle = node.right.value.lower()
        if base == "contains":
            def contains_const(row):
                h = left(row)
                if h is None:
                    return None
                return (needle in (h if type(h) is str else to_string(h)).lower()) != negated
            return contains_const

    def string_op(row):
        h, n = left(row), right(row)
        if h is None or n is None:
            return None
        return test(h if type(h) is str else to_string(h), n if type(n) is str else to_string(n)) != negated
    return string_op


def _in_list(node: A.InList, ctx, columns):
    left = _expr(node.left, ctx, columns)
    negated = node.op.startswith("!")
    case_insensitive = node.op.endswith("~")
    if node.op in ("has_any", "has_all"):
        items = [_expr(i, ctx, columns) for i in node.items]
        want_all = node.op == "has_all"

        def has_list(row):
            h = left(row)
            if h is None:
                return None
            h = to_string(h)
            needles = []
            for f in items:
                v = f(row)
                needles.extend(v if type(v) is list else [v])
            results = (bool(n) and _has_regex(to_string(n), False).search(h) is not None for n in needles if n is not None)
            return all(results) if want_all else any(results)
        return has_list
    consts = all(isinstance(i, (A.Literal, A.DynamicLiteral)) for i in node.items)

    def norm(v):
        if type(v) is str:
            return v.lower() if case_insensitive else v
        if type(v) is uuid.UUID:
            return str(v)
        if type(v) is float and math.isfinite(v) and v == int(v):
            return int(v)
        return v

    def expand(values):
        out = []
        for v in values:
            if type(v) is list:
                out.extend(norm(x) for x in v)
            else:
                out.append(norm(v))
        return out

    if consts:
        values = expand([i.value for i in node.items])
        try:
            lookup = frozenset(values)
        except TypeError:
            lookup = values

        def in_const(row):
            v = left(row)
            if v is None:
                return None
            try:
                return (norm(v) in lookup) != negated
            except TypeError:
                return negated
        return in_const
    items = [_expr(i, ctx, columns) for i in node.items]

    def in_dynamic(row):
        v = left(row)
        if v is None:
            return None
        return (norm(v) in expand([f(row) for f in items])) != negated
    return in_dynamic


_STATIC_GETTYPE = {"boolean": "bool", "int": "int", "long": "long", "real": "real", "string": "string", "datetime": "datetime",
                   "timespan": "timespan", "guid": "guid"}


def _call(node: A.Call, ctx: _Ctx, columns):
    name = node.name
    if name in ctx.functions:
        return _call_udf(node, ctx.functions[name], ctx, columns)
    args: list[Any] = [_expr(a, ctx, columns) if not (name == "columnifexists" and i == 0) and not
            (isinstance(a, A.Call) and a.name == "typeof") else None for i, a in enumerate(node.args)]
    if name in ("iif", "iff"):
        pred, a, b = args
        return lambda row: a(row) if pred(row) is True else b(row)
    if name == "case":
        pairs = tuple((args[i], args[i + 1]) for i in range(0, len(args) - 1, 2))
        default = args[-1]

        def case(row):
            for p, v in pairs:
                if p(row) is True:
                    return v(row)
            return default(row)
        return case
    if name == "columnifexists":
        column = node.args[0].value
        if column not in columns:
            return args[1]
        conv = CONVERTERS.get(ctx.types.get(id(node)) or "dynamic")
        if ctx.types.get(id(node)) in (None, "dynamic") or conv is None:
            return lambda row: row[column]
        return lambda row: conv(row[column])
    if name == "gettype":
        static = ctx.types.get(id(node.args[0]))
        if static in _STATIC_GETTYPE:
            value = _STATIC_GETTYPE[static]
            inner = args[0]
            return lambda row: "null" if inner(row) is None and static != "string" else value
    if name == "extract" and len(node.args) == 4:
        type_arg = node.args[3]
        type_name = normalize_type(type_arg.args[0].name) if isinstance(type_arg, A.Call) and type_arg.args and \
            isinstance(type_arg.args[0], A.Name) else "string"
        args[3] = lambda row, t=type_name: t
    fn = CATALOGUE[name]
    impl = fn.impl
    # Arguments that must be strings get non-string values (dynamic) converted, as KQL does.
    for i, a in enumerate(node.args):
        expected = fn.args[i] if i < len(fn.args) else fn.rest
        if expected == "string" and ctx.types.get(id(a)) not in ("string", None) and args[i] is not None:
            args[i] = _as_string(args[i])
    compiled = tuple(args)  # the argument closures, fixed from here on
    null_safe = fn.null_safe
    if len(compiled) == 1:
        a0 = compiled[0]
        if null_safe:
            def call1_safe(row):
                try:
                    return impl(a0(row))
                except RegexError as exc:
                    raise _runtime(name, exc) from None
                except _EXPECTED_ERRORS:
                    return None
            return call1_safe

        def call1(row):
            v = a0(row)
            if v is None:
                return None
            try:
                return impl(v)
            except RegexError as exc:
                raise _runtime(name, exc) from None
            except _EXPECTED_ERRORS:
                return None
        return call1

    def call(row):
        values = [a(row) for a in compiled]
        if not null_safe and None in values:
            return None
        try:
            return impl(*values)
        except RegexError as exc:
            raise _runtime(name, exc) from None
        except _EXPECTED_ERRORS:
            return None
    return call


def _runtime(name, exc):
    from provision.kql import TransformRuntimeError

    return TransformRuntimeError(f"{name}(): {exc}")


def _as_string(argument):
    """``argument``'s closure, its non-string values converted to string (a string parameter given dynamic)."""
    def as_string(row):
        value = argument(row)
        return value if value is None or type(value) is str else to_string(value)
    return as_string


def _default_argument(default):
    """A UDF parameter's default, evaluated without a row (defaults are constants)."""
    return lambda row: default({})


def _call_udf(node: A.Call, fdef: A.FunctionDef, ctx: _Ctx, columns):
    args = [_expr(a, ctx, columns) for a in node.args]
    params = [p.name for p in fdef.params]
    # None for a parameter without a default: the checker refused calls that leave one out
    defaults: list[Any] = [(_expr(p.default, ctx, set()) if p.default is not None else None) for p in fdef.params]
    inner = _Ctx.__new__(_Ctx)
    inner.types, inner.names = ctx.types, ctx.names
    inner.scalars = dict(ctx.scalars)
    inner.tabulars, inner.functions = ctx.tabulars, ctx.functions
    for p in params:
        inner.scalars.pop(p, None)
    for let in fdef.lets:
        _compile_let(let, inner, [])
    body = _expr(fdef.body, inner, set(params))
    bound = tuple(zip(params, [args[i] if i < len(args) else _default_argument(defaults[i])
                               for i in range(len(params))]))

    def udf(row):
        return body({p: f(row) for p, f in bound})
    return udf


# ---- the compiled transform ----
def _input_converter(kql_type):
    if kql_type == "string":
        return lambda v: v if type(v) is str else ("" if v is None else to_string(v))
    if kql_type in ("int", "long"):
        conv = CONVERTERS[kql_type]
        return lambda v: v if type(v) is int else conv(v)
    if kql_type == "real":
        return lambda v: v if type(v) is float else (float(v) if type(v) is int else CONVERTERS["real"](v))
    if kql_type == "boolean":
        return lambda v: v if type(v) is bool else to_bool(v)
    if kql_type == "dynamic":
        return None
    if kql_type in CONVERTERS:
        return CONVERTERS[kql_type]
    return None


_PLAIN = (str, int, bool, type(None))
_OUTPUT_PLAIN = ("string", "int", "long", "boolean", "guid")


def _json_real(v):
    return v if v is None or math.isfinite(v) else to_json_value(v)


def _json_any(v):
    return v if type(v) in _PLAIN else to_json_value(v)


class Transform:
    """A compiled transform. ``run(record)`` -> JSON-ready output row, or None when ``where`` filtered it out.

    Raises ``TransformRuntimeError`` for a record the service would drop. Input values are
    JSON-decoded; datetimes arrive as ISO strings and leave as ISO 8601 strings with 'Z'.
    Fields of the record that are not input columns are ignored (the stream declaration
    defines the columns). ``print`` / ``datatable`` pipelines ignore the record and produce
    their (first) row.

    For speed, ``run`` is one generated Python function per transform (codegen.build_runner): the
    input conversion, the steps of a pipeline over ``source`` with their expressions inline, and the
    output formatting, specialised on the column types.
    """

    def __init__(self, query, input_columns, output_columns, pipeline, names=None, *, body=None, ctx=None):
        from provision.kql.codegen import build_runner

        self.query = query
        self.input_columns = list(input_columns)
        self.output_columns = output_columns
        self.run = build_runner(self.input_columns, output_columns, pipeline, names, body=body, ctx=ctx)

    def run_many(self, records, deadline: float | None = None):
        """Run every record: (output rows, filtered count, [(index, reason)] of dropped records).

        ``deadline``: a ``time.monotonic()`` instant; checked before each record, so a request's evaluation
        stops within one record's time of it (one record is bounded: RE2 matching is linear in its size).
        Past it, raises ``EvaluationTimeout`` naming how many records were processed (the service
        warns that transforms over 20 s may lose data: kql-subset.md "Other limits").
        """
        from provision.kql import EvaluationTimeout, TransformRuntimeError

        rows, filtered, dropped = [], 0, []
        clock = time.monotonic
        for index, record in enumerate(records):
            if deadline is not None and clock() >= deadline:
                raise EvaluationTimeout(index, len(records) if hasattr(records, "__len__") else None)
            try:
                out = self.run(record)
            except TransformRuntimeError as error:
                dropped.append((index, str(error)))
                continue
            if out is None:
                filtered += 1
            else:
                rows.append(out)
        return rows, filtered, dropped
