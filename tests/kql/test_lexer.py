"""Lexer unit tests: token kinds/values without positions; the stream always ends with EOF."""

from __future__ import annotations

import pytest

from provision.kql.lexer import EOF, IDENT, NUMBER, OP, QIDENT, STRING, TIMESPAN, TYPED, LexError, Source, tokenize


def kinds(text):
    return [(t.kind, t.value if t.kind != OP else t.text) for t in tokenize(text)]


def test_ends_with_eof():
    assert tokenize("")[-1].kind == EOF
    assert tokenize("source")[-1].kind == EOF


@pytest.mark.parametrize("text,value", [
    ("'a'", "a"), ('"a"', "a"), (r"'it\'s'", "it's"), (r'"tab\t"', "tab\t"), ("@'c:\\x'", "c:\\x"), ('@"say ""hi"""', 'say "hi"'),
    ("h'secret'", "secret"), ("```multi\nline```", "multi\nline"), (r"'\d+'", "\\d+"), (r"'\u0041'", "A"),
])
def test_strings(text, value):
    assert kinds(text) == [(STRING, value), (EOF, None)]


@pytest.mark.parametrize("text,value", [("1", 1), ("1.5", 1.5), ("0x1F", 31), ("1e3", 1000.0), (".5", 0.5)])
def test_numbers(text, value):
    assert kinds(text) == [(NUMBER, value), (EOF, None)]


@pytest.mark.parametrize("text,ticks", [("1d", 864_000_000_000), ("5m", 3_000_000_000), ("10s", 100_000_000), ("100ms", 1_000_000),
                                        ("1.5h", 54_000_000_000), ("2tick", 2), ("3microsecond", 30)])
def test_timespans(text, ticks):
    assert kinds(text) == [(TIMESPAN, ticks), (EOF, None)]


def test_typed_literal_bodies_are_raw_text():
    assert kinds("datetime(2024-01-01 10:00)")[0] == (TYPED, ("datetime", "2024-01-01 10:00"))
    assert kinds("timespan(1.02:03:04)")[0] == (TYPED, ("timespan", "1.02:03:04"))
    assert kinds("todatetime(x)")[0] == (IDENT, "todatetime")


def test_quoted_names_and_index():
    assert kinds("['my col']")[0] == (QIDENT, "my col")
    assert kinds('["x"]')[0] == (QIDENT, "x")
    assert [k for k, _ in kinds("['a', 'b']")][:2] == [OP, STRING]


def test_negated_and_tilde_operators():
    assert kinds("a !contains b")[1] == (OP, "!contains")
    assert kinds("a !in~ (1)")[1] == (OP, "!in~")
    assert kinds("a in~ (1)")[1] == (IDENT, "in~")
    assert kinds("a != b")[1] == (OP, "!=")
    assert kinds("a !~ b")[1] == (OP, "!~")


def test_comments_are_skipped_and_spacing_recorded():
    tokens = tokenize("source // comment\n| project-away x")
    assert [t.text for t in tokens] == ["source", "|", "project", "-", "away", "x", ""]
    assert tokens[1].space_before and not tokens[3].space_before


def test_range_dots_are_not_part_of_a_number():
    assert [t.text for t in tokenize("(1..5)")][:4] == ["(", "1", "..", "5"]


@pytest.mark.parametrize("text,pos", [("'open", 0), ("x = 'a\nb'", 4), ("5parsecs", 1), ("a # b", 2), ("datetime(2020", 8)])
def test_errors_point_at_the_problem(text, pos):
    with pytest.raises(LexError) as info:
        tokenize(text)
    assert info.value.pos == pos and info.value.fix


def test_source_locations_are_one_based():
    src = Source("ab\ncd\n")
    assert src.location(0) == (1, 1)
    assert src.location(4) == (2, 2)
    assert src.location(6) == (3, 1)


@pytest.mark.parametrize("text,pos", [
    ("Ünï", 0), ("abé", 2), ("x !é 'a'", 2), ("٣", 0), ("1٣", 1), (".٣", 1),
])
def test_non_ascii_letters_and_digits_are_lex_errors_not_crashes(text, pos):
    # Kusto.Language reads only ASCII names and digits (it reports "Unexpected: Ü"); a crash here was a bug
    with pytest.raises(LexError) as caught:
        tokenize(text)
    assert caught.value.pos == pos


def test_non_ascii_name_error_suggests_quoting():
    with pytest.raises(LexError) as caught:
        tokenize("extend Ünï = 1")
    assert "['Ünï']" in caught.value.fix


def test_non_ascii_text_in_strings_and_quoted_names_is_fine():
    assert kinds("['Ünï'] 'é😀'") == [(QIDENT, "Ünï"), (STRING, "é😀"), (EOF, None)]


@pytest.mark.parametrize("literal", ["1e4001d", "99999999999d", "-1e400h"])
def test_a_timespan_literal_out_of_range_is_a_lex_error_not_a_crash(literal):
    """Found by tests/test_fuzz_kql.py: '1e4001d' raised OverflowError (float infinity to int)."""
    with pytest.raises(LexError, match="out of range"):
        tokenize(f"source | extend X = {literal}")
