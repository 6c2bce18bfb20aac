"""Where each character of a YAML string was written in the file.

A transform's KQL diagnostics carry a line:column inside the query; to put the
caret on the right character of the scenario file, every character of the
string value must be traced back to the file. That is easy for ``|`` blocks but
not for the other styles: plain and quoted scalars fold line breaks into
spaces, double quotes have escapes (``\\"``, ``\\t``, ``\\u00e9``), single quotes
double ``''``, and ``>`` blocks fold lines. ``string_positions`` re-reads the
scalar's source text with those rules (YAML 1.1 §9, as PyYAML/libyaml apply
them) and returns the file position of every character of the value, or None
when its re-reading does not give back exactly the value (then callers must say
the position is approximate rather than point at the wrong character).
Characters that come from an escape point at its backslash; spaces or newlines
that come from folding point just after the end of the folded line.

``place_in_file`` uses those positions to move a KQL diagnostic (line:column in
the transform) to the scenario file, with the file's line and a caret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from provision.diagnostics import Diagnostic, caret_line

if TYPE_CHECKING:
    from provision.scenario.model import Flow

Position = tuple[int, int]  # 1-based (line, column) in the file

_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c", "r": "\r", "e": "\x1b",
    " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_BLANK = " \t"


def string_positions(value: str, style: str | None, start: Position, end: Position | None, lines: list[str]) -> list[Position] | None:
    """File position of each character of ``value`` (a scalar of ``style`` from ``start`` to ``end``), or None."""
    try:
        if style in ("|", ">"):
            # an explicit indentation indicator (`|2`) counts from the parent's indentation, which is not known here:
            # try the auto-detected indentation, then each smaller one, and keep the one that gives back the value
            for indent in (None, *range(1, 17)):
                text, positions = _block(start, lines, folded=style == ">", indent=indent)
                if text[: len(value)] == value:
                    break
        elif end is None:
            return None
        else:
            text, positions = _flow(style or "", start, end, lines)
    except (IndexError, ValueError):
        return None
    if len(value) > len(text) or text[: len(value)] != value:
        return None  # chomping may drop trailing newlines; anything else means the re-reading is wrong
    return positions[: len(value)]


def _flow(style: str, start: Position, end: Position, lines: list[str]) -> tuple[str, list[Position]]:
    """Plain, single- or double-quoted scalars: per-line content joined by YAML line folding."""
    first_line, first_col = start
    last_line, last_col = end
    if style in ("'", '"'):
        first_col += 1  # inside the quotes
        last_col -= 1
    out: list[str] = []
    where: list[Position] = []
    pending_breaks: list[Position] = []  # empty lines since the last content
    fold_at: Position | None = None  # where the previous content line's break is
    joined = False  # the previous line ended with an escaped line break (double quotes)
    for number in range(first_line, last_line + 1):
        raw = lines[number - 1]
        begin = first_col - 1 if number == first_line else 0
        stop = last_col - 1 if number == last_line else len(raw)
        segment = raw[begin:stop]
        offset = begin
        if number != first_line:
            stripped = segment.lstrip(_BLANK)
            offset += len(segment) - len(stripped)
            segment = stripped
        escaped_break = False
        if number != last_line:
            if style == '"' and _ends_with_escape(segment):
                escaped_break = True
                segment = segment[:-1]
            else:
                segment = segment.rstrip(_BLANK)
        if number != first_line and not segment and number != last_line:
            pending_breaks.append((number, len(raw) + 1))
            continue
        if fold_at is not None:
            if pending_breaks:
                for position in pending_breaks:
                    out.append("\n")
                    where.append(position)
            elif not joined:
                out.append(" ")
                where.append(fold_at)
        pending_breaks = []
        _content(style, segment, number, offset, out, where)
        fold_at = (number, len(raw) + 1)
        joined = escaped_break
    return "".join(out), where


def _ends_with_escape(segment: str) -> bool:
    count = len(segment) - len(segment.rstrip("\\"))
    return count % 2 == 1


def _content(style: str, segment: str, line: int, offset: int, out: list[str], where: list[Position]) -> None:
    """One line's characters, with quote doubling or escapes undone."""
    i = 0
    while i < len(segment):
        ch = segment[i]
        position = (line, offset + i + 1)
        if style == "'" and ch == "'" and segment[i + 1:i + 2] == "'":
            out.append("'")
            where.append(position)
            i += 2
            continue
        if style == '"' and ch == "\\":
            code = segment[i + 1]
            if code in _HEX_ESCAPES:
                width = _HEX_ESCAPES[code]
                out.append(chr(int(segment[i + 2:i + 2 + width], 16)))
                where.append(position)
                i += 2 + width
                continue
            out.append(_ESCAPES[code])  # KeyError -> not a valid escape: libyaml refused the file already
            where.append(position)
            i += 2
            continue
        out.append(ch)
        where.append(position)
        i += 1


def _block(start: Position, lines: list[str], folded: bool, indent: int | None = None) -> tuple[str, list[Position]]:
    """``|`` and ``>`` blocks: content lines below the header at the block's indentation (auto-detected when None)."""
    header_line = start[0]
    body = lines[header_line:]
    if indent is not None:
        return _block_lines(header_line, body, indent, folded)
    indent = 0
    for raw in body:  # auto-detected: the widest leading run of spaces up to the first content (an explicit indicator is verified by the caller)
        spaces = len(raw) - len(raw.lstrip(" "))
        indent = max(indent, spaces)
        if raw.strip(" "):
            break
    return _block_lines(header_line, body, max(indent, 1), folded)


