"""KQL regular expressions are RE2's (issue 12, item 3): linear time, RE2 syntax in the checker, RE2 semantics.

Microsoft Learn, Kusto "RE2 syntax" (kusto/query/re2); google/re2 doc/syntax.txt lists what RE2 refuses.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import pytest

from provision.kql import TransformCompileError, TransformRuntimeError, check_transform, compile_transform
from provision.kql.regex import compile_regex, explain

COLS = [("Msg", "string"), ("Time", "datetime")]


def value(expr: str, msg: str = ""):
    return compile_transform(f"source | project r = {expr}", [("Msg", "string")]).run({"Msg": msg})["r"]


# (pattern as written in a verbatim string, words the message must hold): each is refused by RE2 and by the service.
REFUSED = [
    (r"(a)\1", "backreference"),
    (r"(?=a)b", "lookahead"),
    (r"(?!a)b", "negative lookahead"),
    (r"(?<=a)b", "lookbehind"),
    (r"(?<!a)b", "negative lookbehind"),
    (r"a++", "possessive"),
    (r"a{2}+", "possessive"),
    (r"(?P<n>a)(?P=n)", "named backreference"),
    (r"(?>a+)b", "atomic group"),
    (r"a\Z", r"\Z"),
    (r"(?#note)a", "comment"),
    (r"(?R)", "recursive"),
    (r"(?(1)a|b)", "conditional"),
    (r"\e", r"\e"),
    (r"a{1001}", "1000"),
    (r"(unclosed", "missing )"),
]


@pytest.mark.parametrize("pattern,words", REFUSED, ids=[p for p, _ in REFUSED])
def test_checker_refuses_what_re2_refuses_with_a_caret_at_the_literal(pattern, words):
    query = f"source | extend TimeGenerated = Time | where Msg matches regex @'{pattern}'"
    result = check_transform(query, COLS)
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["InvalidRegex"]
    d = errors[0]
    assert (d.line, d.column) == (1, query.index("@'") + 1)
    source_line, caret_line = d.excerpt.splitlines()[-2:]
    assert caret_line.index("^") == source_line.index("@'")  # the caret sits under the pattern literal
    assert words in d.message and "RE2" in d.message + d.fix and d.fix


@pytest.mark.parametrize("call", [
    "extract(@'(a)\\1', 1, Msg)", "extract_all(@'(?=x)', Msg)", "replace(@'a++', 'b', Msg)", "countof(Msg, @'(?<=a)b', 'regex')",
])
def test_every_regex_function_checks_its_constant_pattern(call):
    query = f"source | extend TimeGenerated = Time, x = {call}"
    errors = [d for d in check_transform(query, COLS).diagnostics if d.is_error]
    assert [d.code for d in errors] == ["InvalidRegex"]
    assert errors[0].column == query.index("@'") + 1
    with pytest.raises(TransformCompileError):
        compile_transform(query, COLS)


def test_parse_kind_regex_points_at_the_literal_holding_the_error():
    query = "source | extend TimeGenerated = Time | parse kind=regex Msg with @'id=' Id:long @' (x)\\1'"
    errors = [d for d in check_transform(query, COLS).diagnostics if d.is_error]
    assert [(d.code, d.column) for d in errors] == [("InvalidRegex", query.index("@' (x)") + 1)]
    assert "backreference" in errors[0].message


def test_parse_kind_regex_is_checked_as_one_pattern():
    # neither literal is a regex alone; joined with the column's group they are (as the service joins them)
    assert explain("(?:<") is not None and explain(">)") is not None
    query = "source | extend TimeGenerated = Time | parse kind=regex Msg with @'(?:<' Inner:string @'>)'"
    assert check_transform(query, COLS).valid
    transform = compile_transform(query, COLS)
    assert transform.run({"Msg": "a<bc>d", "Time": "2024-01-01T00:00:00Z"})["Inner"] == "bc"


# RE2 syntax that Python's re refuses or reads differently: it must check clean and evaluate as RE2 does.
RE2_ONLY = [
    (r"\pN+", "ab12c", "12"),
    (r"[[:alpha:]]+", "12ab3", "ab"),
    (r"\Q.*\E", "a.*b", ".*"),
    (r"(?U)a+", "aaa", "a"),
    (r"b\z", "ab", "b"),
    (r"(?<word>b+)", "abbc", "bb"),
    (r"\x{41}", "zA", "A"),
    (r"\C", "q", "q"),
]


@pytest.mark.parametrize("pattern,text,expected", RE2_ONLY, ids=[p for p, _, _ in RE2_ONLY])
def test_re2_syntax_python_re_refuses_works(pattern, text, expected):
    # the point of the case: Python's engine refuses the pattern, or reads it differently
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            found = re.search(f"({pattern})", text)
        assert (found.group(1) if found else "") != expected
    except re.error:
        pass
    query = f"source | extend TimeGenerated = Time, x = extract(@'({pattern})', 1, Msg)"
    assert check_transform(query, COLS).valid
    assert value(f"extract(@'({pattern})', 1, Msg)", text) == expected


def test_re2_semantics_where_python_re_differs():
    assert value(r"extract(@'(\d+)', 1, Msg)", "x\u0663\u0664 12") == "12"  # \d is ASCII only in RE2
    assert value(r"Msg matches regex @'a$'", "a\n") is False  # $ is the very end of text without (?m)
    assert value(r"Msg matches regex @'(?m)a$'", "a\nb") is True
    assert value(r"extract(@'(\w+)', 1, Msg)", "\u00e9t\u00e9 ok") == "t"  # \w is ASCII only


def test_replace_rewrite_follows_re2():
    assert value(r"replace(@'(\w+)@(\w+)', @'\2 at \1 [\0]', Msg)", "bob@host") == "host at bob [bob@host]"
    assert value(r"replace(@'a', @'\\', Msg)", "banana") == "b\\n\\n\\"
    assert value(r"replace(@'(a)', @'\2', Msg)", "banana") is None  # a group the pattern lacks
    assert value(r"replace(@'x*', '-', Msg)", "ab") == "-a-b-"
    assert value(r"replace(@'é', 'e', Msg)", "caf\u00e9 \u00e9t\u00e9") == "cafe ete"


def test_an_invalid_dynamic_pattern_drops_the_record_naming_the_construct():
    transform = compile_transform("source | project r = Msg matches regex Pat", [("Msg", "string"), ("Pat", "string")])
    assert transform.run({"Msg": "aa", "Pat": "a+"}) == {"r": True}
    with pytest.raises(TransformRuntimeError, match="lookahead"):
        transform.run({"Msg": "aa", "Pat": "(?=a)"})
    extract = compile_transform("source | project r = extract(Pat, 1, Msg)", [("Msg", "string"), ("Pat", "string")])
    with pytest.raises(TransformRuntimeError, match="backreference"):
        extract.run({"Msg": "aa", "Pat": r"(a)\1"})


def test_lone_surrogates_in_text_do_not_escape_as_errors():
    # JSON allows "\ud800"; RE2 reads UTF-8, so the text is matched with U+FFFD in its place (same offsets)
    assert value(r"extract(@'(b+)', 1, Msg)", "a\ud800bb") == "bb"
    assert value(r"Msg matches regex 'b'", "\ud800b") is True
    assert value(r"extract_all(@'(\S)', Msg)", "\ud800b") == ["\ud800", "b"]


@pytest.mark.parametrize("pattern", [r"(a|b)(c)?", r"x*", r"", r"(?i)\bA\w*", r"(é)|(b)", r"[^a]"])
@pytest.mark.parametrize("text", ["", "abc ab a", "aébx cé", "ÉAb éa", "ca\nab"])
def test_ascii_fast_path_agrees_with_the_public_api(pattern, text):
    compiled = compile_regex(pattern)
    public = compiled._public
    spans = [m for m in compiled.finditer(text)]
    expected = [[m.span(i) for i in range(compiled.groups + 1)] for m in public.finditer(text)]
    assert spans == expected
    first = public.search(text)
    assert compiled.search(text) == (None if first is None else [first.span(i) for i in range(compiled.groups + 1)])
    assert compiled.test(text) is (first is not None)


def test_explain_accepts_exactly_what_re2_accepts():
    assert explain(r"(?P<n>a)(?<m>b)\pL") is None
    problem = explain(r"(?P<n>a)(?P=n)")
    assert problem is not None and problem.offset == 8 and "named backreference" in problem.message


def test_exponential_pattern_runs_in_linear_time():
    """issue 12 item 3: extract("(a+)+$", 1, Msg) on 'a'*28 + '!' froze the emulator under Python's re.

    Run on 10,000 and 100,000 characters in a subprocess with a generous timeout: under a backtracking
    engine this never finishes (2^28 steps at 28 characters already took seconds); under RE2 it is
    milliseconds. No timing is asserted in-process.
    """
    script = textwrap.dedent("""
        from provision.kql import compile_transform
        t = compile_transform('source | project r = extract("(a+)+$", 1, Msg), m = Msg matches regex "(a|aa)+$", '
                              'p = replace(@"(a*)*b", "x", Msg), c = countof(Msg, @"(a+)+!", "regex")', [("Msg", "string")])
        for n in (28, 10_000, 100_000):
            out = t.run({"Msg": "a" * n + "!"})
            assert out == {"r": "", "m": False, "p": "a" * n + "!", "c": 1}, out
        s = compile_transform('source | parse Msg with "a" x "b" y "c" z "d" w', [("Msg", "string")])
        assert s.run({"Msg": "a" + "b" * 20_000})["w"] == ""
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
