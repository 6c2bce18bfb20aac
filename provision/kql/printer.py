"""Printer: AST -> canonical KQL text (one line; used for round-trip tests and messages).

Canonical form: statements joined by '; ', operators by ' | ', ', ' between
items, single spaces around binary operators and '=', strings double-quoted
with backslash escapes, names quoted as ['name'] only when they must be.
Parenthesised expressions keep their parentheses, so ``parse(format(ast)) == ast``
up to positions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from provision.kql import ast as A
from provision.kql.keywords import RESERVED

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = {"and", "or", "true", "false", "let", "print", "datatable", "with", "by", "in", "has", "contains", "between",
             "dynamic", "datetime", "timespan", "guid", "int", "long", "real", "bool", "boolean", "double", "time", "date",
             "decimal", "matches", "kind", "flags", "not"}


def format_name(name: str, force: bool = False) -> str:
    if not force and _PLAIN_NAME.match(name) and name not in _KEYWORDS and name not in RESERVED:
        return name
    return "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"


def format_query(node) -> str:
    """Canonical text of any AST node (query, pipeline, operator or expression)."""
    return _fmt(node)


def _fmt(node) -> str:
    method = _DISPATCH.get(type(node))
    if method is None:
        raise TypeError(f"cannot print {type(node).__name__}")
    return method(node)


def _assign(a: A.Assign) -> str:
    if a.name is None:
        return _fmt(a.expr)
    return f"{format_name(a.name, a.quoted and not _PLAIN_NAME.match(a.name))} = {_fmt(a.expr)}"


def _assigns(items) -> str:
    return ", ".join(_assign(a) for a in items)


def _parse_op(p: A.ParseOp) -> str:
    parts = ["parse"]
    if p.explicit_kind:
        parts.append(f"kind={p.kind}")
    if p.flags:
        parts.append(f"flags={p.flags}")
    parts.append(_fmt(p.expr))
    parts.append("with")
    for item in p.pattern:
        if isinstance(item, str):
            parts.append(json.dumps(item, ensure_ascii=False))
        elif isinstance(item, A.Wildcard):
            parts.append("*")
        else:
            parts.append(f"{format_name(item.name)}:{item.type}")
    return " ".join(parts)


def _function(f: A.FunctionDef) -> str:
    params = []
    for p in f.params:
        text = f"{format_name(p.name)}:{'(*)' if p.tabular else p.type}"
        if p.default is not None:
            text += f" = {_fmt(p.default)}"
        params.append(text)
    body = "".join(_fmt(let) + "; " for let in f.lets) + _fmt(f.body)
    return f"({', '.join(params)}) {{ {body} }}"


def _member(m: A.Member) -> str:
    if _PLAIN_NAME.match(m.name) and m.name not in RESERVED and m.name not in ("true", "false"):
        return f"{_fmt(m.target)}.{m.name}"
    return f"{_fmt(m.target)}[{json.dumps(m.name, ensure_ascii=False)}]"


_DISPATCH: dict[type, Callable[[Any], str]] = {
    A.Literal: lambda n: n.text,
    A.DynamicLiteral: lambda n: n.text,
    A.Name: lambda n: format_name(n.name),
    A.Member: _member,
    A.Index: lambda n: f"{_fmt(n.target)}[{_fmt(n.index)}]",
    A.Call: lambda n: f"{n.name}({', '.join(_fmt(a) for a in n.args)})",
    A.Binary: lambda n: f"{_fmt(n.left)} {n.op} {_fmt(n.right)}",
    A.Unary: lambda n: f"{n.op}{_fmt(n.operand)}",
    A.Paren: lambda n: f"({_fmt(n.expr)})",
    A.InList: lambda n: f"{_fmt(n.left)} {n.op} ({', '.join(_fmt(i) for i in n.items)})",
    A.Between: lambda n: f"{_fmt(n.left)} {n.op} ({_fmt(n.low)} .. {_fmt(n.high)})",
    A.Assign: _assign,
    A.TableRef: lambda n: format_name(n.name),
    A.Print: lambda n: f"print {_assigns(n.assigns)}",
    A.DataTable: lambda n: "datatable(" + ", ".join(f"{format_name(c.name)}:{c.type}" for c in n.columns) + ") ["
    + ", ".join(_fmt(v) for v in n.values) + "]",
    A.Extend: lambda n: f"extend {_assigns(n.assigns)}",
    A.Project: lambda n: f"project {_assigns(n.assigns)}".rstrip(),
    A.ProjectAway: lambda n: "project-away " + ", ".join(x.name if not x.quoted else format_name(x.name) for x in n.names),
    A.ProjectRename: lambda n: "project-rename " + ", ".join(f"{format_name(a.name)} = {format_name(b.name)}" for a, b in n.pairs),
    A.Where: lambda n: f"where {_fmt(n.predicate)}",
    A.ParseOp: _parse_op,
    A.OtherOperator: lambda n: n.text,
    A.Pipeline: lambda n: " | ".join([_fmt(n.source)] + [_fmt(op) for op in n.operators]),
    A.FunctionDef: _function,
    A.Let: lambda n: f"let {format_name(n.name)} = {_fmt(n.value)}",
    A.Query: lambda n: "; ".join([_fmt(let) for let in n.lets] + [_fmt(n.body)]),
}