def _block_lines(header_line: int, body: list[str], indent: int, folded: bool) -> tuple[str, list[Position]]:
    out: list[str] = []
    where: list[Position] = []
    breaks: list[Position] = []  # line breaks since the last content line (its own, then empty lines')
    previous_text = False  # previous content line started without blank (foldable)
    started = False
    for number, raw in enumerate(body, start=header_line + 1):
        spaces = min(len(raw) - len(raw.lstrip(" ")), indent)
        if raw[spaces:] == "":
            breaks.append((number, len(raw) + 1))  # an empty line (at most the indentation's spaces)
            continue
        if spaces < indent:
            break  # less indented: the block has ended
        text = raw[indent:]
        text_line = text[:1] not in _BLANK
        if started:
            if folded and previous_text and text_line:
                if len(breaks) == 1:
                    out.append(" ")
                    where.append(breaks[0])
                else:
                    for position in breaks[1:]:
                        out.append("\n")
                        where.append(position)
            else:
                for position in breaks:
                    out.append("\n")
                    where.append(position)
        else:
            for position in breaks:  # leading empty lines are kept
                out.append("\n")
                where.append(position)
        breaks = [(number, len(raw) + 1)]
        for i, ch in enumerate(text):
            out.append(ch)
            where.append((number, indent + i + 1))
        previous_text = text_line
        started = True
    for position in breaks:  # trailing breaks: chomping keeps some of them (the caller compares with the value)
        out.append("\n")
        where.append(position)
    return "".join(out), where


# ---------------------------------------------------------------- KQL diagnostics -> the file

def place_in_file(d: Diagnostic, flow: Flow, file: str, source_lines: Sequence[str]) -> Diagnostic:
    """Move a query-relative position (line:column inside the transform) to the scenario file.

    Uses the per-character file positions of the transform text (``string_positions``), so quoted
    strings with escapes, folded ``>`` blocks and multi-line plain scalars land on the right
    character. When those are unknown (e.g. the text was changed by ``${VAR}`` substitution), the
    diagnostic is placed where the transform starts and says where inside the transform it is.
    ``source_lines`` is the file's text as the loader read it (the file is not read again).
    """
    if flow.transform_line is None:
        return replace(d, file=file)
    q_line, q_column = d.line or 1, d.column or 1
    user_text, offset = _user_offset(flow, _query_offset(flow.transform, q_line, q_column))
    positions = flow.transform_positions
    if positions:
        line, column = _file_position(user_text, positions, offset)
        fix = d.fix
        if d.code == "SyntaxError" and _comment_after(source_lines, user_text, positions):
            fix = (fix + "; " if fix else "") + "YAML read the ' #...' after the transform as a comment: quote the transform or write it as a '|' block"
        return replace(d, file=file, line=line, column=column, excerpt=_file_excerpt(source_lines, line, column), fix=fix)
    where = (f" (at line {q_line}, column {q_column} of the transform text; its exact place in the file is not known: the text was "
             "changed by ${VAR} substitution or uses a YAML quoting the tool cannot trace)")
    return replace(d, file=file, line=flow.transform_line, column=flow.transform_column, message=d.message + where)


def _source_line(source_lines: Sequence[str], line: int) -> str | None:
    return source_lines[line - 1] if 0 < line <= len(source_lines) else None


def _comment_after(source_lines: Sequence[str], user_text: str, positions) -> bool:
    """Whether an unquoted transform is followed by ' #' on its last line (YAML cut it there as a comment)."""
    if not positions or not user_text.strip():
        return False
    line, column = positions[len(user_text.rstrip()) - 1]
    rest = (_source_line(source_lines, line) or "")[column:]
    return rest[:1] in (" ", "\t") and rest.lstrip().startswith("#")


def _query_offset(text: str, line: int, column: int) -> int:
    """0-based offset of a 1-based line:column in ``text`` (lines end at '\\n', as the KQL lexer counts them)."""
    offset = 0
    for _ in range(line - 1):
        newline = text.find("\n", offset)
        if newline < 0:
            return len(text)
        offset = newline + 1
    return min(offset + column - 1, len(text))


def _user_offset(flow: Flow, offset: int) -> tuple[str, int]:
    """The user's own transform text and the offset in it (undoing the toguid() extend the tool inserted)."""
    user_text = flow.user_transform
    if not flow.transform_shift:
        return user_text, offset
    at, shift = flow.transform_insert_at, flow.transform_shift
    if offset >= at + shift:
        return user_text, offset - shift
    return user_text, max(at - 1, 0) if offset >= at else offset


def _file_position(user_text: str, positions, offset: int) -> Position:
    """File line:column of ``user_text[offset]``; past the end (or in trailing blanks): just after the last character."""
    last = len(user_text.rstrip())
    if offset < min(last, len(positions)):
        return positions[offset]
    if last == 0 or last > len(positions):
        return positions[0] if positions else (1, 1)
    line, column = positions[last - 1]
    return line, column + 1


def _file_excerpt(source_lines: Sequence[str], line: int, column: int) -> str | None:
    """The file's line with a caret under ``column`` (tabs kept so the caret lines up)."""
    src = _source_line(source_lines, line)
    return None if src is None else caret_line(src, column)
