"""AST of the DCR KQL subset: small frozen dataclasses, one per node.

Every node keeps ``pos`` (0-based offset into the query) so the checker can
point at it. Expressions and tabular operators are separate families; the
printer (printer.py) turns any node back into canonical KQL text.
"""

from __future__ import annotations

from typing import Any, dataclass_transform

# A field holding another node (an expression, an operator, a pipeline): the node families are open sets
# the checker and compiler dispatch on by class, so the field is typed as any node.
Node = Any

_PENDING: list = []


# dataclass_transform: the type checker reads the node classes as frozen dataclasses (their fields,
# __init__ and immutability), which is what _finish makes them at run time.
@dataclass_transform(frozen_default=True)
def dataclass(frozen: bool = True, slots: bool = True):
    """A light stand-in for ``dataclasses.dataclass(frozen=True, slots=True)``, for startup speed.

    ``dataclasses`` compiles several methods per class with one ``exec`` each (about 0.5 ms per
    class, ~15 ms for this module); here the methods of every node class are compiled together in
    one ``exec`` at the end of the module (``_finish``). Same behaviour for the nodes: keyword or
    positional fields with defaults, immutable, equality and hash over the fields, a readable repr.
    """

    def wrap(cls):
        # the class's own annotations (not inherited ones), without importing inspect (start-up cost)
        fields = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
        namespace = {k: v for k, v in cls.__dict__.items() if k not in fields and k not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = fields
        namespace["_fields"] = fields
        defaults = {f: cls.__dict__[f] for f in fields if f in cls.__dict__}
        node = type(cls.__name__, cls.__bases__, namespace)
        node.__module__ = cls.__module__
        node.__qualname__ = cls.__qualname__
        _PENDING.append((node, fields, defaults))
        return node

    return wrap


def _frozen(self, name, value=None):
    raise AttributeError(f"cannot assign to field '{name}': AST nodes are immutable")


def _values(self) -> tuple:
    return tuple([getattr(self, name) for name in self._fields])


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self):
    return hash(_values(self))


def _repr(self):
    return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"


def _finish() -> None:
    """Give every node class its methods; the __init__s (named parameters) are compiled in one exec."""
    source: list[str] = []
    env: dict = {"_set": object.__setattr__}
    for index, (node, fields, defaults) in enumerate(_PENDING):
        params = []
        for name in fields:
            if name in defaults:
                env[f"_d{index}_{name}"] = defaults[name]
                params.append(f"{name}=_d{index}_{name}")
            else:
                params.append(name)
        body = [f"    _set(self, {name!r}, {name})" for name in fields] or ["    pass"]
        source += [f"def _init{index}(self, {', '.join(params)}):", *body]
    exec("\n".join(source), env)  # noqa: S102 - fixed text built from the class definitions above
    for index, (node, _fields, _defaults) in enumerate(_PENDING):
        node.__init__ = env[f"_init{index}"]
        node.__eq__, node.__hash__, node.__repr__ = _eq, _hash, _repr
        node.__setattr__, node.__delattr__ = _frozen, _frozen
    _PENDING.clear()


# ---- expressions -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Literal:
    type: str  # KQL type: string long int real boolean datetime timespan guid dynamic
    value: object  # Python value (datetime, int ticks for timespan, ...); None = typed null
    text: str  # canonical source text
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    quoted: bool = False
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Member:  # x.y
    target: Node
    name: str
    pos: int = 0
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Index:  # x[0], x['y']
    target: Node
    index: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # canonical lower-case operator text ('==', 'and', 'contains', '!has_cs', 'matches regex', ...)
    left: Node
    right: Node
    pos: int = 0  # position of the operator


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # '-' or '+'
    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Paren:
    expr: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class InList:  # x in (a, b), x !in~ (...)
    op: str
    left: Node
    items: tuple
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Between:  # x between (a .. b)
    op: str  # 'between' or '!between'
    left: Node
    low: Node
    high: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class DynamicLiteral:  # dynamic({...}) / dynamic([...]) / dynamic(null)
    value: object  # JSON-like Python value
    text: str
    pos: int = 0


# ---- tabular ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Assign:
    name: str | None  # None: name derived from the expression
    expr: Node
    pos: int = 0
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class TableRef:  # 'source' or a let-bound tabular name
    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Print:
    assigns: tuple
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ColumnDecl:
    name: str
    type: str  # as written (normalised by the checker)
    pos: int = 0
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class DataTable:
    columns: tuple  # ColumnDecl
    values: tuple  # expressions, row-major
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Extend:
    assigns: tuple
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Project:
    assigns: tuple
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ProjectAway:
    names: tuple  # Name (may contain '*' wildcards)
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ProjectRename:
    pairs: tuple  # (new Name, old Name)
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Where:
    predicate: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ParseOp:
    kind: str  # simple | regex | relaxed
    flags: str  # regex flags ('' when none)
    expr: Node
    pattern: tuple  # items: str (literal), '*' wildcard marker via Wildcard, ColumnDecl
    pos: int = 0
    explicit_kind: bool = False


class PatternText(str):
    """A string literal of a ``parse`` pattern: the text, plus ``pos`` of its literal (for a caret at a bad regex).

    A str subclass so the pattern's items still compare, print and hash as the plain strings they are.
    """

    pos: int

    def __new__(cls, text: str, pos: int = 0):
        item = super().__new__(cls, text)
        item.pos = pos
        return item


@dataclass(frozen=True, slots=True)
class Wildcard:
    pos: int = 0


@dataclass(frozen=True, slots=True)
class OtherOperator:
    """An operator the DCR subset does not support (summarize, join, parse-kv...): kept as raw text."""

    name: str
    text: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Pipeline:
    source: Node  # TableRef | Print | DataTable
    operators: tuple
    pos: int = 0


# ---- statements ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    default: Node = None
    pos: int = 0
    tabular: bool = False


@dataclass(frozen=True, slots=True)
class FunctionDef:
    params: tuple
    lets: tuple  # Let statements inside the body
    body: Node  # expression (scalar UDF) or Pipeline
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    value: Node  # expression | Pipeline | FunctionDef
    pos: int = 0
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    lets: tuple
    body: Node  # Pipeline (the tabular expression statement) or None
    pos: int = 0


_finish()
