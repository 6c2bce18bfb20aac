"""KQL regular expressions: RE2 syntax, linear-time matching, and why a pattern is refused.

Owns every regular expression a transform evaluates from user text: ``extract``, ``extract_all``,
``replace``, ``countof(..., "regex")``, ``matches regex`` and all ``parse`` kinds (the patterns the
compiler builds for ``parse`` embed the user's literals). The checker asks ``explain`` about
constant patterns; the functions and the compiler call ``compile_regex``.

Why RE2 (google-re2): KQL's regular expressions are RE2's ("The regular expression syntax
supported by Kusto is that of the re2 library": Microsoft Learn, Kusto "RE2 syntax",
learn.microsoft.com/azure/data-explorer/kusto/query/re2; the syntax reference is RE2's own
doc/syntax.txt). RE2 matches in time linear in the input, where Python's backtracking ``re`` takes
exponential time on patterns such as ``(a+)+$`` (issue 12, item 3: 28 bytes froze the emulator).
Using the library itself also makes the accepted syntax exactly RE2's: constructs RE2 refuses
(backreferences, lookaround, possessive quantifiers, atomic groups, recursion, conditionals) are
refused offline as the service refuses them, and RE2-only syntax (``\\pN``, ``[[:alpha:]]``,
``\\Q...\\E``, ``(?U)``, ``\\z``, ``(?<name>...)``) works. Note the RE2 semantics that differ from
Python's ``re``: ``\\d \\w \\s \\b`` are ASCII-only, ``$`` without ``(?m)`` matches only at the very
end of the text, counted repetition is limited to 1000.

Microsoft's newer "Regex syntax" page (kusto/query/regex) documents extra character-class set
operations (``[a-y&&xyz]``, ``[0-9--4]``); DCR transforms are documented against the RE2 page, so
those are taken as RE2 takes them (``&&`` and ``--`` as literal characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# google-re2 ships no type information (no py.typed marker, no stubs on PyPI).
import re2  # type: ignore[import-untyped]

__all__ = ["Regex", "RegexError", "compile_regex", "escape", "expand_rewrite", "explain", "group", "parse_pattern", "safe_text"]

_FLAG_LETTERS = "imsU"  # RE2's flags (doc/syntax.txt "Flags"); Kusto's parse flags= uses the same letters
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 logs every refused pattern to stderr by default; the error is reported instead
_TEST_OPTIONS = re2.Options()
_TEST_OPTIONS.log_errors = False
_TEST_OPTIONS.never_capture = True


class RegexError(Exception):
    """A pattern RE2 refuses. ``message`` names the construct; ``fix`` says what to write instead.

    Deliberately not a ValueError: the evaluator turns ValueErrors of a function into null, while an
    invalid pattern reaching run time drops the record (as the service does).
    """

    def __init__(self, pattern: str, message: str, fix: str, offset: int | None = None):
        super().__init__(message)
        self.pattern = pattern
        self.message = message
        self.fix = fix
        self.offset = offset  # character offset of the offending construct inside the pattern, when known


# What RE2 refuses, as the text at the point of the error starts (RE2 doc/syntax.txt marks each "NOT SUPPORTED"):
# (prefix regex, what it is, how to write it for RE2). Fixed patterns applied to the pattern's text only.
_UNSUPPORTED: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(p), what, fix) for p, what, fix in (
    (r"\(\?=", "a lookahead (?=...)",
     "match the text itself, or test it with a second condition (and ... matches regex ...)"),
    (r"\(\?!", "a negative lookahead (?!...)",
     "test it with a second condition: and not(Column matches regex \"...\")"),
    (r"\(\?<=", "a lookbehind (?<=...)",
     "include the preceding text in the pattern and capture the part you need with ( )"),
    (r"\(\?<!", "a negative lookbehind (?<!...)",
     "test it with a second condition: and not(Column matches regex \"...\")"),
    (r"\(\?>", "an atomic group (?>...)", "use a plain group (?:...): RE2 never backtracks, so atomic groups are not needed"),
    (r"\(\?P=", "a named backreference (?P=name)", "capture both parts and compare them with == in a where clause"),
    (r"\(\?(?:P>|&|R\)|[+-]?\d)", "a recursive pattern ((?R), (?1), (?&name), (?P>name))",
     "RE2 has no recursion: match a fixed nesting depth, or parse the text with parse_json()"),
    (r"\(\?\(", "a conditional group (?(cond)yes|no)", "use alternation (a|b), or iff() over two matches"),
    (r"\(\?#", "a comment group (?#...)", "remove the comment"),
    (r"\(\?'", "a named group written (?'name'...)", "write the group as (?P<name>...) or (?<name>...)"),
    (r"\(\*", "a backtracking verb such as (*FAIL) or (*SKIP)", "remove it: RE2 does not backtrack"),
    (r"\\[1-9]", "a backreference (\\1 ... \\9)", "capture both parts and compare them with == in a where clause"),
    (r"\\[gk]", "a backreference or subroutine call (\\g, \\k)", "capture both parts and compare them with == in a where clause"),
    (r"\\Z", "\\Z (end of text or before a final newline)", "use \\z (end of text) or $"),
    (r"\\[hHvVR]", "a horizontal/vertical space or line-break class (\\h, \\v, \\R)",
     "use a character class such as [ \\t] or [\\r\\n]"),
    (r"\\[XK]", "\\X or \\K", "remove it; capture the part you need with ( ) instead of \\K"),
    (r"\\[eE]", "the escape \\e or \\E without \\Q", "write the character as \\x1b (escape), or start literal text with \\Q"),
    (r"\\c", "a control-character escape (\\cX)", "write the character in hex, e.g. \\x0b for \\cK"),
    (r"\\N", "a named character \\N{...}", "write the character itself or \\x{hex}"),
    (r"\\[luLU]", "a case-changing escape (\\l, \\u, \\L, \\U)", "match both cases with (?i) or a class like [aA]"),
    (r"(?:[*+?]|\{\d+(?:,\d*)?\})\+", "a possessive quantifier (*+, ++, ?+, {n}+)",
     "drop the trailing '+': RE2 matches in linear time, so possessive quantifiers are not needed"),
    (r"[*+?]{2,}|(?:[*+?]|\{\d+(?:,\d*)?\})[*+]", "a repeated quantifier such as a** or a+*",
     "use one quantifier, or group first: (?:a+)*"),
))


def _error_text(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _diagnose(pattern: str, error: Exception) -> RegexError:
    """Name what RE2 refused in ``pattern`` (``error`` is RE2's own message: "kind: fragment")."""
    detail = _error_text(error)
    kind, _, fragment = detail.partition(": ")
    offset = pattern.find(fragment) if fragment else -1
    shown = f"the regular expression {_quote(pattern)}"
    at = offset
    while at >= 0:  # the fragment may occur earlier in a supported form: "(?P" of (?P<n>...) before (?P=n)
        for prefix, what, fix in _UNSUPPORTED:
            if prefix.match(pattern, at):
                return RegexError(pattern, f"{shown} uses {what}, which RE2 (the service's regex engine) does not support", fix, at)
        at = pattern.find(fragment, at + 1)
    if kind == "invalid repetition size":
        return RegexError(pattern, f"{shown} repeats {fragment}: RE2 allows counts up to 1000 (also in total when repetitions nest), "
                          "with n <= m", "use a smaller count, or + / * instead of a large {n,m}", offset if offset >= 0 else None)
    if kind == "pattern too large - compile failed":
        return RegexError(pattern, f"{shown} is too large for RE2 to compile", "use a shorter pattern or fewer repetitions")
    fixes = {
        "missing )": "close every ( with )", "unexpected )": "remove the extra ) or escape it as \\)",
        "missing ]": "close the character class with ]", "trailing \\": "escape a final backslash as \\\\",
        "invalid character class range": "write ranges low-high and Unicode classes RE2 knows, e.g. \\p{Greek}",
        "invalid named capture group": "write a named group as (?P<name>...) with a name of letters, digits and _",
        "missing argument to repetition operator": "put something before the quantifier, or escape it (\\*, \\+, \\?)",
        "no argument for repetition operator": "put something before the quantifier, or escape it (\\*, \\+, \\?)",
        "invalid escape sequence": "escape only punctuation; see the RE2 syntax page for the escapes it knows",
        "invalid perl operator": "RE2 knows (?:...), (?flags), (?flags:...), (?P<name>...) and (?<name>...)",
    }
    return RegexError(pattern, f"{shown} is not valid RE2 syntax: {detail}",
                      fixes.get(kind, "see the RE2 syntax page (learn.microsoft.com/azure/data-explorer/kusto/query/re2)"),
                      offset if offset >= 0 else None)


def _quote(pattern: str) -> str:
    """The pattern as the user wrote it inside a verbatim string (backslashes not doubled); controls escaped."""
    shown = pattern if len(pattern) <= 60 else pattern[:57] + "..."
    return "'" + "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in shown) + "'"


Span = tuple[int, int]  # (start, end) in characters; (-1, -1) for a group that did not take part
_NO_MATCH = (-1, -1)
_UNANCHORED = re2._Anchor.UNANCHORED
_ANCHOR_START = re2._Anchor.ANCHOR_START


class Regex:
    """A pattern compiled by RE2, with the operations KQL needs, on str; spans in characters.

    Speed: google-re2's public match objects cost about 20 µs a call (offsets decoded in Python),
    its underlying ``RE2`` object about 2 µs (Python's ``re``: about 1 µs). For ASCII text, byte
    offsets are character offsets, so the underlying object is called directly (``_regexp``, the
    attribute the public wrapper itself uses; the dependency is pinned below 2); other text goes
    through the public API. tests/kql/test_regex.py checks that both paths agree.
    """

    __slots__ = ("_public", "_rx", "_tester", "groups", "pattern")

    def __init__(self, public: Any, tester: Any):
        self._public = public
        self._rx = public._regexp
        self._tester = tester._regexp  # the same pattern compiled without captures: a DFA-only test
        self.groups: int = public.groups
        self.pattern: str = public.pattern

    def _first(self, anchor: Any, text: str) -> list[Span] | None:
        if text.isascii():
            data = text.encode("ascii")
            spans = self._rx.Match(anchor, data, 0, len(data))
            return None if spans[0] == _NO_MATCH else spans
        found = (self._public.match if anchor is _ANCHOR_START else self._public.search)(safe_text(text))
        return None if found is None else [found.span(i) for i in range(self.groups + 1)]

    def search(self, text: str) -> list[Span] | None:
        """Spans of group 0..groups of the leftmost match, or None."""
        return self._first(_UNANCHORED, text)

    def match(self, text: str) -> list[Span] | None:
        """As ``search``, the match anchored at the start of ``text``."""
        return self._first(_ANCHOR_START, text)

    def test(self, text: str) -> bool:
        """Whether ``text`` holds a match (``matches regex``)."""
        data = text.encode("ascii") if text.isascii() else safe_text(text).encode("utf-8")
        return self._tester.Match(_UNANCHORED, data, 0, len(data))[0] != _NO_MATCH

    def finditer(self, text: str) -> Iterator[list[Span]]:
        """The spans of every non-overlapping match, left to right (an empty match advances one character)."""
        if not text.isascii():
            for found in self._public.finditer(safe_text(text)):
                yield [found.span(i) for i in range(self.groups + 1)]
            return
        data = text.encode("ascii")
        pos, end, match = 0, len(data), self._rx.Match
        while True:  # the same stepping as google-re2's own finditer
            spans = match(_UNANCHORED, data, pos, end)
            if spans[0] == _NO_MATCH:
                return
            yield spans
            if pos == end:
                return
            pos = pos + 1 if spans[0][1] == pos else spans[0][1]


def group(text: str, span: Span) -> str | None:
    """The text of one span (None for a group that did not take part)."""
    return None if span[0] < 0 else text[span[0]:span[1]]


_CACHE: dict[tuple[str, str], Regex] = {}
_CACHE_LIMIT = 4096  # distinct (pattern, flags) kept compiled; dynamic patterns beyond it are compiled per call


def compile_regex(pattern: str, flags: str = "") -> Regex:
    """``pattern`` compiled by RE2 (cached), with RE2 flags from ``flags`` (letters of "imsU"; others ignored).

    Raises RegexError naming what RE2 refused.
    """
    key = (pattern, flags)
    compiled = _CACHE.get(key)
    if compiled is not None:
        return compiled
    letters = "".join(sorted({c for c in flags if c in _FLAG_LETTERS}))
    text = f"(?{letters}){pattern}" if letters else pattern
    try:
        compiled = Regex(re2.compile(text, _OPTIONS), re2.compile(text, _TEST_OPTIONS))
    except re2.error as error:
        raise _diagnose(pattern, error) from None
    except UnicodeEncodeError:
        # a lone surrogate (from a JSON "\\ud800" escape) is not UTF-8, which RE2 works in
        raise RegexError(pattern, f"the regular expression {_quote(pattern)} holds a lone UTF-16 surrogate",
                         "remove the unpaired \\ud800-\\udfff character") from None
    if len(_CACHE) < _CACHE_LIMIT:
        _CACHE[key] = compiled
    return compiled


def explain(pattern: str, flags: str = "") -> RegexError | None:
    """None when RE2 accepts ``pattern``; else the RegexError saying what it refused and how to fix it."""
    try:
        compile_regex(pattern, flags)
    except RegexError as error:
        return error
    return None


def escape(text: str) -> str:
    """``text`` as an RE2 pattern matching it literally."""
    return str(re2.escape(text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (same length, so offsets hold): RE2 reads UTF-8.

    JSON allows an unpaired "\\ud800" escape; the service (UTF-16 strings) keeps it, but it has no UTF-8 form.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


_REWRITE = re.compile(r"\\(.)", re.DOTALL)


def expand_rewrite(rewrite: str, groups: int):
    """Compile a KQL ``replace`` rewrite: ``\\0`` the whole match, ``\\1``..``\\9`` groups, ``\\\\`` a backslash.

    Returns ``expand(text, spans) -> str``, or None when the rewrite is invalid for a pattern with ``groups``
    groups (RE2::Rewrite refuses other escapes and references to groups the pattern lacks). An
    unmatched group expands to "".
    """
    pieces: list[str | int] = []
    last = 0
    for m in _REWRITE.finditer(rewrite):
        pieces.append(rewrite[last:m.start()])
        char = m.group(1)
        if char == "\\":
            pieces.append("\\")
        elif char.isdigit() and char.isascii():
            if int(char) > groups:
                return None
            pieces.append(int(char))
        else:
            return None
        last = m.end()
    if rewrite.endswith("\\") and (last < len(rewrite)):
        return None  # a lone trailing backslash
    pieces.append(rewrite[last:])
    fixed = tuple(pieces)

    def expand(text: str, spans: list[Span]) -> str:
        return "".join(p if isinstance(p, str) else (group(text, spans[p]) or "") for p in fixed)
    return expand


# Kusto parse: typed columns match their type's text (long: -?digits), others lazily (the last one greedily).
_TYPED_GROUP = {"int": r"(-?\d+)", "long": r"(-?\d+)", "real": r"(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"}


def parse_pattern(kind: str, items, column_type) -> tuple[str, list[tuple[int, int, int]]]:
    """The one pattern a ``parse`` operator matches: its literals (kind=regex: as written; else escaped),
    ``*`` as a lazy ``.*?``, each column as a group. ``items``: str literals, and other objects that are
    columns when ``column_type(item)`` gives their normalised type, else wildcards.

    Returns (pattern, spans): spans are (start, end, item index) of each literal inside the pattern,
    so an RE2 error offset can be traced back to the literal that holds it.
    """
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    size = 0
    last = len(items) - 1
    for i, item in enumerate(items):
        if isinstance(item, str):
            text = item if kind == "regex" else escape(item)
            spans.append((size, size + len(text), i))
        else:
            ctype = column_type(item)
            if ctype is None:  # a wildcard
                text = ".*" if i == last else ".*?"
            else:
                text = _TYPED_GROUP.get(ctype, "(.*)" if i == last else "(.*?)")
        parts.append(text)
        size += len(text)
    return "".join(parts), spans
