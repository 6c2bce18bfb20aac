"""The endpoint's private link scope associations (issue 9): the scenario format, validate, render (requests and the
ARM template), plan (its own entry, the scope checked before any write), apply (order, removal), import, and links
made outside the tool. On the emulator; scopes are made through a management client's own pipeline
(``send_request``: azure-mgmt-monitor 7 has no private link scope operations), DCEs with the official SDK.
Wire shapes: privateLinkScopes_API.json 2023-06-01-preview; the DCE's read-only privateLinkScopedResources
(azure-contract.md §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.rest import HttpRequest
from typer.testing import CliRunner

from provision.apply import apply_plan
from provision.azure import connect
from provision.cli import app
from provision.emulator import seed
from provision.errors import PlanError
from provision.importer import import_live
from provision.live import raw_json
from provision.pipeline import plan_scenario
from provision.render import render_arm, render_deployables
from provision.resources import Kind
from provision.scenario import require_valid, validate_scenario

RG = seed.RESOURCE_GROUP
V = "?api-version=2023-06-01-preview"
SCOPES = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/privateLinkScopes"
OTHER_RG_SCOPES = SCOPES.replace(f"/resourceGroups/{RG}/", "/resourceGroups/rg-network/")
SCOPE_BODY = {"location": "global", "properties": {"accessModeSettings": {"ingestionAccessMode": "PrivateOnly",
                                                                          "queryAccessMode": "Open"}}}
HEAD = f"""name: linked
location: westeurope
workspace: {seed.WORKSPACE_ID}
resource_group: {RG}
tables:
  Linked_CL:
    columns: {{TimeGenerated: datetime, Message: string}}
rules:
  dcr-linked:
    kind: none
    flows: [{{table: Linked_CL}}]
