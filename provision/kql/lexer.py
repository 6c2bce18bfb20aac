"""Lexer: KQL text -> list of tokens (always ending with EOF).

Owns the token shapes of the DCR subset (kql-subset.md "Literals and
identifiers"): identifiers, ``['quoted']`` names, string literals (``'..'``,
``".."``, ``@'verbatim'``, ``h'obfuscated'``, triple-backtick multi-line),
numbers, timespan literals (``1d``, ``5m``, ``100ms``), typed literals whose
body is raw text (``datetime(2024-01-01 10:00)``, ``timespan(1.02:00:00)``,
``guid(...)``, ``int(..)``...), ``//`` comments and punctuation. Positions are
0-based offsets; ``Source.location`` turns them into 1-based line/column.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

IDENT = "ident"
QIDENT = "qident"  # ['name'] / ["name"]
STRING = "string"
NUMBER = "number"  # int or real literal; value is int | float
TIMESPAN = "timespan"  # value: ticks (int)
TYPED = "typed"  # typed literal with raw body: value = (type keyword, raw body text)
OP = "op"
EOF = "eof"

TICKS_PER_SECOND = 10_000_000
# Timespan suffixes (Kusto "timespan" data type doc): value in ticks per unit.
TIMESPAN_UNITS = {
    "d": 86400 * TICKS_PER_SECOND, "day": 86400 * TICKS_PER_SECOND, "days": 86400 * TICKS_PER_SECOND,
    "h": 3600 * TICKS_PER_SECOND, "hr": 3600 * TICKS_PER_SECOND, "hrs": 3600 * TICKS_PER_SECOND,
    "hour": 3600 * TICKS_PER_SECOND, "hours": 3600 * TICKS_PER_SECOND,
    "m": 60 * TICKS_PER_SECOND, "min": 60 * TICKS_PER_SECOND, "minute": 60 * TICKS_PER_SECOND, "minutes": 60 * TICKS_PER_SECOND,
    "s": TICKS_PER_SECOND, "sec": TICKS_PER_SECOND, "second": TICKS_PER_SECOND, "seconds": TICKS_PER_SECOND,
    "ms": 10_000, "milli": 10_000, "millis": 10_000, "millisecond": 10_000, "milliseconds": 10_000,
    "microsecond": 10, "microseconds": 10, "tick": 1, "ticks": 1,
}

# Typed literals whose parenthesised body is raw text, not tokens.
RAW_LITERAL_KEYWORDS = {"datetime", "date", "timespan", "time", "guid", "int", "long", "real", "double", "bool", "boolean", "decimal"}

# Longest first so that '!=' wins over '!'.
_PUNCT = ["|", ";", ",", "(", ")", "[", "]", "{", "}", "==", "=~", "=", "!=", "!~", "<>", "<=", ">=", "<", ">",
          "+", "-", "*", "/", "%", "..", ".", ":", "?", "~"]
_PUNCT.sort(key=len, reverse=True)

_IDENT_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"0[xX][0-9A-Fa-f]+|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DIGITS = "0123456789"
_UNIT_RE = re.compile(r"[A-Za-z]+")
_WS_RE = re.compile(r"(?:\s+|//[^\n]*)+")


@dataclass(slots=True)
class Token:
    kind: str
    text: str  # the exact source text
    pos: int  # 0-based offset of the first character
    value: Any = None  # the literal's value: str, int, float, ticks, or (keyword, body) for typed literals
    space_before: bool = False  # whitespace/comment precedes (for 'project-away' joining)

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


class LexError(Exception):
    def __init__(self, message: str, pos: int, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.fix = fix


class Source:
    """The query text plus offset -> (line, column) mapping (1-based)."""

    def __init__(self, text: str):
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def location(self, pos: int) -> tuple[int, int]:
        pos = max(0, min(pos, len(self.text)))
        index = bisect.bisect_right(self._starts, pos) - 1
        return index + 1, pos - self._starts[index] + 1


def _read_string(text: str, pos: int) -> tuple[str, int]:
    """A quoted string at ``pos`` (quote char included); returns (value, end offset)."""
    quote = text[pos]
    if text.startswith("```", pos):
        end = text.find("```", pos + 3)
        if end < 0:
            raise LexError("unterminated ``` string literal", pos, "close the multi-line string with ```")
        return text[pos + 3:end], end + 3
    out: list[str] = []
    i = pos + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\n":
            break
        if ch == "\\" and i + 1 < n:
            esc = text[i + 1]
            mapped = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}.get(esc)
            if mapped is not None:
                out.append(mapped)
                i += 2
                continue
            if esc == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2:i + 6] or ""):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            if esc == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4] or ""):
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            # Kusto keeps unknown escapes such as '\d' (common in regexes) literally.
            out.append("\\" + esc)
            i += 2
            continue
        out.append(ch)
        i += 1
    raise LexError("unterminated string literal", pos, f"close the string with {quote}")


def _read_verbatim(text: str, pos: int) -> tuple[str, int]:
    """@'...' / @"...": no escapes, a doubled quote stands for one quote."""
    quote = text[pos]
    out = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            if text[i + 1:i + 2] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise LexError("unterminated verbatim string literal", pos - 1, f"close the string with {quote}")


def _read_raw_body(text: str, pos: int) -> tuple[str, int]:
    """Body of a typed literal after '(' at ``pos``: raw text up to the matching ')'."""
    depth = 0
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[pos + 1:i], i + 1
        elif ch == "\n":
            break
        i += 1
    raise LexError("unterminated typed literal: missing ')'", pos, "close the literal with ')'")


def _name_at(text: str, pos: int) -> str:
    """The run of word characters around ``pos`` (for a hint that quotes a non-ASCII name)."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = pos
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end]



