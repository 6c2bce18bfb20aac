"""Rules every name in a scenario obeys, whatever it names: safe characters and case-insensitive uniqueness.

- No control or format characters (Unicode categories Cc and Cf: newlines, NUL, the bidirectional
  overrides U+202A-U+202E and U+2066-U+2069, zero-width characters). A name goes into ARM URLs,
  request bodies, plan output and CI variables; a newline there injects lines into
  ``$GITHUB_OUTPUT`` or Azure DevOps logging commands, and a bidi override makes a name read
  differently from what it is (issue 12 items 4 and 10).
- Unique regardless of case: ARM resource names are case-insensitive ("Resource and resource group
  names are case-insensitive unless specifically noted", learn.microsoft.com/azure/azure-resource-manager/
  management/resource-name-rules; the DCR and DCE specs: "The name is case insensitive"), and so are
  Log Analytics table names, so ``Orders_CL`` and ``ORDERS_CL`` are one table that apply would write
  twice (issue 12 item 6). Stream names are keys of one DCR's ``streamDeclarations``, looked up by the
  ingestion URL; two that differ only by case are refused too (publishers listed twice in
  any case are rules.py's PublisherDuplicate). Column
  names are left alone: KQL is case-sensitive and the services' rule for them is not documented.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator

from provision.armnames import RULES, NameKind, name_problem
from provision.diagnostics import is_unsafe
from provision.scenario.model import Scenario

# Characters that break an ARM URL path segment (or a stream's ingestion URL): refused in every name that becomes one.
BAD_NAME_CHARS = re.compile(r"[\s/\\?#%&*<>:+]")
SRC_CASE = ("learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules (names are case-insensitive); "
            "dataCollectionRules_API.json / dataCollectionEndpoints_API.json: 'The name is case insensitive'")
SRC_CHARACTERS = "issue 12 items 4 and 10: names reach ARM URLs, bodies and CI variables"

Report = Callable[[str, str, int | None, str, str], None]  # (code, message, line, fix, source)


def unsafe_character(text: str) -> str | None:
    """The first control or format character of ``text`` as ``U+XXXX NAME``, or None."""
    for ch in text:
        if is_unsafe(ch):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"
    return None


def check_names(scenario: Scenario, error: Report) -> None:
    """Report every name with an unsafe character and every group of names equal but for case."""
    for kind, name, line in _names(scenario):
        bad = unsafe_character(name)
        if bad:
            error("NameCharacter", f"{kind} name {name!r} contains {bad}", line,
                  "remove it: names may not hold control, format or bidirectional-override characters", SRC_CHARACTERS)
    arm_named = [("RuleName", NameKind.RULE, rule.name, rule.line) for rule in scenario.rules.values()]
    if scenario.endpoint is not None:
        arm_named.append(("EndpointName", NameKind.ENDPOINT, scenario.endpoint.name, scenario.endpoint.line))
    for code, kind, name, line in arm_named:
        if not unsafe_character(name):  # an unsafe character is reported once, as NameCharacter
            report_arm_name(code, kind, name, line, error)
    _unique("table", ((t.name, t.line) for t in scenario.tables.values()), error)
    _unique("rule (DCR)", ((r.name, r.line) for r in scenario.rules.values()), error)
    for rule in scenario.rules.values():
        _unique(f"stream of rule '{rule.name}'", ((s, rule.lines.get(f"stream:{s}", rule.line)) for s in rule.streams), error)


def report_arm_name(code: str, kind: NameKind, name: str, line: int | None, error: Report) -> bool:
    """Report ``name`` when ARM refuses it as a ``kind`` (armnames.py); True when it is valid."""
    problem = name_problem(kind, name)
    if problem:
        error(code, problem, line, f"use {RULES[kind].text}", RULES[kind].source)
    return problem is None


def _names(scenario: Scenario) -> Iterator[tuple[str, str, int | None]]:
    yield "scenario", scenario.name, scenario.lines.get("name")
    for table in scenario.tables.values():
        yield "table", table.name, table.line
        for column in table.columns:
            yield "column", column.name, column.line or table.line
    for rule in scenario.rules.values():
        yield "rule (DCR)", rule.name, rule.line
        for stream, columns in rule.streams.items():
            stream_line = rule.lines.get(f"stream:{stream}", rule.line)
            yield "stream", stream, stream_line
            for stream_column in columns:
                yield "stream column", stream_column.name, stream_column.line or stream_line
    if scenario.endpoint is not None:
        yield "endpoint (DCE)", scenario.endpoint.name, scenario.endpoint.line


def _unique(kind: str, names: Iterable[tuple[str, int | None]], error: Report) -> None:
    first: dict[str, tuple[str, int | None]] = {}
    for name, line in names:
        seen = first.setdefault(name.casefold(), (name, line))
        if seen[0] != name:
            where = f" (line {seen[1]})" if seen[1] else ""
            error("NameCase", f"{kind} '{name}' and '{seen[0]}'{where} differ only by case: Azure treats them as one name",
                  line, "use one spelling, or rename one of them", SRC_CASE)
