"""Diagnostics: one problem found in user input, with where it is and how to fix it.

Shared by every layer that checks input (``spec`` rules, the ``kql`` checker,
live-state checks in ``plan``). Layers collect diagnostics instead of raising,
so a user sees every problem in one run.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem. ``code`` names the rule; ``source`` cites where the rule comes from."""

    severity: str
    code: str
    message: str
    fix: str = ""
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    excerpt: str | None = None  # source line(s) with a caret under the column
    source: str = ""  # citation, e.g. "azure-contract.md §3.2 [DOC-TABLE]"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def format(self) -> str:
        """Human text: ``file:line:col: error [code] message`` then excerpt and fix."""
        head = f"{self.severity} [{self.code}] {printable(self.message)}"
        where = self.where()
        text = f"{where}: {head}" if where else head
        if self.excerpt:
            text += "\n" + "\n".join("    " + printable(ln) for ln in self.excerpt.splitlines())
        if self.fix:
            text += f"\n    fix: {printable(self.fix)}"
        return text

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }


UNSAFE_CATEGORIES = ("Cc", "Cf")  # control and format characters (newlines, NUL, bidirectional overrides, ...)


def is_unsafe(ch: str) -> bool:
    """Whether ``ch`` is a control or format character: never shown raw, never allowed in a name."""
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def printable(text: str) -> str:
    """``text`` with control and format characters written as escapes (``\\n``, ``\\u202e``).

    Messages quote what the user wrote; a newline there would start a line of its own, which CI
    runners read as a command (``##vso[...]``, ``::error::``), and a bidirectional override would
    make the message read differently from what it says (issue 12 item 4). Tabs stay (excerpts).
    """
    if text.isprintable():
        return text
    return "".join(ch if ch == "\t" or not is_unsafe(ch) else ascii(ch)[1:-1] for ch in text)


def has_errors(diagnostics) -> bool:
    return any(d.is_error for d in diagnostics)


def caret_excerpt(text: str, line: int, column: int) -> str:
    """The ``line``-th line of ``text`` (1-based) with a caret under ``column``."""
    lines = text.splitlines() or [""]
    return caret_line(lines[min(max(line, 1), len(lines)) - 1], column)


EXCERPT_WIDTH = 120  # longer lines are cut around the caret ("..." marks the cut)


def caret_line(src: str, column: int) -> str:
    """``src`` (one line) with a caret under ``column`` (1-based) on the next line."""
    width = max(column, 1) - 1
    if len(src) > EXCERPT_WIDTH:
        start = max(0, min(width - EXCERPT_WIDTH // 2, len(src) - EXCERPT_WIDTH))
        end = start + EXCERPT_WIDTH
        src = ("..." if start else "") + src[start:end] + ("..." if end < len(src) else "")
        width = width - start + (3 if start else 0)
    # keep the line's tabs in the caret line so the caret sits under the character however tabs are shown
    prefix = "".join("\t" if ch == "\t" else " " for ch in src[:width]) + " " * max(width - len(src), 0)
    return f"{src}\n{prefix}^"