def _must_match(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    """``pattern`` at ``pos``; the caller checked the first character, so no match is a lexer bug."""
    match = pattern.match(text, pos)
    if match is None:
        raise LexError(f"unexpected character {text[pos:pos + 1]!r}", pos, "remove it")
    return match

_MAX_TICKS = 2**63 - 1  # .NET TimeSpan.MaxValue in 100-ns ticks (10675199.02:48:05.4775807)


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``; raises LexError at the first character it cannot read."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    space = False
    while True:
        m = _WS_RE.match(text, i)
        if m:
            i = m.end()
            space = True
        if i >= n:
            # end of query: right after the last token, so a caret does not land past trailing blank lines
            tokens.append(Token(EOF, "", tokens[-1].end if tokens else 0, None, space))
            return tokens
        ch = text[i]
        start = i
        # String literals (optionally verbatim '@' or obfuscated 'h'/'H' prefixed).
        if ch in "'\"" or text.startswith("```", i):
            value, i = _read_string(text, i)
            tokens.append(Token(STRING, text[start:i], start, value, space))
        elif ch == "@" and text[i + 1:i + 2] in ("'", '"'):
            value, i = _read_verbatim(text, i + 1)
            tokens.append(Token(STRING, text[start:i], start, value, space))
        elif ch in "hH" and text[i + 1:i + 2] in ("'", '"') :
            value, i = _read_string(text, i + 1)
            tokens.append(Token(STRING, text[start:i], start, value, space))
        elif ch in "hH" and text[i + 1:i + 2] == "@" and text[i + 2:i + 3] in ("'", '"'):
            value, i = _read_verbatim(text, i + 2)
            tokens.append(Token(STRING, text[start:i], start, value, space))
        elif ch == "[" and text[i + 1:i + 2] in ("'", '"'):
            # ['quoted name']
            value, j = _read_string(text, i + 1)
            blank = _WS_RE.match(text, j)
            k = blank.end() if blank else j
            if text[k:k + 1] != "]":
                # Not a quoted name: a bracket followed by a string (index or list).
                tokens.append(Token(OP, "[", i, None, space))
                i += 1
            else:
                i = k + 1
                tokens.append(Token(QIDENT, text[start:i], start, value, space))
        elif ch in _DIGITS or (ch == "." and text[i + 1:i + 2] in _DIGITS and i + 1 < n):
            m = _must_match(_NUMBER_RE, text, i)
            num_text = m.group(0)
            # '1..5' is a range: keep '..' out of the number.
            if num_text.endswith(".") and text[m.end():m.end() + 1] == ".":
                num_text = num_text[:-1]
            i = start + len(num_text)
            unit = _UNIT_RE.match(text, i)
            if unit and unit.group(0).lower() in TIMESPAN_UNITS:
                i = unit.end()
                scaled = float(num_text) * TIMESPAN_UNITS[unit.group(0).lower()]
                if not abs(scaled) <= _MAX_TICKS:  # also inf and nan ('1e4001d', found by tests/test_fuzz_kql.py)
                    raise LexError(f"timespan literal '{text[start:i]}' is out of range", start,
                                   "use at most 10675199d, the largest timespan (.NET TimeSpan.MaxValue)")
                ticks = round(scaled)
                tokens.append(Token(TIMESPAN, text[start:i], start, ticks, space))
            elif unit:
                raise LexError(f"unknown timespan unit '{unit.group(0)}'", i, "use d, h, m, s, ms, microsecond or tick")
            else:
                number: int | float
                if num_text.lower().startswith("0x"):
                    number = int(num_text, 16)
                elif num_text.isascii() and num_text.isdigit():
                    number = int(num_text)
                else:
                    number = float(num_text)
                tokens.append(Token(NUMBER, num_text, start, number, space))
        elif ch.isascii() and (ch.isalpha() or ch in "_$"):
            # Kusto.Language reads only ASCII letters in names ("Unexpected: Ü"): others fall to the error below.
            m = _must_match(_IDENT_RE, text, i)
            word = m.group(0)
            i = m.end()
            lower = word.lower()
            if word in RAW_LITERAL_KEYWORDS and text[i:i + 1] == "(":
                body, i = _read_raw_body(text, i)
                tokens.append(Token(TYPED, text[start:i], start, (word, body), space))
            else:
                # 'in~' / 'has_any' etc: a trailing '~' belongs to 'in'.
                if lower == "in" and text[i:i + 1] == "~":
                    i += 1
                tokens.append(Token(IDENT, text[start:i], start, text[start:i], space))
        elif ch == "!" and text[i + 1:i + 2].isascii() and text[i + 1:i + 2].isalpha():
            # Negated string operators: !contains, !has, !in, !in~, !startswith ...
            m = _must_match(_IDENT_RE, text, i + 1)
            i = m.end()
            if m.group(0).lower() == "in" and text[i:i + 1] == "~":
                i += 1
            tokens.append(Token(OP, text[start:i], start, None, space))
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    i += len(p)
                    tokens.append(Token(OP, p, start, None, space))
                    break
            else:
                if ch.isalpha():
                    raise LexError(f"unexpected character {ch!r}: names are ASCII letters, digits and '_'", i,
                                   f"quote the name, e.g. ['{_name_at(text, i)}'], or use ASCII letters only")
                raise LexError(f"unexpected character {ch!r}", i, "remove it or quote it inside a string literal")
        space = False
