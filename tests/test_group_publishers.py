"""Publishers that are Entra groups, end to end: the emulator's seeded group in Graph, role assignments to it through
the official authorization client (principalType checked as ARM checks it), ingestion granted through membership,
and `provision` apply / import / plan / validate with a `group_id` publisher on --cloud local."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import identity, seed
from tests.emulator_helpers import MMP, RG, deploy

GROUP = seed.SENDERS_GROUP_ID
ROW = {"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "hello"}
UNKNOWN = "d5d5d5d5-0000-4000-8000-000000000005"


def _graph(azure, emu, path, method="GET", body=None, who="deployer"):
    """(status, JSON) of a Graph call over HTTPS with a token azure-identity got from the emulator's Entra."""
    token = azure.credential(who).get_token("https://graph.microsoft.com/.default").token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{emu.url}/v1.0/{path}", method=method, data=data,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _assign(azure, scope, principal, principal_type="Group"):
    properties = {"roleDefinitionId": MMP, "principalId": principal}
    if principal_type is not None:
        properties["principalType"] = principal_type
    return azure.authorization().role_assignments.create(scope, str(uuid.uuid4()), {"properties": properties})


def _upload(azure, rule, who):
    azure.ingestion(rule.endpoints.logs_ingestion, who).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp",
                                                               logs=[ROW])


# ------------------------------------------------------------------ Graph


def test_the_group_is_readable_with_a_group_permission(azure, emu):
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Application.Read.All", "GroupMember.Read.All"])
    status, body = _graph(azure, emu, f"groups/{GROUP.upper()}")  # object ids are case-insensitive
    assert status == 200
    assert body["id"] == GROUP and body["displayName"] == seed.SENDERS_GROUP_NAME
    assert body["securityEnabled"] is True and body["mailEnabled"] is False and body["groupTypes"] == []
    assert body["@odata.context"].endswith("$metadata#groups/$entity")


def test_reading_a_group_needs_a_group_or_directory_permission(azure, emu):
    # The seeded deployer has Application.Read.All only: it reads service principals, not groups ("Get group").
    status, body = _graph(azure, emu, f"groups/{GROUP}")
    assert status == 403 and body["error"]["code"] == "Authorization_RequestDenied"
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Directory.Read.All"])
    assert _graph(azure, emu, f"groups/{GROUP}")[0] == 200


@pytest.mark.parametrize("object_id", [UNKNOWN, seed.SENDER_OBJECT_ID])
def test_unknown_group_is_graph_404(azure, emu, object_id):
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Group.Read.All"])
    status, body = _graph(azure, emu, f"groups/{object_id}")  # a service principal's id is no group either
    assert status == 404 and body["error"]["code"] == "Request_ResourceNotFound"
    assert object_id in body["error"]["message"]


def test_a_group_id_is_no_service_principal(azure, emu):
    status, body = _graph(azure, emu, f"servicePrincipals/{GROUP}")
    assert status == 404 and body["error"]["code"] == "Request_ResourceNotFound"


def test_get_by_ids_returns_the_group_for_type_group(azure, emu):
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Directory.Read.All"])
    ids = [GROUP, seed.SENDER_OBJECT_ID, UNKNOWN]
    status, body = _graph(azure, emu, "directoryObjects/getByIds", "POST", {"ids": ids, "types": ["Group"]})
    assert status == 200
    assert [(o["@odata.type"], o["id"], o["displayName"]) for o in body["value"]] == [
        ("#microsoft.graph.group", GROUP, seed.SENDERS_GROUP_NAME)]
    status, body = _graph(azure, emu, "directoryObjects/getByIds", "POST", {"ids": ids, "types": ["servicePrincipal"]})
    assert [o["id"] for o in body["value"]] == [seed.SENDER_OBJECT_ID]
    status, body = _graph(azure, emu, "directoryObjects/getByIds", "POST", {"ids": ids})  # no types: every type
    assert [(o["@odata.type"], o["id"]) for o in body["value"]] == [
        ("#microsoft.graph.group", GROUP), ("#microsoft.graph.servicePrincipal", seed.SENDER_OBJECT_ID)]


def test_list_groups_with_a_display_name_filter(azure, emu):
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["GroupMember.Read.All"])
    status, body = _graph(azure, emu, "groups")
    assert status == 200 and sorted(g["displayName"] for g in body["value"]) == [
        seed.PUBLISHERS_GROUP_NAME, seed.SENDERS_GROUP_NAME]
    name = seed.SENDERS_GROUP_NAME.upper().replace("-", "%2D")  # case-insensitive, as the directory's comparisons
    status, body = _graph(azure, emu, f"groups?$filter=displayName%20eq%20'{name}'")
    assert status == 200 and [g["id"] for g in body["value"]] == [GROUP]
    assert "@odata.context" not in body["value"][0]
    status, body = _graph(azure, emu, "groups?$filter=appId%20eq%20'x'")  # a service principal's property
    assert status == 400 and body["error"]["code"] == "Request_UnsupportedQuery"
    assert body["error"]["message"] == ("Unsupported or invalid query filter clause specified for property 'appId' of "
                                        "resource 'Group'.")
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Application.Read.All"])
    assert _graph(azure, emu, "groups")[0] == 403


