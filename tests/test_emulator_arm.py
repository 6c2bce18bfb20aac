"""ARM front door: resource groups, unknown routes and methods, bad bodies, names, subscriptions, headers."""

from __future__ import annotations

import json

from azure.core.rest import HttpRequest

from provision.emulator import seed
from tests.emulator_helpers import RG, create_table, dcr_body

SUB = f"/subscriptions/{seed.SUBSCRIPTION_ID}"


def _send(azure, emu, method, path, body=None, who="deployer"):
    content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    response = azure.loganalytics(who).send_request(HttpRequest(method, emu.url + path, content=content,
                                                                headers={"Content-Type": "application/json"}))
    return response.status_code, (response.json() if response.content else None), response.headers


def test_resource_groups_create_and_get(azure, emu):
    status, body, _ = _send(azure, emu, "PUT", f"{SUB}/resourcegroups/rg-new?api-version=2021-04-01", {"location": "West Europe"})
    assert status == 201 and body["location"] == "westeurope" and body["properties"]["provisioningState"] == "Succeeded"
    assert _send(azure, emu, "PUT", f"{SUB}/resourcegroups/rg-new?api-version=2021-04-01", {"location": "westeurope"})[0] == 200
    assert _send(azure, emu, "GET", f"{SUB}/resourceGroups/RG-NEW?api-version=2021-04-01")[1]["name"] == "rg-new"
    assert _send(azure, emu, "GET", f"{SUB}/resourceGroups/{RG}?api-version=2021-04-01")[1]["location"] == seed.LOCATION
    status, body, _ = _send(azure, emu, "GET", f"{SUB}/resourceGroups/rg-none?api-version=2021-04-01")
    assert status == 404 and body["error"]["code"] == "ResourceGroupNotFound"
    status, body, _ = _send(azure, emu, "PUT", f"{SUB}/resourcegroups/rg-x?api-version=2021-04-01", {})
    assert status == 400 and body["error"]["code"] == "LocationRequired"
    # a DCR can live in the new group
    create_table(azure)
    status, _, _ = _send(azure, emu, "PUT", f"{SUB}/resourceGroups/rg-new/providers/Microsoft.Insights/dataCollectionRules/d1"
                         "?api-version=2023-03-11", dcr_body())
    assert status == 201


def test_unknown_subscription(azure, emu):
    other = "/subscriptions/99999999-9999-4999-8999-999999999999"
    status, body, _ = _send(azure, emu, "GET", f"{other}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionRules/x"
                            "?api-version=2023-03-11")
    assert status in (403, 404)  # the deployer has no role there: ARM answers 403 before it looks
    assert body["error"]["code"] in ("AuthorizationFailed", "SubscriptionNotFound")


def test_unknown_route_and_method(azure, emu):
    status, body, headers = _send(azure, emu, "GET", "/nothing/here")
    assert status == 404 and body["error"]["code"] == "NotFound" and headers["x-ms-request-id"]
    status, body, _ = _send(azure, emu, "POST", f"{seed.WORKSPACE_ID}?api-version=2025-02-01")
    assert status == 405 and body["error"]["code"] == "MethodNotAllowed"


def test_malformed_json_body(azure, emu):
    status, body, _ = _send(azure, emu, "PUT", f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionRules/x"
                            "?api-version=2023-03-11", b"{not json")
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"


def test_invalid_rule_name(azure, emu):
    status, body, _ = _send(azure, emu, "PUT", f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionRules/"
                            f"{'x' * 65}?api-version=2023-03-11", dcr_body())
    assert status == 400 and body["error"]["code"] == "InvalidResourceName"


def test_role_assignment_body_missing_properties(azure, emu):
    path = f"{SUB}/providers/Microsoft.Authorization/roleAssignments/0b5fe924-9a61-425c-96af-cfe6e287ca2d?api-version=2022-04-01"
    status, body, _ = _send(azure, emu, "PUT", path, {})
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    status, body, _ = _send(azure, emu, "PUT", path, {"properties": {"principalId": seed.SENDER_OBJECT_ID}})
    assert status == 400 and body["error"]["code"] == "MissingProperty"


def test_double_slash_scope_is_collapsed(azure, emu):
    """azure-mgmt-authorization builds '//subscriptions/...' from a scope starting with '/' (sdk-notes.md §2.3)."""
    status, body, _ = _send(azure, emu, "GET", f"/{SUB}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01")
    assert status == 200 and body["value"]


def test_correlation_headers(azure, emu):
    response = azure.loganalytics().send_request(HttpRequest("GET", f"{emu.url}{seed.WORKSPACE_ID}?api-version=2025-02-01",
                                                             headers={"x-ms-client-request-id": "abc",
                                                                      "x-ms-correlation-request-id": "corr"}))
    assert response.headers["x-ms-client-request-id"] == "abc"
    assert response.headers["x-ms-correlation-request-id"] == "corr"  # echoed (azure-contract.md §1)
    assert response.headers["x-ms-request-id"] not in ("abc", "corr")
