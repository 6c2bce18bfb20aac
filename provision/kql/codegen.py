"""Code generation: a transform over ``source`` as one Python function per flow, run once per record.

The compiler (compiler.py) turns each expression into a closure; calling a few dozen closures per record
cost half the speed of a hand-written function doing the same work (issue 13). This module writes the
whole per-record path as Python source instead: the typed input conversion, every ``extend`` /
``where`` / ``project`` step with its expressions inline, and the JSON-ready output, in one function
(``build_runner``), compiled once per DCR version.

Only constructs whose closure semantics are simple enough to restate exactly are written inline
(column references, constants, member access, string and typed equality, numeric order and
arithmetic, ``and`` / ``or`` / ``not``-free logic, ``iif`` / ``case``, and catalogue function calls);
every other node is the compiler's own closure, called from the generated code, so each semantic
(nulls, conversions, errors) has one implementation. A function that can raise one of the expected
errors is called through a wrapper that turns it into null, as the closure does; the conversions that
never raise are called directly. Subtrees nested deeper than ``MAX_INLINE_DEPTH`` use the closure too,
so Python's parser limits (200 nested parentheses) are never reached.

Generated code names: ``row`` is the current row (a dict keyed by column name), ``_tN`` temporaries
(assignment expressions, one name per use), ``_kN`` constants, ``_fN`` closures and ``_iN`` functions
from the environment. Column names enter the source only through ``repr()``.
"""

from __future__ import annotations

import datetime as _dt
import math

from provision.kql import ast as A
from provision.kql.functions import CATALOGUE, NUMERIC, strcat, to_bool, to_datetime, to_guid, to_int, to_long, to_real
from provision.kql.regex import RegexError
from provision.kql.values import format_datetime, format_timespan, parse_datetime, to_json_value, to_string

MAX_INLINE_DEPTH = 16
_PLAIN = (str, int, bool, type(None))

# Catalogue implementations that return a value or None for every input and raise none of the errors a call
# turns into null (compiler._EXPECTED_ERRORS): called directly. (RecursionError from a too-deep dynamic value
# escapes a call either way and drops the record.)
_TOTAL = frozenset({to_int, to_long, to_real, to_bool, to_guid, to_string, strcat})
# A conversion that returns its argument unchanged when it already has the result's Python type.
_SAME_TYPE = {to_datetime: "_datetime", to_real: "float", to_bool: "bool", to_string: "str"}
# Functions the compiler treats specially (argument handling or static results): always its closure.
_SPECIAL = frozenset({"columnifexists", "gettype", "extract"})
# Static types whose runtime values compare with == as they are (compiler._cmp_values only rewrites guid/str pairs).
_PLAIN_EQ = frozenset({*NUMERIC, "boolean", "datetime", "timespan"})


def _operand(source: str, gen) -> tuple[str | None, str]:
    """(a test that the operand is not null binding it to a temporary, or None for a literal; how to refer to it)."""
    if source in gen.literals:
        return None, source
    t = gen.temp()
    return f"(({t} := {source}) is not None)", t


def _guarded(value: str, *tests: str | None) -> str:
    """``value`` when every test holds, else null; every test runs ('&', no short-circuit), as the closures do."""
    conditions = [t for t in tests if t is not None]
    if not conditions:
        return value
    return f"({value} if {' & '.join(conditions)} else None)"


class Gen:
    """The environment and temporaries of one generated function."""

    def __init__(self, env: dict):
        self.env = env
        self.count = 0
        self.literals: set[str] = set()  # sources that are non-null literals (str, int, bool reprs)

    def name(self, prefix: str, value) -> str:
        self.count += 1
        key = f"{prefix}{self.count}"
        self.env[key] = value
        return key

    def temp(self) -> str:
        self.count += 1
        return f"_t{self.count}"


def _safe(impl, name: str):
    """``impl`` as a compiled call runs it: an expected error gives null, a bad regular expression drops the record."""
    from provision.kql.compiler import _EXPECTED_ERRORS, _runtime

    def safe(*values):
        try:
            return impl(*values)
        except RegexError as exc:
            raise _runtime(name, exc) from None
        except _EXPECTED_ERRORS:
            return None
    return safe


def expr_source(node, ctx, columns, gen: Gen, depth: int = 0) -> str:
    """A Python expression computing ``node`` for ``row``; the compiler's closure where it is not written inline."""
    from provision.kql.compiler import _expr

    if depth > MAX_INLINE_DEPTH:
        return f"{gen.name('_f', _expr(node, ctx, columns))}(row)"
    inline = _inline(node, ctx, columns, gen, depth + 1)
    if inline is not None:
        return inline
    return f"{gen.name('_f', _expr(node, ctx, columns))}(row)"


