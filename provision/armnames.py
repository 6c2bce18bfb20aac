"""The name rules ARM applies to the resources a scenario names, checked before anything is sent.

A name ARM refuses fails the PUT that carries it, half-way through an apply whose tables were already
written (issue 12 item 10: `.`, `..`, `-dcr`, a 65-character rule name). ``validate`` reports them
instead, with the rule and its source. Pure: a table of patterns and one function.

The emulator keeps its own copy of these rules (provision/emulator/arm.py), because it stands for
Azure and imports nothing of the tool; tests/test_arm_names.py checks that both agree on every case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class NameKind(StrEnum):
    SUBSCRIPTION = "subscription id"
    RESOURCE_GROUP = "resource group"
    WORKSPACE = "workspace"
    RULE = "data collection rule"
    ENDPOINT = "data collection endpoint"


@dataclass(frozen=True)
class NameRule:
    pattern: re.Pattern[str]
    text: str  # the rule in words, used as the fix
    source: str


# The DCR and DCE API documents give their name parameters no pattern or length; the rule below is the
# one the emulator applies (docs/emulator.md "Resource names"): ARM's common form for tracked resources.
_TRACKED = NameRule(
    re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.()-]{0,62}[A-Za-z0-9_()-])?"),
    "1-64 letters, digits, '-', '_', '.', '(' or ')', starting with a letter or digit and not ending with '.'",
    "docs/emulator.md \"Resource names\" (the DCR/DCE API documents give no pattern)",
)

RULES: dict[NameKind, NameRule] = {
    NameKind.SUBSCRIPTION: NameRule(
        re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
        "a GUID such as 11111111-1111-4111-8111-111111111111",
        "common-types v5 SubscriptionIdParameter (format: uuid)",
    ),
    NameKind.RESOURCE_GROUP: NameRule(
        re.compile(r"[-\w.()]{0,89}[-\w()]"),
        "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'",
        "azure-contract.md §1 [CT5] resourceGroupName; learn.microsoft.com resource-name-rules: \"Can't end with period\"",
    ),
    NameKind.WORKSPACE: NameRule(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]"),
        "4-63 letters, digits or '-', starting and ending with a letter or digit",
        "azure-contract.md workspaceName (operationalinsights common/v1/types.json)",
    ),
    NameKind.RULE: _TRACKED,
    NameKind.ENDPOINT: _TRACKED,
}


def name_problem(kind: NameKind, name: str) -> str | None:
    """Why ARM would refuse ``name`` as a ``kind``, or None when it is valid."""
    if RULES[kind].pattern.fullmatch(name):
        return None
    return f"{kind} name {name!r} is not valid: ARM expects {RULES[kind].text}"