"""


@pytest.fixture
def session(emu):
    with connect("local", emulator=emu, polling_interval=0, retry_total=0) as s:
        yield s


def _send(azure, method: str, path: str, body: dict | None = None):
    url = f"{azure.emu.url}{path}"
    request = HttpRequest(method, url, json=body) if body is not None else HttpRequest(method, url)
    return azure.loganalytics().send_request(request)


def _scope(azure, name: str, scopes: str = SCOPES) -> str:
    assert _send(azure, "PUT", f"{scopes}/{name}{V}", SCOPE_BODY).status_code in (200, 201)
    return f"{scopes}/{name}"


def _write(tmp_path: Path, endpoint: str, name: str = "linked.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + "endpoint:\n  name: dce-linked\n" + endpoint)
    return path


def _links(azure, name: str = "dce-linked") -> list[str]:
    body = azure.monitor().data_collection_endpoints.get(RG, name, cls=raw_json)
    return [e["resourceId"] for e in body["properties"].get("privateLinkScopedResources") or []]


def _diagnostics(path: Path):
    return validate_scenario(str(path))


# ------------------------------------------------------------------ format and validate


def test_scopes_by_name_by_id_and_with_their_own_name_load_and_render(tmp_path):
    other = f"{OTHER_RG_SCOPES}/ampls-hub"
    path = _write(tmp_path, f"  private_link_scopes:\n    - ampls-a\n    - {{scope: {other}, name: hub-link}}\n")
    scenario, diagnostics = _diagnostics(path)
    assert [d.format() for d in diagnostics if d.is_error] == []
    links = [r for r in render_deployables(scenario) if r.kind == Kind.SCOPED_RESOURCE]
    dce_id = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionEndpoints/dce-linked"
    assert [(r.name, r.id, r.body, r.depends_on, r.scope) for r in links] == [
        ("ampls-a/dce-linked", f"{SCOPES}/ampls-a/scopedResources/dce-linked", {"properties": {"linkedResourceId": dce_id}},
         (dce_id,), f"{SCOPES}/ampls-a"),
        ("ampls-hub/hub-link", f"{other}/scopedResources/hub-link", {"properties": {"linkedResourceId": dce_id}},
         (dce_id,), other),
    ]
    assert Kind.SCOPED_RESOURCE.rank > Kind.ENDPOINT.rank  # created after the DCE, deleted before it


@pytest.mark.parametrize("entry, code", [
    ("    - /subscriptions/x/resourceGroups/y/providers/Microsoft.Insights/dataCollectionEndpoints/d\n", "PrivateLinkScopeId"),
    ("    - 'ampls a'\n", "PrivateLinkScopeId"),
    ("    - ampls-a\n    - AMPLS-A\n", "DuplicateScopeLink"),
    ("    - {name: only-a-name}\n", "MissingKey"),
    ("    - {scope: ampls-a, nmae: x}\n", "UnknownKey"),
    ("    - {scope: ampls-a, name: 'a/b'}\n", "ResourceName"),
    ("    - [nested]\n", "WrongType"),
])
def test_bad_scope_entries_are_errors_with_their_line(tmp_path, entry, code):
    path = _write(tmp_path, "  private_link_scopes:\n" + entry)
    _, diagnostics = _diagnostics(path)
    errors = [d for d in diagnostics if d.is_error]
    assert [d.code for d in errors] == [code]
    assert errors[0].line is not None and errors[0].line >= HEAD.count("\n") + 3


def test_private_link_scopes_must_be_a_list(tmp_path):
    _, diagnostics = _diagnostics(_write(tmp_path, "  private_link_scopes: ampls-a\n"))
    assert [d.code for d in diagnostics if d.is_error] == ["WrongType"]


def test_an_absent_endpoint_takes_its_associations_with_it(tmp_path):
    path = _write(tmp_path, "  ensure: absent\n  private_link_scopes: [ampls-a]\n")
    text = path.read_text().replace("    kind: none\n", "")  # the rule no longer needs the DCE
    path.write_text(text)
    scenario, diagnostics = _diagnostics(path)
    assert [d.format() for d in diagnostics if d.is_error] == []
    kinds = {r.kind: r.absent for r in render_deployables(scenario) if r.kind in (Kind.ENDPOINT, Kind.SCOPED_RESOURCE)}
    assert kinds == {Kind.ENDPOINT: True, Kind.SCOPED_RESOURCE: True}


def test_the_arm_template_links_the_endpoint_in_its_group_and_through_a_nested_deployment_elsewhere(tmp_path):
    other = f"{OTHER_RG_SCOPES}/ampls-hub"
    path = _write(tmp_path, f"  private_link_scopes: [ampls-a, {other}]\n")
    scenario, _ = _diagnostics(path)
    template = render_arm(scenario)
    dce_ref = "[resourceId('Microsoft.Insights/dataCollectionEndpoints', 'dce-linked')]"
    here = [r for r in template["resources"] if r["type"] == "Microsoft.Insights/privateLinkScopes/scopedResources"]
    assert [(r["name"], r["apiVersion"], r["dependsOn"]) for r in here] == [("ampls-a/dce-linked", "2023-06-01-preview", [dce_ref])]
    nested = [r for r in template["resources"] if r["type"] == "Microsoft.Resources/deployments"
              and r["name"].startswith("scope-link-")]
    assert len(nested) == 1 and nested[0]["resourceGroup"] == "rg-network" and nested[0]["dependsOn"] == [dce_ref]
    (inner,) = nested[0]["properties"]["template"]["resources"]
    assert inner["name"] == "ampls-hub/dce-linked" and inner["properties"]["linkedResourceId"].endswith("/dce-linked")


# ------------------------------------------------------------------ plan and apply on the emulator


def test_apply_associates_the_endpoint_then_the_plan_is_empty_and_import_writes_it_back(session, azure, emu, tmp_path):
    scope = _scope(azure, "ampls-a")
    path = _write(tmp_path, "  public_network_access: Disabled\n  private_link_scopes: [ampls-a]\n")
    sc = require_valid(str(path), environ=session.environ)
    plan = plan_scenario(session, sc)[2]
    assert not plan.problems
    link = next(c for c in plan.pending if c.kind == Kind.SCOPED_RESOURCE)
    assert (link.action, link.cls, link.label) == ("create", "safe", "private link scope association ampls-a/dce-linked")
    apply_plan(session, plan)
    assert _links(azure) == [f"{scope}/scopedResources/dce-linked"]
    scoped = _send(azure, "GET", f"{scope}/scopedResources/dce-linked{V}").json()
    assert scoped["properties"]["linkedResourceId"].lower().endswith("/datacollectionendpoints/dce-linked")
    assert not plan_scenario(session, sc)[2].has_changes

    imported = import_live(session, rules=["dcr-linked"])
    assert "  private_link_scopes:\n    - ampls-a\n" in imported.text
    assert not any("private link" in note for note in imported.notes)
    again = tmp_path / "imported.yaml"
    again.write_text(imported.text)
    replanned = plan_scenario(session, require_valid(str(again), environ=session.environ))[2]
    assert not replanned.problems and not replanned.has_changes, [c.to_dict() for c in replanned.pending]


def test_a_scope_that_does_not_exist_is_reported_before_any_write(session, emu, tmp_path):
    path = _write(tmp_path, "  private_link_scopes: [ampls-missing]\n")
    sc = require_valid(str(path), environ=session.environ)
    plan = plan_scenario(session, sc)[2]
    (problem,) = [p for p in plan.problems if p.is_error]
    assert problem.code == "PrivateLinkScopeNotFound" and "ampls-missing" in problem.message
    assert problem.line == HEAD.count("\n") + 3  # the line of its entry (here the flow-style list)
    writes = len(emu.write_calls())
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    assert len(emu.write_calls()) == writes


def test_removing_an_association_is_data_affecting_and_needs_allow_destructive(session, azure, tmp_path):
    _scope(azure, "ampls-a")
    _scope(azure, "ampls-b")
    path = _write(tmp_path, "  private_link_scopes: [ampls-a, ampls-b]\n")
    apply_plan(session, plan_scenario(session, require_valid(str(path), environ=session.environ))[2])
    assert len(_links(azure)) == 2
    path = _write(tmp_path, "  private_link_scopes:\n    - ampls-a\n    - {scope: ampls-b, ensure: absent}\n")
    plan = plan_scenario(session, require_valid(str(path), environ=session.environ))[2]
    (change,) = plan.pending
    assert (change.action, change.cls, change.name) == ("delete", "data-affecting", "ampls-b/dce-linked")
    assert "private endpoints" in change.explanations[0]
    with pytest.raises(PlanError):
        apply_plan(session, plan)
    apply_plan(session, plan, allow_destructive=True)
    assert _links(azure) == [f"{SCOPES}/ampls-a/scopedResources/dce-linked"]
    assert not plan_scenario(session, require_valid(str(path), environ=session.environ))[2].has_changes


def test_an_association_made_outside_is_shown_and_kept(session, azure, emu, tmp_path):
    path = _write(tmp_path, "")
    sc = require_valid(str(path), environ=session.environ)
    apply_plan(session, plan_scenario(session, sc)[2])
    scope = _scope(azure, "ampls-elsewhere")
    dce = azure.monitor().data_collection_endpoints.get(RG, "dce-linked")
    assert _send(azure, "PUT", f"{scope}/scopedResources/by-hand{V}",
                 {"properties": {"linkedResourceId": dce.id}}).status_code == 201
    plan = plan_scenario(session, sc)[2]
    assert not plan.has_changes
    (warning,) = plan.problems
    assert warning.code == "ScopeLinkNotInScenario" and not warning.is_error and "ampls-elsewhere" in warning.message
    writes = len(emu.write_calls())
    apply_plan(session, plan)
    assert len(emu.write_calls()) == writes and _links(azure) == [f"{scope}/scopedResources/by-hand"]
    # import names it, with the scoped resource's own name; then the plan has no warning left
    imported = import_live(session, rules=["dcr-linked"])
    assert "    - {scope: ampls-elsewhere, name: by-hand}\n" in imported.text
    again = tmp_path / "imported.yaml"
    again.write_text(imported.text)
    replanned = plan_scenario(session, require_valid(str(again), environ=session.environ))[2]
    assert not replanned.problems and not replanned.has_changes


def test_a_scope_in_another_resource_group_by_id(session, azure, tmp_path):
    assert _send(azure, "PUT", f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourcegroups/rg-network?api-version=2021-04-01",
                 {"location": "westeurope"}).status_code in (200, 201)
    scope = _scope(azure, "ampls-hub", OTHER_RG_SCOPES)
    path = _write(tmp_path, f"  private_link_scopes:\n    - {{scope: {scope}, name: hub-link}}\n")
    sc = require_valid(str(path), environ=session.environ)
    apply_plan(session, plan_scenario(session, sc)[2])
    assert _links(azure) == [f"{scope}/scopedResources/hub-link"]
    assert not plan_scenario(session, sc)[2].has_changes
    imported = import_live(session, rules=["dcr-linked"])
    assert f"    - {{scope: {scope}, name: hub-link}}\n" in imported.text


def test_replacing_the_endpoint_associates_the_new_one_again(session, azure, tmp_path):
    _scope(azure, "ampls-a")
    path = _write(tmp_path, "  private_link_scopes: [ampls-a]\n")
    apply_plan(session, plan_scenario(session, require_valid(str(path), environ=session.environ))[2])
    # a kind change recreates the DCE (identity-rotating): its association goes with the old one
    path = _write(tmp_path, "  kind: Linux\n  private_link_scopes: [ampls-a]\n")
    sc = require_valid(str(path), environ=session.environ)
    plan = plan_scenario(session, sc)[2]
    assert [(c.kind, c.action) for c in plan.pending if c.kind in (Kind.ENDPOINT, Kind.SCOPED_RESOURCE)] == [
        (Kind.ENDPOINT, "replace")]
    apply_plan(session, plan, allow_destructive=True)
    assert _links(azure) == [f"{SCOPES}/ampls-a/scopedResources/dce-linked"]
    assert not plan_scenario(session, sc)[2].has_changes


def test_plan_cli_lists_the_association_in_every_format(emu, azure, tmp_path):
    _scope(azure, "ampls-a")
    path = _write(tmp_path, "  private_link_scopes: [ampls-a]\n")
    env = {**emu.env(), "PROVISION_CLOUD": "local"}
    text = CliRunner().invoke(app, ["plan", str(path)], env=env)
    assert text.exit_code == 0, text.output
    assert "private link scope association ampls-a/dce-linked" in text.output
    as_json = CliRunner().invoke(app, ["plan", str(path), "--format", "json"], env=env)
    changes = json.loads(as_json.stdout)["changes"]
    assert {"kind": "scoped_resource", "action": "create", "name": "ampls-a/dce-linked"}.items() <= next(
        c for c in changes if c["kind"] == "scoped_resource").items()
