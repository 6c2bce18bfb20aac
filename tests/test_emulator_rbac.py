"""Role definitions and assignments through AuthorizationManagementClient (azure-contract.md §6)."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from provision.emulator import seed
from tests.emulator_helpers import MMP, RG, create_dcr, create_table, grant_sender

SUB_SCOPE = f"/subscriptions/{seed.SUBSCRIPTION_ID}"


def _rule(azure):
    create_table(azure)
    return create_dcr(azure)


def _params(principal=seed.SENDER_OBJECT_ID, role=MMP):
    return {"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}


def test_create_201_then_200_get_list_delete(azure, emu):
    rule = _rule(azure)
    auth = azure.authorization()
    name = str(uuid.uuid4())
    created = auth.role_assignments.create(rule.id, name, _params())
    assert emu.calls[-1].status == 201
    assert created.scope == rule.id and created.principal_type == "ServicePrincipal"
    assert created.role_definition_id == MMP
    again = auth.role_assignments.create(rule.id, name, _params())
    assert emu.calls[-1].status == 200 and again.id == created.id
    assert auth.role_assignments.get(rule.id, name).principal_id == seed.SENDER_OBJECT_ID
    at_rule = [ra.name for ra in auth.role_assignments.list_for_scope(rule.id)]
    assert name in at_rule
    owner = [ra for ra in auth.role_assignments.list_for_subscription() if ra.principal_id == seed.DEPLOYER_OBJECT_ID]
    assert owner and owner[0].role_definition_id.endswith(seed.OWNER_ROLE_ID)
    filtered = list(auth.role_assignments.list_for_scope(SUB_SCOPE, filter=f"principalId eq '{seed.SENDER_OBJECT_ID}'"))
    assert [ra.name for ra in filtered] == [name]
    deleted = auth.role_assignments.delete(rule.id, name)
    assert deleted.name == name
    assert auth.role_assignments.delete(rule.id, name) is None  # 204: already gone
    with pytest.raises(ResourceNotFoundError) as raised:
        auth.role_assignments.get(rule.id, name)
    assert raised.value.error.code == "RoleAssignmentNotFound"


def test_same_triple_under_another_name_is_409(azure):
    rule = _rule(azure)
    first = grant_sender(azure, rule.id)
    with pytest.raises(ResourceExistsError) as raised:
        grant_sender(azure, rule.id)
    assert raised.value.error.code == "RoleAssignmentExists"
    assert first.name.replace("-", "") in raised.value.error.message


def test_unknown_principal_is_400(azure):
    rule = _rule(azure)
    with pytest.raises(HttpResponseError) as raised:
        grant_sender(azure, rule.id, principal=str(uuid.uuid4()))
    assert raised.value.status_code == 400 and raised.value.error.code == "PrincipalNotFound"


def test_unknown_role_definition(azure):
    rule = _rule(azure)
    bad_role = MMP.replace(seed.MONITORING_METRICS_PUBLISHER_ROLE_ID, str(uuid.uuid4()))
    with pytest.raises(HttpResponseError) as raised:
        azure.authorization().role_assignments.create(rule.id, str(uuid.uuid4()), _params(role=bad_role))
    assert raised.value.error.code == "RoleDefinitionDoesNotExist"


def test_name_must_be_guid(azure):
    rule = _rule(azure)
    with pytest.raises(HttpResponseError) as raised:
        azure.authorization().role_assignments.create(rule.id, "not-a-guid", _params())
    assert raised.value.error.code == "InvalidRoleAssignmentId"


def test_changing_principal_of_existing_name_refused(azure):
    rule = _rule(azure)
    name = str(uuid.uuid4())
    grant_sender(azure, rule.id, name=name)
    with pytest.raises(HttpResponseError) as raised:
        azure.authorization().role_assignments.create(rule.id, name, _params(principal=seed.NOBODY_OBJECT_ID))
    assert raised.value.error.code == "RoleAssignmentUpdateNotPermitted"


def test_scope_must_exist(azure):
    missing = f"{SUB_SCOPE}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionRules/nope"
    with pytest.raises(ResourceNotFoundError) as raised:
        grant_sender(azure, missing)
    assert raised.value.error.code == "ResourceNotFound"


def test_role_definitions_get_and_filter_by_name(azure):
    auth = azure.authorization()
    mmp = auth.role_definitions.get(SUB_SCOPE, seed.MONITORING_METRICS_PUBLISHER_ROLE_ID)
    assert mmp.role_name == "Monitoring Metrics Publisher"
    assert "Microsoft.Insights/Telemetry/Write" in mmp.permissions[0].data_actions
    found = list(auth.role_definitions.list(SUB_SCOPE, filter="roleName eq 'Monitoring Metrics Publisher'"))
    assert [d.name for d in found] == [seed.MONITORING_METRICS_PUBLISHER_ROLE_ID]
    with pytest.raises(ResourceNotFoundError):
        auth.role_definitions.get(SUB_SCOPE, str(uuid.uuid4()))


def test_identity_without_rights_cannot_write(azure):
    create_table(azure)
    with pytest.raises(HttpResponseError) as raised:
        azure.authorization("nobody").role_assignments.create(SUB_SCOPE, str(uuid.uuid4()), _params())
    assert raised.value.status_code == 403 and raised.value.error.code == "AuthorizationFailed"
    with pytest.raises(HttpResponseError) as raised:
        azure.loganalytics("sender").tables.begin_create_or_update(RG, seed.WORKSPACE_NAME, "X_CL", {}).result()
    assert raised.value.error.code == "AuthorizationFailed"
    assert "Microsoft.OperationalInsights/workspaces/tables/write" in raised.value.error.message


def test_contributor_may_write_resources_but_not_roles(azure):
    from provision.emulator.rbac import CONTRIBUTOR_ROLE_ID

    role = MMP.replace(seed.MONITORING_METRICS_PUBLISHER_ROLE_ID, CONTRIBUTOR_ROLE_ID)
    azure.authorization().role_assignments.create(f"{SUB_SCOPE}/resourceGroups/{RG}", str(uuid.uuid4()),
                                                  _params(principal=seed.NOBODY_OBJECT_ID, role=role))
    create_table(azure)
    nobody_rule = create_dcr(azure, "dcr-by-deployer")
    mon = azure.monitor("nobody")
    assert mon.data_collection_rules.get(RG, nobody_rule.name).name == "dcr-by-deployer"
    with pytest.raises(HttpResponseError) as raised:
        azure.authorization("nobody").role_assignments.create(nobody_rule.id, str(uuid.uuid4()), _params())
    assert raised.value.error.code == "AuthorizationFailed"
