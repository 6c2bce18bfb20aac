"""``${VAR}`` and ``${VAR:-default}`` substitution in scenario strings.

Lookup order (docs/architecture.md, issue #2): ``--var K=V``, then the chosen
environment's ``vars``, then the process environment. Defaults may themselves
contain variables (``${A:-${B:-x}}``). ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NESTING = 16  # ${A:-${B:-...}}: a few levels are useful; thousands would exhaust the recursion limit


class VariableSyntax(Exception):
    """A ``${`` without a valid name or closing brace."""


class VariableValue(VariableSyntax):
    """A variable whose value holds ``${`` (e.g. ``--var A='${A}'``): values are not substituted again, so
    the text would reach Azure as written (issue 12 item 10)."""


def has_variables(text: str) -> bool:
    return "${" in text


def substitute(text: str, lookup: Callable[[str], str | None]) -> tuple[str, list[str]]:
    """``text`` with every variable replaced; also returns the names that had no value.

    Unresolved variables are left as written so one run can name all of them.
    Raises VariableSyntax for a malformed reference.
    """
    missing: list[str] = []
    out, _ = _scan(text, 0, lookup, missing, nested=False)
    return out, missing


def _scan(text: str, pos: int, lookup, missing: list[str], nested: bool, depth: int = 0) -> tuple[str, int]:
    if depth > MAX_NESTING:
        raise VariableSyntax(f"defaults are nested more than {MAX_NESTING} levels deep")
    parts: list[str] = []
    while pos < len(text):
        if text.startswith("$${", pos):
            parts.append("${")
            pos += 3
        elif text.startswith("${", pos):
            value, pos = _reference(text, pos + 2, lookup, missing, depth)
            parts.append(value)
        elif nested and text[pos] == "}":
            return "".join(parts), pos
        else:
            parts.append(text[pos])
            pos += 1
    if nested:
        raise VariableSyntax("a '${' has no closing '}'")
    return "".join(parts), pos


def _reference(text: str, pos: int, lookup, missing: list[str], depth: int = 0) -> tuple[str, int]:
    """Parse ``NAME}`` or ``NAME:-default}`` starting at ``pos``; returns (value, position after '}')."""
    match = _NAME.match(text, pos)
    if not match:
        raise VariableSyntax("'${' must be followed by a variable name (letters, digits, '_') and '}'")
    name = match.group(0)
    pos = match.end()
    value = lookup(name)
    if value is not None and "${" in value:
        # The value itself is not shown: it may come from the process environment
        raise VariableValue(f"the value of {name} contains '${{', which is never substituted again")
    if text.startswith(":-", pos):
        default, pos = _scan(text, pos + 2, lookup, missing if value is None else [], nested=True, depth=depth + 1)
        if value is None:
            value = default
    elif text.startswith("}", pos):
        if value is None:
            missing.append(name)
            value = "${" + name + "}"
    else:
        raise VariableSyntax(f"unexpected character after '${{{name}': write ${{{name}}} or ${{{name}:-default}}")
    return value, pos + 1


def chain_lookup(*sources: Mapping[str, str] | None) -> Callable[[str], str | None]:
    """A lookup that tries each mapping in order."""
    present = [s for s in sources if s]

    def lookup(name: str) -> str | None:
        for source in present:
            if name in source and source[name] is not None:
                return str(source[name])
        return None

    return lookup
