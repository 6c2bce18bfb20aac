"""Parser and printer: AST shapes, precedence, errors with positions, and the identity round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.kql import ast as A
from provision.kql import format_query, parse, parse_expression, sets_time_generated
from provision.kql.parser import ParseError

IDENTITY = [line for line in (Path(__file__).parent / "identity.kql").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("text", IDENTITY)
def test_identity_round_trip(text):
    """sqlglot-style identity: each canonical query prints back unchanged."""
    assert format_query(parse(text)) == text


def _strip(node):
    """The AST without positions, for structural comparisons."""
    if hasattr(type(node), "_fields"):  # an AST node (provision/kql/ast.py)
        return (type(node).__name__,) + tuple(_strip(getattr(node, name)) for name in node._fields if name != "pos")
    if isinstance(node, tuple):
        return tuple(_strip(x) for x in node)
    return node


@pytest.mark.parametrize("messy,canonical", [
    ("source|extend  a=1,b = 'x'|project-away a", 'source | extend a = 1, b = "x" | project-away a'),
    ("source\n// comment\n| where x==1 and y<>2", "source | where x == 1 and y != 2"),
    ("source | extend x = @'c:\\d'", 'source | extend x = "c:\\\\d"'),
    ("source | extend d = datetime('2024-01-02 03:04')", "source | extend d = datetime(2024-01-02T03:04:00Z)"),
    ("source | extend x = d['a']", 'source | extend x = d["a"]'),
    ("source | filter x > 1", "source | where x > 1"),
    ("let x = 1;\nsource;", "let x = 1; source"),
])
def test_canonical_form(messy, canonical):
    assert format_query(parse(messy)) == canonical
    assert _strip(parse(canonical)) == _strip(parse(messy))


def test_precedence():
    e = parse_expression("a or b and c == 1 + 2 * 3")
    assert isinstance(e, A.Binary) and e.op == "or"
    right = e.right
    assert right.op == "and" and right.right.op == "==" and right.right.right.op == "+" and right.right.right.right.op == "*"


def test_unary_minus_binds_tighter_than_multiplication():
    e = parse_expression("-x * 2")
    assert e.op == "*" and isinstance(e.left, A.Unary)


def test_member_index_and_call_chain():
    e = parse_expression("parse_json(x).a[0]['b c'].d")
    assert isinstance(e, A.Member) and e.name == "d"
    assert isinstance(e.target, A.Index) and e.target.index.value == "b c"


def test_operators_outside_the_subset_parse_as_other_operator():
    q = parse("source | summarize count() by x | extend y = 1")
    assert isinstance(q.body.operators[0], A.OtherOperator) and q.body.operators[0].name == "summarize"
    assert isinstance(q.body.operators[1], A.Extend)
    assert parse("source | parse-kv x as (a:string)").body.operators[0].name == "parse-kv"


def test_let_forms():
    q = parse("let s = 1; let t = source | where x > s; let f = (a:string) { strlen(a) }; t")
    assert [type(let.value).__name__ for let in q.lets] == ["Literal", "Pipeline", "FunctionDef"]
    assert q.body.source.name == "t"


def test_parse_operator():
    op = parse('source | parse kind=regex flags=i Msg with "a=" A:int * "b" B').body.operators[0]
    assert op.kind == "regex" and op.flags == "i"
    assert [type(p).__name__ if not isinstance(p, str) else p for p in op.pattern] == ["a=", "ColumnDecl", "Wildcard", "b", "ColumnDecl"]
    assert op.pattern[1].type == "int" and op.pattern[4].type == "string"


@pytest.mark.parametrize("text,pos,fragment", [
    ("source | extend", 15, "expected an expression"),
    ("source | extend x = ", 19, "expected an expression"),  # end of query: right after the last token, as Kusto.Language
    ("source | extend x =\n\n// done\n", 19, "expected an expression"),
    ("source | where (x", 17, "expected ')'"),
    ("source | 5", 9, "expected an operator"),
    ("source | extend x = 1 y", 22, "extraneous input 'y'"),
    ("let x = 1;", 10, "no tabular expression"),
    ("source | extend t = datetime(garbage)", 20, "invalid datetime literal"),
    ("source | parse x y", 17, "expected 'with'"),
    ("source; source", 8, "only one tabular expression"),
])
def test_syntax_errors(text, pos, fragment):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.pos == pos and fragment in info.value.message and info.value.fix


@pytest.mark.parametrize("query, sets", [
    ("source", False),
    ("source | where Message != 'x'", False),
    ("source | extend Note = 'TimeGenerated = now()'", False),  # in a string: not an assignment
    ("source | project TimeGenerated, Message", False),  # kept as sent
    ("source | extend TimeGenerated = TimeGenerated", False),  # the same value
    ("source | extend TimeGenerated = now()", True),
    ("source | project TimeGenerated = todatetime(Stamp), Message", True),
    ("source | project-rename TimeGenerated = Stamp", True),
    ("let offset = 1h; source | extend TimeGenerated = TimeGenerated + offset", True),
    ("source | extend", False),  # does not parse: refused on its own account
])
def test_sets_time_generated(query, sets):
    """azure-contract.md §8 [DOC-LIMITS-LIA]: the Auxiliary 30-minute range applies when TimeGenerated is not
    transformed; this is the one judgement of that, for validate and the emulator."""
    assert sets_time_generated(query) is sets