# ------------------------------------------------------------------ ARM role assignments


def test_assignment_to_the_group_with_principal_type_group(azure):
    rule = deploy(azure, grant=False)
    created = _assign(azure, rule.id, GROUP)
    assert created.principal_id == GROUP and created.principal_type == "Group" and created.scope == rule.id
    listed = list(azure.authorization().role_assignments.list_for_scope(rule.id, filter=f"principalId eq '{GROUP}'"))
    assert [(a.principal_id, a.principal_type) for a in listed] == [(GROUP, "Group")]


def test_assignment_without_principal_type_takes_the_directory_type(azure):
    rule = deploy(azure, grant=False)
    assert _assign(azure, rule.id, GROUP, principal_type=None).principal_type == "Group"
    assert _assign(azure, rule.id, seed.NOBODY_OBJECT_ID, principal_type=None).principal_type == "ServicePrincipal"


@pytest.mark.parametrize(("principal", "stated", "actual"), [
    (GROUP, "ServicePrincipal", "Group"), (GROUP, "User", "Group"), (seed.SENDER_OBJECT_ID, "Group", "ServicePrincipal")])
def test_principal_type_that_is_not_the_principals_is_unmatched(azure, principal, stated, actual):
    rule = deploy(azure, grant=False)
    with pytest.raises(HttpResponseError) as raised:
        _assign(azure, rule.id, principal, stated)
    assert raised.value.status_code == 400 and raised.value.error.code == "UnmatchedPrincipalType"
    assert raised.value.error.message == (
        f"The PrincipalId '{principal.replace('-', '')}' has type '{actual}' , which is different from specified "
        f"PrinciaplType '{stated}'.")
    assert list(azure.authorization().role_assignments.list_for_scope(rule.id, filter=f"principalId eq '{principal}'")) == []


def test_unknown_principal_as_group_is_principal_not_found(azure):
    rule = deploy(azure, grant=False)
    with pytest.raises(HttpResponseError) as raised:
        _assign(azure, rule.id, UNKNOWN, "Group")
    assert raised.value.status_code == 400 and raised.value.error.code == "PrincipalNotFound"


# ------------------------------------------------------------------ ingestion through membership


def test_a_member_of_the_group_may_ingest_others_may_not(azure, emu):
    rule = deploy(azure, grant=False)
    _assign(azure, rule.id, GROUP)
    _upload(azure, rule, "sender")  # the sender's service principal is the group's member
    assert emu.rows("MyApp_CL") == [ROW]
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, "nobody")
    assert raised.value.status_code == 403 and raised.value.error.code == "OperationFailed"
    assert seed.NOBODY_OBJECT_ID in raised.value.error.message and "IsRbacPresent: False" in raised.value.error.message
    assert emu.rows("MyApp_CL") == [ROW]


def test_membership_is_transitive_through_nested_groups(azure, emu):
    # provision-local-publishers holds provision-local-senders, which holds the sender.
    rule = deploy(azure, grant=False)
    _assign(azure, rule.id, seed.PUBLISHERS_GROUP_ID)
    _upload(azure, rule, "sender")
    assert emu.rows("MyApp_CL") == [ROW]
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, "nobody")
    assert raised.value.status_code == 403


def test_memberships_walk_nested_groups_and_stop_at_a_cycle():
    groups = {g.object_id: g for g in (identity.Group("a", "g-a", ("SP-1",)), identity.Group("b", "g-b", ("g-a", "g-c")),
                                       identity.Group("c", "g-c", ("g-b",)), identity.Group("d", "g-d", ("sp-2",)))}
    assert identity.memberships("sp-1", groups) == ("sp-1", "g-a", "g-b", "g-c")  # ids compare case-insensitively
    assert identity.memberships("sp-3", groups) == ("sp-3",)
    assert identity.memberships(seed.SENDER_OBJECT_ID) == (seed.SENDER_OBJECT_ID, GROUP, seed.PUBLISHERS_GROUP_ID)
    assert identity.memberships(seed.NOBODY_OBJECT_ID) == (seed.NOBODY_OBJECT_ID,)


def test_group_assignment_waits_for_propagation_like_any_other(azure, emu):
    emu.set_role_propagation_seconds(60)
    rule = deploy(azure, grant=False)
    _assign(azure, rule.id, GROUP)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, "sender")
    assert raised.value.status_code == 403
    emu.set_role_propagation_seconds(0)
    _upload(azure, rule, "sender")
    assert emu.rows("MyApp_CL") == [ROW]


def test_group_role_on_another_rule_does_not_count(azure):
    rule = deploy(azure, grant=False)
    other = deploy(azure, table="Other_CL", rule="dcr-other", grant=False)
    _assign(azure, other.id, GROUP)
    with pytest.raises(HttpResponseError) as raised:
        _upload(azure, rule, "sender")
    assert raised.value.status_code == 403


