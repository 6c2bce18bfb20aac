"""Azure Monitor private link scopes and a DCE's association to one (issue 9; ops_privatelink.py, docs/emulator.md).

azure-mgmt-monitor has no private link scope operations, so those calls go through a management client's
own pipeline (ARM token, TLS) with ``send_request``; the DCE is read back with the SDK's typed client.
"""

from __future__ import annotations

import json

from azure.core.rest import HttpRequest

from provision.emulator import seed
from tests.emulator_helpers import RG

V = "?api-version=2023-06-01-preview"
SCOPES = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/privateLinkScopes"
SCOPE_BODY = {"location": "global", "properties": {"accessModeSettings": {"ingestionAccessMode": "PrivateOnly",
                                                                          "queryAccessMode": "Open"}}}


def _send(azure, method: str, path: str, body: dict | None = None, who: str = "deployer"):
    request = HttpRequest(method, f"{azure.emu.url}{path}", json=body) if body is not None else \
        HttpRequest(method, f"{azure.emu.url}{path}")
    return azure.loganalytics(who).send_request(request)


def _dce(azure, name="dce-a"):
    return azure.monitor().data_collection_endpoints.create(RG, name, json.dumps({"location": "westeurope"}).encode())


def test_scoping_a_dce_shows_on_the_dce_and_unscoping_removes_it(azure):
    dce = _dce(azure)
    scope = _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY)
    assert scope.status_code == 201
    assert scope.json()["properties"]["accessModeSettings"]["ingestionAccessMode"] == "PrivateOnly"
    assert _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY).status_code == 200
    scoped = _send(azure, "PUT", f"{SCOPES}/ampls-a/scopedResources/dce-a-link{V}",
                   {"properties": {"linkedResourceId": dce.id, "kind": "Resource"}})
    assert scoped.status_code == 201
    body = scoped.json()
    assert body["type"] == "Microsoft.Insights/privateLinkScopes/scopedResources" and body["name"] == "dce-a-link"
    assert body["properties"]["linkedResourceId"] == dce.id and body["properties"]["provisioningState"] == "Succeeded"
    live = azure.monitor().data_collection_endpoints.get(RG, "dce-a")
    assert [link.resource_id for link in live.private_link_scoped_resources] == [body["id"]]
    assert live.private_link_scoped_resources[0].scope_id
    # a PUT of the DCE by its owner keeps the read-only association
    again = azure.monitor().data_collection_endpoints.create(RG, "dce-a", json.dumps({"location": "westeurope"}).encode())
    assert [link.resource_id for link in again.private_link_scoped_resources] == [body["id"]]
    listed = _send(azure, "GET", f"{SCOPES}/ampls-a/scopedResources{V}").json()["value"]
    assert [s["name"] for s in listed] == ["dce-a-link"]
    assert _send(azure, "DELETE", f"{SCOPES}/ampls-a/scopedResources/dce-a-link{V}").status_code == 200
    assert _send(azure, "DELETE", f"{SCOPES}/ampls-a/scopedResources/dce-a-link{V}").status_code == 204
    assert _send(azure, "GET", f"{SCOPES}/ampls-a/scopedResources/dce-a-link{V}").status_code == 404
    assert not azure.monitor().data_collection_endpoints.get(RG, "dce-a").private_link_scoped_resources


def test_deleting_the_scope_removes_the_association(azure):
    dce = _dce(azure)
    _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY)
    _send(azure, "PUT", f"{SCOPES}/ampls-a/scopedResources/link{V}", {"properties": {"linkedResourceId": dce.id}})
    assert _send(azure, "DELETE", f"{SCOPES}/ampls-a{V}").status_code == 200
    assert _send(azure, "GET", f"{SCOPES}/ampls-a{V}").status_code == 404
    assert not azure.monitor().data_collection_endpoints.get(RG, "dce-a").private_link_scoped_resources


def test_bad_scope_and_scoped_resource_requests(azure):
    dce = _dce(azure)
    orphan = _send(azure, "PUT", f"{SCOPES}/nope/scopedResources/link{V}", {"properties": {"linkedResourceId": dce.id}})
    assert orphan.status_code == 404 and orphan.json()["error"]["code"] == "ParentResourceNotFound"
    no_modes = _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", {"location": "global", "properties": {}})
    assert no_modes.status_code == 400 and no_modes.json()["error"]["code"] == "MissingProperty"
    bad_mode = _send(azure, "PUT", f"{SCOPES}/ampls-a{V}",
                     {"location": "global", "properties": {"accessModeSettings": {"ingestionAccessMode": "Closed"}}})
    assert bad_mode.status_code == 400
    assert _send(azure, "PUT", f"{SCOPES}/ampls-a?api-version=2018-01-01", SCOPE_BODY).status_code == 400  # not a version of the type
    assert _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY, who="nobody").status_code == 403
    _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY)
    ghost = _send(azure, "PUT", f"{SCOPES}/ampls-a/scopedResources/link{V}",
                  {"properties": {"linkedResourceId": dce.id.replace("dce-a", "dce-ghost")}})
    assert ghost.status_code == 400 and ghost.json()["error"]["code"] == "InvalidPayload"
    _send(azure, "PUT", f"{SCOPES}/ampls-a/scopedResources/link{V}", {"properties": {"linkedResourceId": dce.id}})
    other = _dce(azure, "dce-b")
    moved = _send(azure, "PUT", f"{SCOPES}/ampls-a/scopedResources/link{V}", {"properties": {"linkedResourceId": other.id}})
    assert moved.status_code == 400


def test_the_2019_version_az_sends_is_served_in_its_own_shape(azure):
    """azure-cli's `monitor private-link-scope` sends 2019-10-17-preview, whose scope has no accessModeSettings and
    whose scoped resource has no kind or subscriptionLocation (privateLinkScopes_API.json of that version)."""
    old = "?api-version=2019-10-17-preview"
    created = _send(azure, "PUT", f"{SCOPES}/ampls-old{old}", {"location": "global"})
    assert created.status_code == 201 and "accessModeSettings" not in created.json()["properties"]
    assert _send(azure, "GET", f"{SCOPES}/ampls-old{V}").json()["properties"]["accessModeSettings"][
        "ingestionAccessMode"] == "Open"  # the newer version shows the modes the older one cannot set
    # a scope made with PrivateOnly keeps it when the old version writes it again
    _send(azure, "PUT", f"{SCOPES}/ampls-a{V}", SCOPE_BODY)
    _send(azure, "PUT", f"{SCOPES}/ampls-a{old}", {"location": "global", "tags": {"team": "net"}})
    assert _send(azure, "GET", f"{SCOPES}/ampls-a{V}").json()["properties"]["accessModeSettings"][
        "ingestionAccessMode"] == "PrivateOnly"
    dce = _dce(azure)
    scoped = _send(azure, "PUT", f"{SCOPES}/ampls-old/scopedResources/link{old}", {"properties": {"linkedResourceId": dce.id}})
    assert scoped.status_code == 201 and set(scoped.json()["properties"]) == {"linkedResourceId", "provisioningState"}
    assert _send(azure, "GET", f"{SCOPES}/ampls-old/scopedResources/link{V}").json()["properties"]["kind"] == "Resource"
    assert _send(azure, "GET", f"{SCOPES}/ampls-old{'?api-version=2020-01-01'}").status_code == 400
