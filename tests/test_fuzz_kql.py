"""Property-based fuzzing of the KQL layer (issue 12): lexer/parser/checker and evaluator, regex and deep nesting.

Properties: whatever the query text, checking ends in the KQL layer's own diagnostics, each with a valid
line:column and a caret; compiling ends in a Transform or TransformCompileError; whatever the record,
running ends in a JSON-ready row, None (filtered) or TransformRuntimeError, the same every time; the
checker accepts a constant regular expression exactly when RE2 does. Bounded for CI (about 30 s);
a longer run: PROVISION_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz_kql.py
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from provision.diagnostics import Diagnostic
from provision.kql import COMPAT, STRICT, TransformCompileError, TransformRuntimeError, check_transform, compile_transform
from provision.kql.regex import compile_regex, explain
from provision.scenario.tables import azure_table_columns
from tests.fuzzing import fuzz_settings

KQL_TESTS = Path(__file__).resolve().parent / "kql"
FUZZ = fuzz_settings(150)


def _columns(spec):
    return azure_table_columns(spec) if isinstance(spec, str) else [tuple(c) for c in spec]


def _corpus():
    """(query, input columns, sample record) from the test corpus: case files, real transforms, identity.kql."""
    out = []
    for path in sorted((KQL_TESTS / "cases").glob("*.json")):
        data = json.loads(path.read_text())
        given_cols = [tuple(c) for c in data["given"]["input"]]
        record = data["given"].get("record", {})
        for case in data["cases"]:
            query = case.get("query") or f"source | project r = {case['expr']}"
            out.append((query, given_cols, case.get("record", record)))
    real = json.loads((KQL_TESTS / "real_transforms.json").read_text())
    for case in real["cases"] + real.get("rejected", []):
        out.append((case["query"], _columns(case["input"]), case.get("record", {})))
    identity_cols = [("Time", "datetime"), ("Msg", "string"), ("Props", "dynamic"), ("Count", "int"), ("Level", "string")]
    for line in (KQL_TESTS / "identity.kql").read_text().splitlines():
        if line.strip():
            out.append((line, identity_cols, {}))
    return out


CORPUS = _corpus()
# Tokens and fragments that stress the lexer/parser/checker: operators, quotes, escapes, regexes, deep nesting.
FRAGMENTS = st.sampled_from([
    "|", "||", "(", ")", "[", "]", "{", "}", ",", ";", "=", "==", "=~", "!", "'", '"', "@'", '@"', "```", "\\", "\\u00", "\n",
    "//", " ", "let ", "source", "print", "extend ", "project ", "where ", "parse kind=regex ", "with ", "*", ":string", ":long",
    "matches regex ", "extract(", "extract_all(", "replace(", "countof(", "'(a+)+$'", "@'(?=x)'", "@'\\1'", "dynamic({", "dynamic([",
    "parse_json(", "todynamic(", "toint(", "datetime(", "timespan(", "1d", "0x", "1e400", "-", "+", ".", "..", "['a b']",
    "TimeGenerated", "Props.k", "Props['k']", "iff(", "case(", "\u202e", "\x00", "\ud800", "é", "((((((((((", "))))))))))",
])


@st.composite
def mutated_query(draw):
    query, cols, record = draw(st.sampled_from(CORPUS))
    text = query
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(st.lists(FRAGMENTS | st.text(max_size=4), min_size=1, max_size=3).map("".join))
        end = min(len(text), at + draw(st.integers(0, 8)))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[end:]
        elif action == "replace":
            text = text[:at] + piece + text[end:]
        else:
            text = text[:at] + text[at:end] + text[at:]
    return text, cols, record


def check_diagnostics(query: str, diagnostics) -> None:
    lines = query.split("\n")  # the lexer counts lines by "\n" only
    for d in diagnostics:
        assert isinstance(d, Diagnostic) and d.code and d.message, d
        assert d.line is not None and d.column is not None, d
        assert 1 <= d.line <= len(lines), (d.format(), len(lines))
        assert 1 <= d.column <= len(lines[d.line - 1]) + 1, (d.format(), lines[d.line - 1])
        assert d.excerpt and "^" in d.excerpt, d
        d.format()


def check_and_run(query: str, cols, record) -> None:
    for profile in (COMPAT, STRICT):
        result = check_transform(query, cols, profile=profile)
        check_diagnostics(query, result.diagnostics)
    try:
        transform = compile_transform(query, cols)
    except TransformCompileError as error:
        assert error.diagnostics or str(error)
        check_diagnostics(query, error.diagnostics)
        return
    run_deterministic(transform, record, query)


def run_deterministic(transform, record, query=""):
    outcomes = []
    for _ in range(2):
        try:
            out = transform.run(record)
        except TransformRuntimeError as error:
            outcomes.append(("dropped", str(error)))
            continue
        assert out is None or isinstance(out, dict)
        json.dumps(out)  # JSON-ready: what the emulator stores
        outcomes.append(("row", out))
    if not any(word in query for word in ("now(", "ago(", "new_guid(")):
        assert outcomes[0] == outcomes[1], outcomes
    return outcomes[0]


@FUZZ
@given(mutated_query())
def test_mutated_corpus_queries_end_in_diagnostics_or_a_transform(case):
    check_and_run(*case)


@FUZZ
@given(st.lists(FRAGMENTS | st.text(max_size=6), max_size=25).map("".join))
def test_random_token_soup_ends_in_diagnostics(text):
    check_and_run(text, [("Msg", "string"), ("Props", "dynamic")], {"Msg": "m", "Props": {"k": 1}})


def _nested(depth: int, leaf, kind: str):
    value = leaf
    for i in range(depth):  # built iteratively: the strategy itself must not recurse 3,000 levels
        value = [value] if (kind == "list" or (kind == "mixed" and i % 2)) else {"k": value}
    return value


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["", "2024-01-01T00:00:00Z", "1.5", "true", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "\ud800x", "{\"k\": [1]}"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)
COMPILED = []
for _query, _cols, _record in CORPUS:
    try:
        COMPILED.append((_query, _cols, compile_transform(_query, _cols)))
    except TransformCompileError:
        pass
assert len(COMPILED) > 50, len(COMPILED)  # the evaluator properties run over many real transforms


@st.composite
def corpus_transform_and_record(draw):
    query, cols, transform = draw(st.sampled_from(COMPILED))
    record = {name: draw(JSON_VALUES) for name, _ in cols if draw(st.integers(0, 4))}
    # a deep value is described, not drawn, and built in the test: Hypothesis prints its examples recursively
    deep = None
    if draw(st.booleans()):
        deep = (draw(st.sampled_from([n for n, _ in cols] or ["x"])), draw(st.integers(50, 3000)), draw(st.sampled_from(["list", "dict", "mixed"])))
    return query, transform, record, deep


@FUZZ
@given(corpus_transform_and_record())
def test_random_records_through_corpus_transforms(case):
    query, transform, record, deep = case
    if deep is not None:
        name, depth, kind = deep
        record = {**record, name: _nested(depth, record.get(name), kind)}
    run_deterministic(transform, record, query)


@FUZZ
@given(st.integers(1, 3000), st.sampled_from(["list", "dict", "mixed"]), JSON_VALUES)
def test_deeply_nested_dynamic_values_never_escape_as_python_errors(depth, kind, leaf):
    query = ("source | extend TimeGenerated = now(), s = tostring(Props), k = Props.k, n = array_length(Props), "
             "j = parse_json(tostring(Props)), e = extract(@'(\\d+)', 1, tostring(Props)), m = tostring(Props) matches regex @'k+' "
             "| where isnotnull(Props) or true | project s, k, n, j, e, m, Props")
    transform = compile_transform(query, [("Props", "dynamic")])
    run_deterministic(transform, {"Props": _nested(depth, leaf, kind)})


# Regular expressions: pieces of RE2 and non-RE2 syntax, so both accepted and refused patterns come up.
REGEX_PIECES = st.sampled_from([
    "a", "b", "é", ".", "\\d", "\\w", "\\s", "\\b", "\\pL", "\\p{Greek}", "[[:alpha:]]", "[a-z]", "[^b]", "[", "]", "(", ")", "(?:",
    "(?i)", "(?U)", "(?P<n>", "(?<n>", "(?=", "(?<=", "(?!", "(?P=n)", "\\1", "\\Z", "\\z", "\\Q", "\\E", "*", "+", "?", "*?", "++",
    "{2}", "{1,3}", "{1001}", "{2}+", "|", "^", "$", "\\", "\\x{41}", "\\C", "(?#", "(*FAIL)", "\ud800",
])
PATTERNS = st.lists(REGEX_PIECES, max_size=8).map("".join)
TEXTS = st.text(alphabet=st.sampled_from("ab é\u0391\n!1_\ud800"), max_size=30)
CALLS = ["extract({p}, 1, Msg)", "extract_all({p}, Msg)", "replace({p}, @'<\\0>', Msg)", "countof(Msg, {p}, 'regex')",
         "Msg matches regex {p}"]


def _verbatim(pattern: str) -> str:
    return "@'" + pattern.replace("'", "''") + "'"


@FUZZ
@given(PATTERNS, TEXTS, st.sampled_from(CALLS))
def test_checker_accepts_a_constant_pattern_exactly_when_re2_does(pattern, text, call):
    query = "source | project TimeGenerated = Time, r = " + call.format(p=_verbatim(pattern))
    result = check_transform(query, [("Msg", "string"), ("Time", "datetime")])
    check_diagnostics(query, result.diagnostics)
    refused = explain(pattern)
    assert result.valid is (refused is None), ([d.format() for d in result.diagnostics], refused)
    if refused is not None:
        assert [d.code for d in result.diagnostics if d.is_error] == ["InvalidRegex"]
        return
    kind, out = run_deterministic(compile_transform(query, [("Msg", "string"), ("Time", "datetime")]), {"Msg": text, "Time": "2024-01-01T00:00:00Z"})
    assert kind == "row", out  # a pattern RE2 accepted never drops a record


@FUZZ
@given(PATTERNS, TEXTS, st.sampled_from(CALLS))
def test_a_pattern_arriving_at_run_time_drops_the_record_exactly_when_re2_refuses_it(pattern, text, call):
    transform = compile_transform("source | project r = " + call.format(p="Pat"), [("Msg", "string"), ("Pat", "string")])
    kind, _ = run_deterministic(transform, {"Msg": text, "Pat": pattern})
    assert kind == ("row" if explain(pattern) is None else "dropped")


@FUZZ
@given(PATTERNS, TEXTS)
def test_parse_kind_regex_with_random_literals(pattern, text):
    query = f"source | parse kind=regex Msg with {_verbatim(pattern)} Name:string {_verbatim(pattern[::-1])} Num:long"
    result = check_transform(query, [("Msg", "string")])
    check_diagnostics(query, result.diagnostics)
    if result.valid:
        run_deterministic(compile_transform(query, [("Msg", "string")]), {"Msg": text})


@FUZZ
@given(PATTERNS, TEXTS)
def test_the_ascii_fast_path_agrees_with_google_re2s_public_api(pattern, text):
    if explain(pattern) is not None:
        return
    compiled = compile_regex(pattern)
    for sample in (text, text.encode("ascii", "ignore").decode()):
        if "\ud800" in sample:
            continue  # the public API cannot encode a lone surrogate; safe_text handles it (tests/kql/test_regex.py)
        expected = [[m.span(i) for i in range(compiled.groups + 1)] for m in compiled._public.finditer(sample)]
        assert list(compiled.finditer(sample)) == expected
        assert compiled.test(sample) is bool(expected)