def _inline(node, ctx, columns, gen: Gen, depth: int) -> str | None:
    cls = type(node)
    if cls is A.Literal or cls is A.DynamicLiteral:
        value = node.value
        if type(value) in (str, int, bool):
            # Written into the source: no lookup, and no null test (``_operand``); ``None`` stays a constant.
            gen.literals.add(repr(value))
            return repr(value)
        return gen.name("_k", value)
    if cls is A.Name:
        if node.name in columns:
            return f"row[{node.name!r}]"
        if node.name in ctx.scalars:
            return None
        return f"row.get({node.name!r})"
    if cls is A.Paren:
        return expr_source(node.expr, ctx, columns, gen, depth)
    if cls is A.Member:
        t = gen.temp()
        return f"({t}.get({node.name!r}) if type({t} := {expr_source(node.target, ctx, columns, gen, depth)}) is dict else None)"
    if cls is A.Unary and node.op == "+":
        return expr_source(node.operand, ctx, columns, gen, depth)
    if cls is A.Binary:
        return _binary(node, ctx, columns, gen, depth)
    if cls is A.Call and node.name not in ctx.functions:
        return _call(node, ctx, columns, gen, depth)
    return None


def _as_bool(source: str, gen: Gen) -> str:
    """compiler._logic's operand: a non-bool value goes through to_bool (whatever the static type says)."""
    if source in ("True", "False"):
        return source
    t = gen.temp()
    return f"({t} if type({t} := {source}) is bool else _to_bool({t}))"


def _binary(node: A.Binary, ctx, columns, gen: Gen, depth: int) -> str | None:
    op = node.op
    lt, rt = ctx.types.get(id(node.left)), ctx.types.get(id(node.right))
    if op in ("and", "or"):
        x, y = gen.temp(), gen.temp()
        left = _as_bool(expr_source(node.left, ctx, columns, gen, depth), gen)
        right = _as_bool(expr_source(node.right, ctx, columns, gen, depth), gen)
        # compiler._logic: the right side runs only when the left does not decide; null when either is null.
        stop = "False" if op == "and" else "True"
        other = "True" if op == "and" else "False"
        return (f"({stop} if ({x} := {left}) is {stop} else ({stop} if ({y} := {right}) is {stop} else "
                f"(None if {x} is None or {y} is None else {other})))")
    if op in ("==", "!="):
        left, right = expr_source(node.left, ctx, columns, gen, depth), expr_source(node.right, ctx, columns, gen, depth)
        if lt == rt == "string":
            return f"({left} {op} {right})"
        if lt in _PLAIN_EQ and rt in _PLAIN_EQ:
            (tx, x), (ty, y) = _operand(left, gen), _operand(right, gen)
            return _guarded(f"({x} {op} {y})", tx, ty)  # both sides run before the null test (compiler's eq)
        return None
    if op in ("<", "<=", ">", ">=") and lt in NUMERIC and rt in NUMERIC:
        left, right = expr_source(node.left, ctx, columns, gen, depth), expr_source(node.right, ctx, columns, gen, depth)
        (tx, x), (ty, y) = _operand(left, gen), _operand(right, gen)
        # compiler's order_numeric: the right side runs only when the left is not null.
        return _guarded(_guarded(f"({x} {op} {y})", ty), tx)
    if op in ("+", "-", "*") and lt in NUMERIC and rt in NUMERIC:
        left, right = expr_source(node.left, ctx, columns, gen, depth), expr_source(node.right, ctx, columns, gen, depth)
        (tx, x), (ty, y) = _operand(left, gen), _operand(right, gen)
        return _guarded(f"({x} {op} {y})", tx, ty)
    return None


