"""Graph ``GET /v1.0/servicePrincipals?$filter=...``: the OData filter parsed, not substring-matched (issue 12).

Before, any service principal whose app id appeared anywhere in the filter text matched, so
``appId eq 'x' or ...`` could return every principal and ``and``/``ne`` were ignored.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provision.emulator import seed
from tests.test_emulator_identity import _raw

SENDER, DEPLOYER, NOBODY = seed.SENDER_APP_ID, seed.DEPLOYER_APP_ID, seed.NOBODY_APP_ID


@pytest.fixture
def graph(emu, azure):
    token = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token

    def get(expression: str) -> tuple[int, dict]:
        status, _, body = _raw(emu, f"/v1.0/servicePrincipals?$filter={quote(expression)}",
                               headers={"Authorization": f"Bearer {token}"})
        return status, json.loads(body)

    return get


def _app_ids(body: dict) -> list[str]:
    return sorted(sp["appId"] for sp in body["value"])


@pytest.mark.parametrize("expression,expected", [
    (f"appId eq '{SENDER}'", [SENDER]),
    (f"appId eq '{SENDER.upper()}'", [SENDER]),
    (f"AppId eq '{SENDER}'", [SENDER]),
    (f"appId eq '{SENDER}' or appId eq '{DEPLOYER}'", sorted([SENDER, DEPLOYER])),
    (f"appId eq '{SENDER}' and displayName eq 'provision-local-deployer'", []),
    (f"appId eq '00000000-0000-4000-8000-000000000000' or displayName eq '{SENDER} {DEPLOYER} {NOBODY}'", []),
    (f"(appId eq 'x' or id eq '{seed.SENDER_OBJECT_ID}') and servicePrincipalType eq 'Application'", [SENDER]),
    (f"appId in ('{SENDER}', '{NOBODY}')", sorted([SENDER, NOBODY])),
    (f"servicePrincipalNames/any(c:c eq '{SENDER}')", [SENDER]),
    ("displayName eq 'provision-local-nobody'", [NOBODY]),
    ("displayName eq 'O''Brien'", []),
])
def test_filter_is_evaluated_as_an_expression(graph, expression, expected):
    status, body = graph(expression)
    assert status == 200, body
    assert _app_ids(body) == expected


@pytest.mark.parametrize("expression,message", [
    (f"appId ne '{SENDER}'", "Unsupported property filter clause operator 'NotEqualsMatch'."),
    ("accountEnabled eq true", ("Unsupported or invalid query filter clause specified for property 'accountEnabled' "
                                "of resource 'ServicePrincipal'.")),
    ("startswith(displayName, 'provision')", "Unsupported query filter function 'startswith'."),
    (f"not (appId eq '{SENDER}')", "Unsupported query filter operator 'not'."),
    (f"appId eq {SENDER}", "Unsupported query filter literal"),
])
def test_unsupported_filters_are_request_unsupported_query(graph, expression, message):
    status, body = graph(expression)
    assert status == 400 and body["error"]["code"] == "Request_UnsupportedQuery"
    assert body["error"]["message"].startswith(message)
    assert set(body["error"]["innerError"]) == {"date", "request-id", "client-request-id"}


@pytest.mark.parametrize("expression", [
    "appId eq",
    "appId eq 'unterminated",
    f"appId eq '{SENDER}' garbage",
    f"appId eq '{SENDER}' or",
    f"(appId eq '{SENDER}'",
    "appId eq 'x' ; drop",
    "(" * 200 + f"appId eq '{SENDER}'" + ")" * 200,
])
def test_malformed_filters_are_bad_request(graph, expression):
    status, body = graph(expression)
    assert status == 400 and body["error"]["code"] == "BadRequest"
    assert body["error"]["message"].startswith("Invalid filter clause:")


def test_no_filter_lists_every_seeded_principal(graph, emu, azure):
    token = azure.credential("deployer").get_token("https://graph.microsoft.com/.default").token
    status, _, body = _raw(emu, "/v1.0/servicePrincipals", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and _app_ids(json.loads(body)) == sorted([SENDER, DEPLOYER, NOBODY])


# Words and symbols of the filter language, so generated text is often almost valid (the parser's edge cases).
_PIECES = st.sampled_from(["appId", "id", "displayName", "servicePrincipalNames", "accountEnabled", "eq", "ne", "in",
                           "and", "or", "not", "any", "startswith", "(", ")", ",", ":", "/", "c", "'", "''",
                           f"'{SENDER}'", "'x'", "true", "42", " ", "  ", "\t", ";", "-", "é"])


@settings(max_examples=int(os.environ.get("PROVISION_FUZZ_EXAMPLES", "150")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=14).map(" ".join) | st.text(max_size=40))
def test_any_filter_text_is_answered_200_or_400_never_500(graph, expression):
    status, body = graph(expression)
    assert status in (200, 400), body
    if status == 400:
        assert body["error"]["code"] in ("BadRequest", "Request_UnsupportedQuery")
    else:
        assert set(_app_ids(body)) <= {SENDER, DEPLOYER, NOBODY}