# ------------------------------------------------------------------ `provision` on --cloud local

QUICKSTART = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"
EVENT = {"Time": "2026-01-01T00:00:00Z", "EventId": "6f1c0e57-7d5c-4c4a-9c47-0f7e4a3f6d01", "Level": "info",
         "Message": "hello", "DurationMs": 1.5, "Properties": {"a": 1}}


def run(emu, *args):
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local"})


def group_scenario(tmp_path, group_id=GROUP) -> Path:
    """The quickstart with its one publisher given as a group."""
    text = QUICKSTART.read_text(encoding="utf-8")
    head, sep, _ = text.partition("publishers:\n")
    assert sep, "the quickstart's publishers block moved"
    path = tmp_path / "groups.yaml"
    path.write_text(f"{head}publishers:\n  - group_id: {group_id}\n", encoding="utf-8")
    return path


def test_apply_a_group_publisher_then_its_member_sends_and_import_round_trips(emu, azure, tmp_path):
    # The seeded deployer may not read groups (Application.Read.All only): the group id is trusted, as object_id is.
    scenario = group_scenario(tmp_path)
    planned = run(emu, "plan", scenario, "--format", "json")
    assert planned.exit_code == 0, planned.output
    (assignment,) = [c for c in json.loads(planned.stdout)["changes"] if c["kind"] == "role_assignment"]
    assert assignment["action"] == "create"
    assert assignment["label"] == f"role assignment Monitoring Metrics Publisher for group {GROUP} on dcr-quickstart"
    applied = run(emu, "apply", scenario, "--yes")
    assert applied.exit_code == 0, applied.output
    assert f"publisher: group object id {GROUP} (its members may send)" in applied.stdout  # the outputs it prints
    rule = azure.monitor().data_collection_rules.get(RG, "dcr-quickstart")
    (live,) = [a for a in azure.authorization().role_assignments.list_for_scope(rule.id, filter="atScope()")
               if a.scope == rule.id]
    assert (live.principal_id, live.principal_type) == (GROUP, "Group")

    def send(who):
        azure.ingestion(rule.endpoints.logs_ingestion, who).upload(
            rule_id=rule.immutable_id, stream_name="Custom-AppEventsRaw", logs=[EVENT])

    send("sender")  # a member of the group
    assert len(emu.rows("AppEvents_CL")) == 1
    with pytest.raises(HttpResponseError) as raised:
        send("nobody")  # not a member
    assert raised.value.status_code == 403 and raised.value.error.code == "OperationFailed"
    assert len(emu.rows("AppEvents_CL")) == 1
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([EVENT]), encoding="utf-8")
    sent = run(emu, "send", scenario, "--stream", "Custom-AppEventsRaw", "--file", rows)  # as the seeded sender, a member
    assert sent.exit_code == 0, sent.output
    assert len(emu.rows("AppEvents_CL")) == 2

    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Application.Read.All", "GroupMember.Read.All"])
    out = tmp_path / "imported.yaml"
    imported = run(emu, "import", "--rule", "dcr-quickstart", "--out", out)
    assert imported.exit_code == 0, imported.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert f"  - group_id: {GROUP}  # group {seed.SENDERS_GROUP_NAME}" in lines
    assert not any("object_id" in line or "app_id:" in line for line in lines)
    validated = run(emu, "validate", out)
    assert validated.exit_code == 0, validated.output
    replanned = run(emu, "plan", out, "--detailed-exitcode")
    assert replanned.exit_code == 0 and "No changes" in replanned.stdout, replanned.output


def test_import_without_group_read_writes_the_group_id_without_a_comment(emu, azure, tmp_path):
    rule = deploy(azure, grant=False)
    _assign(azure, rule.id, GROUP)
    out = tmp_path / "imported.yaml"
    imported = run(emu, "import", "--rule", "dcr-myapp", "--out", out)
    assert imported.exit_code == 0, imported.output
    assert f"  - group_id: {GROUP}" in out.read_text(encoding="utf-8").splitlines()  # the whole line: no comment
    replanned = run(emu, "plan", out, "--detailed-exitcode")
    assert replanned.exit_code == 0 and "No changes" in replanned.stdout, replanned.output


@pytest.mark.parametrize("missing", [UNKNOWN, seed.SENDER_OBJECT_ID])
def test_a_group_id_not_in_the_directory_is_reported_before_any_write(emu, tmp_path, missing):
    # A service principal's object id is no group either: ARM would refuse principalType Group for it.
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Application.Read.All", "Group.Read.All"])
    scenario = group_scenario(tmp_path, missing)
    for command in (["plan", scenario], ["apply", scenario, "--yes"]):
        result = run(emu, *command)
        assert result.exit_code == 1, result.output
        assert "PublisherNotFound" in result.stdout and f"publisher group_id {missing} is not a group" in result.stdout
        assert "Traceback" not in result.output
    assert emu.write_calls() == []
