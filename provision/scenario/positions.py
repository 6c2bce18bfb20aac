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
"""

from __future__ import annotations

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
