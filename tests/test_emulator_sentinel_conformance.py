"""The onboarding-state responses validate against SecurityInsights OnboardingStates.json 2025-09-01, and the
official examples replay (tests/test_emulator_conformance.py has the validator; tests/specs.py the documents)."""

from __future__ import annotations

import json

from provision.emulator import seed
from tests.specs import SPECS, needs_specs
from tests.test_emulator_conformance import _call, validate

pytestmark = needs_specs

SPEC = "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-09-01/OnboardingStates.json"
EXAMPLES = SPECS / "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-09-01/examples/onboardingStates"
CREATE_EXAMPLE = (SPECS / "securityinsights/resource-manager/Microsoft.SecurityInsights/SecurityInsights/stable/2025-09-01/"
                  "examples/onboardingStates/CreateSentinelOnboardingState.json")
PATH = f"{seed.WORKSPACE_ID}/providers/Microsoft.SecurityInsights/onboardingStates"
V = "?api-version=2025-09-01"


def test_onboarding_responses_validate_and_match_the_examples(azure, emu):
    la = azure.loganalytics()
    create = json.loads(CREATE_EXAMPLE.read_text())
    status, body, _ = _call(la, emu, "PUT", f"{PATH}/default{V}", create["parameters"]["sentinelOnboardingStateParameter"])
    assert status == 201
    validate(SPEC, "SentinelOnboardingStates_Create", status, body)
    expected = create["responses"]["201"]["body"]
    assert {k: body[k] for k in ("name", "type", "properties")} == {k: expected[k] for k in ("name", "type", "properties")}
    status, body, _ = _call(la, emu, "GET", f"{PATH}/default{V}")
    validate(SPEC, "SentinelOnboardingStates_Get", status, body)
    get = json.loads((EXAMPLES / "GetSentinelOnboardingState.json").read_text())["responses"]["200"]["body"]
    assert body["properties"] == get["properties"] and body["type"] == get["type"]
    status, body, _ = _call(la, emu, "GET", f"{PATH}{V}")
    validate(SPEC, "SentinelOnboardingStates_List", status, body)
    status, body, _ = _call(la, emu, "DELETE", f"{PATH}/default{V}")
    assert str(status) in json.loads((EXAMPLES / "DeleteSentinelOnboardingState.json").read_text())["responses"]
    validate(SPEC, "SentinelOnboardingStates_Delete", status, body)
    status, body, _ = _call(la, emu, "GET", f"{PATH}/default{V}")
    assert status == 404
    validate(SPEC, "SentinelOnboardingStates_Get", status, body)