def _call(node: A.Call, ctx, columns, gen: Gen, depth: int) -> str | None:
    name = node.name
    if name in _SPECIAL or any(isinstance(a, A.Call) and a.name == "typeof" for a in node.args):
        return None
    args = [expr_source(a, ctx, columns, gen, depth) for a in node.args]
    if name in ("iif", "iff"):
        pred, a, b = args
        return f"({a} if {pred} is True else {b})"
    if name == "case":
        text = args[-1]
        for i in range(len(args) - 3, -1, -2):
            text = f"({args[i + 1]} if {args[i]} is True else {text})"
        return text
    fn = CATALOGUE.get(name)
    if fn is None or fn.impl is None:
        return None
    for i, a in enumerate(node.args):  # compiler._call: a string parameter given a non-string value converts it
        expected = fn.args[i] if i < len(fn.args) else fn.rest
        if expected == "string" and ctx.types.get(id(a)) not in ("string", None):
            t = gen.temp()
            args[i] = f"({t} if ({t} := {args[i]}) is None or type({t}) is str else _to_string({t}))"
    impl = fn.impl
    if impl is strcat:  # "".join of the arguments as strings (functions.strcat), without a call per argument
        parts = []
        for a in args:
            t = gen.temp()
            literal = a in gen.literals and a[:1] in "'\""
            parts.append(a if literal else f"({t} if type({t} := {a}) is str else _to_string({t}))")
        return f"''.join(({', '.join(parts)},))"
    call = gen.name("_i", impl if impl in _TOTAL else _safe(impl, name))
    if len(args) == 1:
        t = gen.temp()
        same = _SAME_TYPE.get(impl)
        if fn.null_safe:
            return f"({t} if type({t} := {args[0]}) is {same} else {call}({t}))" if same else f"{call}({args[0]})"
        if same:
            return f"({t} if type({t} := {args[0]}) is {same} else (None if {t} is None else {call}({t})))"
        return f"(None if ({t} := {args[0]}) is None else {call}({t}))"
    if fn.null_safe or not args:
        return f"{call}({', '.join(args)})"
    temps = [gen.temp() for _ in args]
    # Every argument runs before the null test, as compiler._call's 'None in values'.
    values = ", ".join(f"({t} := {a})" for t, a in zip(temps, args))
    return f"(None if None in ({values},) else {call}({', '.join(temps)}))"


# ---- the per-record function ----
def _input_line(i: int, name: str, ctype, env: dict) -> str:
    from provision.kql.compiler import _input_converter

    key = repr(name)
    conv = _input_converter(ctype)
    if conv is None:
        return f"            {key}: get({key}),"
    env[f"_c{i}"] = conv
    fast = {"string": "str", "int": "int", "long": "int", "real": "float", "boolean": "bool"}.get(ctype)
    if fast:
        return f"            {key}: (_v if type(_v := get({key})) is {fast} else _c{i}(_v)),"
    if ctype == "datetime":  # to_datetime of a string is parse_datetime
        return f"            {key}: (_parse_dt(_v) if type(_v := get({key})) is str else _c{i}(_v)),"
    return f"            {key}: _c{i}(get({key})),"


def _assigned_name(a: A.Assign, ctx, prefix: str) -> str:
    from provision.kql.checker import _derived_name

    return ctx.names.get(id(a)) or a.name or _derived_name(a.expr) or prefix


def _steps(body: A.Pipeline, ctx, input_names: list[str], gen: Gen):
    """(lines, names, final): the pipeline's statements; ``final`` lists (column, temporary) of a last ``project``
    whose values are returned without building its row (None otherwise)."""
    from provision.kql.compiler import _compile_operator

    lines: list[str] = []
    names = list(input_names)
    final = None
    pad = " " * 12
    for position, op in enumerate(body.operators):
        columns = set(names)
        if isinstance(op, A.Extend):
            assigned = [(_assigned_name(a, ctx, "Column"), expr_source(a.expr, ctx, columns, gen), gen.temp()) for a in op.assigns]
            # Every expression sees the input row (Kusto semantics), then the columns are set.
            lines += [f"{pad}{t} = {source}" for _, source, t in assigned]
            lines += [f"{pad}row[{name!r}] = {t}" for name, _, t in assigned]
            names += [n for n in dict.fromkeys(n for n, _, _ in assigned) if n not in names]
        elif isinstance(op, A.Where):
            pred = expr_source(op.predicate, ctx, columns, gen)
            if ctx.types.get(id(op.predicate)) != "boolean":
                pred = f"_to_bool({pred})"
            lines.append(f"{pad}if {pred} is not True:")
            lines.append(f"{pad}    return None")
        elif isinstance(op, A.Project):
            projected = [(_assigned_name(a, ctx, "Column"), expr_source(a.expr, ctx, columns, gen)) for a in op.assigns]
            names = list(dict.fromkeys(n for n, _ in projected))
            if position == len(body.operators) - 1 and len(names) == len(projected):
                # The last project: its values go straight into the output (no row is built for them).
                final = [(name, gen.temp()) for name, _ in projected]
                lines += [f"{pad}{t} = {source}" for (_, source), (_, t) in zip(projected, final)]
            else:
                lines.append(f"{pad}row = {{{', '.join(f'{n!r}: {source}' for n, source in projected)}}}")
        else:
            step, names = _compile_operator(op, ctx, names)
            lines.append(f"{pad}row = {gen.name('_s', step)}(row)")
    return lines, names, final


def build_runner(input_columns, output_columns, pipeline, names=None, body: A.Pipeline | None = None, ctx=None):
    """Generate ``run(record)``: typed input conversion, the pipeline, JSON-ready output, in one function.

    ``body`` (a pipeline over ``source``) and ``ctx`` (the compiler's context): its steps are generated inline;
    without them, ``pipeline`` (the compiled closure, ending with the columns ``names``) runs the steps.
    ``output_columns``: the checker's output schema; used (each value formatted by its static type) when the
    pipeline's column names match it, else every value is made JSON-ready by its runtime type.
    """
    from provision.kql import TransformRuntimeError
    from provision.kql.compiler import _EXPECTED_ERRORS, _json_any, _json_real

    env = {"TransformRuntimeError": TransformRuntimeError, "pipeline": pipeline, "_errors": (RecursionError, *_EXPECTED_ERRORS),
           "_json_any": _json_any, "_json_real": _json_real, "_fmt_dt": format_datetime, "_fmt_ts": format_timespan,
           "_parse_dt": parse_datetime, "_to_bool": to_bool, "_to_string": to_string, "_datetime": _dt.datetime,
           "_isfinite": math.isfinite, "_to_json_value": to_json_value, "_PLAIN": _PLAIN}
    gen = Gen(env)
    final = None
    if body is not None:
        steps, names, final = _steps(body, ctx, [n for n, _ in input_columns], gen)
    else:
        steps = ["            row = pipeline(row)"]
    if names is None or list(names) != [n for n, _ in output_columns or []]:
        output_columns = None
    lines = ["def run(record):",
             "    if type(record) is not dict:",
             "        raise TransformRuntimeError(f'a record must be a JSON object, got {type(record).__name__}')",
             "    try:",
             "        get = record.get",
             "        row = {"]
    lines += [_input_line(i, name, ctype, env) for i, (name, ctype) in enumerate(input_columns)]
    lines += ["        }",
              "        try:",
              *(steps or ["            pass"]),
              "        except TransformRuntimeError:",
              "            raise",
              "        except _errors as exc:",
              "            raise TransformRuntimeError(f'{type(exc).__name__}: {exc}') from None"]
    if final is None:
        lines += ["        if row is None:", "            return None"]
    if output_columns is None:
        lines.append("        return {k: _json_any(v) for k, v in row.items()}")
    else:
        values = dict(final) if final is not None else {}
        lines.append("        return {")
        for name, ctype in output_columns:
            key = repr(name)
            value = values.get(name) or f"row[{key}]"
            lines.append(f"            {key}: {_formatted(value, ctype, gen)},")
        lines.append("        }")
    # Input conversion and output formatting recurse into dynamic values too (to_string, to_json_value): a
    # value nested deeper than Python's recursion limit must drop that record, not escape (issue 12, item 2).
    lines += ["    except TransformRuntimeError:",
              "        raise",
              "    except RecursionError:",
              "        raise TransformRuntimeError('a dynamic value nests too deeply to convert') from None",
              "    except _errors as exc:",
              "        raise TransformRuntimeError(f'{type(exc).__name__}: {exc}') from None"]
    source = "\n".join(lines)
    exec(compile(source, "<transformKql>", "exec"), env)  # noqa: S102 - generated from column names via repr()
    run = env["run"]
    run.source = source  # for reading and debugging: the generated function's text
    return run


_OUTPUT_PLAIN = ("string", "int", "long", "boolean", "guid")


def _formatted(value: str, ctype, gen: Gen) -> str:
    """``value`` (a variable or ``row[...]``) as it leaves ``run``: JSON-ready for its static type."""
    if ctype in _OUTPUT_PLAIN:
        return value
    t = gen.temp()
    if ctype == "datetime":
        return f"(None if ({t} := {value}) is None else _fmt_dt({t}))"
    if ctype == "timespan":
        return f"(None if ({t} := {value}) is None else _fmt_ts({t}))"
    if ctype == "real":
        return f"({t} if ({t} := {value}) is None or _isfinite({t}) else _to_json_value({t}))"
    return f"({t} if type({t} := {value}) in _PLAIN else _to_json_value({t}))"
