"""Workspace tables through LogAnalyticsManagementClient: LRO mechanics and the service rules (azure-contract.md §3)."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provision.emulator import seed
from tests.emulator_helpers import RG, WS, table_body


def _error(callable_, *args):
    with pytest.raises(HttpResponseError) as raised:
        poller = callable_(*args)
        poller.result()
    return raised.value


def test_create_get_list_update_delete(azure, emu):
    la = azure.loganalytics()
    created = la.tables.begin_create_or_update(RG, WS, "Orders_CL", table_body(("OrderId", "guid"), ("Amount", "real"),
                                                                              retentionInDays=45, totalRetentionInDays=70)).result()
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.archive_retention_in_days == 25
    assert created.properties.schema.table_type == "CustomLog"
    assert [c.name for c in created.properties.schema.standard_columns] == ["TenantId"]
    got = la.tables.get(RG, WS, "orders_cl")  # names are case-insensitive
    assert [(c.name, c.type) for c in got.properties.schema.columns] == [("TimeGenerated", "dateTime"), ("OrderId", "guid"),
                                                                         ("Amount", "real")]
    names = [t.name for t in la.tables.list_by_workspace(RG, WS)]
    assert "Orders_CL" in names and "Syslog" in names
    updated = la.tables.begin_update(RG, WS, "Orders_CL", {"properties": {"retentionInDays": 60,
                                                                          "totalRetentionInDays": 90}}).result()
    assert updated.properties.retention_in_days == 60 and len(updated.properties.schema.columns) == 3
    la.tables.begin_delete(RG, WS, "Orders_CL").result()
    with pytest.raises(ResourceNotFoundError) as raised:
        la.tables.get(RG, WS, "Orders_CL")
    assert raised.value.error.code == "ResourceNotFound"


def test_put_is_202_with_async_operation_headers(azure, emu):
    la = azure.loganalytics()
    la.tables.begin_create_or_update(RG, WS, "Lro_CL", table_body()).result()
    put = next(c for c in emu.calls if c.operation == "Tables_CreateOrUpdate")
    assert put.status == 202
    assert emu.count(operation="OperationStatuses_Get") >= 1


def test_lro_stays_in_progress_and_says_when_to_poll(azure, emu):
    # The tables API's 202s carry Retry-After with Location and Azure-AsyncOperation (Azure/azure-cli#20903);
    # the emulator's value is when its operation will be done, in whole seconds.
    from azure.core.rest import HttpRequest

    emu.set_lro_seconds(60)
    la = azure.loganalytics()
    url = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/{WS}/tables/Slow_CL?api-version=2025-07-01"
    put = la.send_request(HttpRequest("PUT", url, json=table_body()))
    assert put.status_code == 202 and put.headers["Retry-After"] == "60"
    status = la.send_request(HttpRequest("GET", put.headers["Azure-AsyncOperation"]))
    assert status.json()["status"] == "InProgress" and 58 <= int(status.headers["Retry-After"]) <= 60
    result = la.send_request(HttpRequest("GET", put.headers["Location"]))
    assert result.status_code == 202 and 58 <= int(result.headers["Retry-After"]) <= 60
    assert la.tables.get(RG, WS, "Slow_CL").properties.provisioning_state == "InProgress"
    emu.set_lro_seconds(0)  # applies to the running operation too
    status = la.send_request(HttpRequest("GET", put.headers["Azure-AsyncOperation"]))
    assert status.json()["status"] == "Succeeded" and "Retry-After" not in status.headers
    assert la.tables.get(RG, WS, "Slow_CL").properties.provisioning_state == "Succeeded"


def test_lro_without_duration_sends_no_retry_after(azure, emu):
    # 'Retry-After: 0' would make azure-core wait its 30 s default (sdk-notes.md §4.3): omitted instead.
    from azure.core.rest import HttpRequest

    url = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/{WS}/tables/Fast_CL?api-version=2025-07-01"
    put = azure.loganalytics().send_request(HttpRequest("PUT", url, json=table_body()))
    assert put.status_code == 202 and "Retry-After" not in put.headers


def test_lro_duration_is_respected(azure, emu):
    emu.set_lro_seconds(0.3)
    start = time.perf_counter()
    azure.loganalytics().tables.begin_create_or_update(RG, WS, "Timed_CL", table_body()).result()
    assert time.perf_counter() - start >= 0.3


def test_table_locked_while_its_operation_runs(azure, emu):
    from azure.core.exceptions import ResourceExistsError

    emu.set_lro_seconds(60)
    la = azure.loganalytics()
    la.tables.begin_create_or_update(RG, WS, "Locked_CL", table_body(), polling=False)  # not waited for
    with pytest.raises(ResourceExistsError) as raised:
        la.tables.begin_create_or_update(RG, WS, "Locked_CL", table_body(("Extra", "string")))
    assert raised.value.status_code == 409 and raised.value.error.code == "Conflict"
    emu.set_lro_seconds(0)  # the running operation ends: the table is unlocked
    la.tables.begin_create_or_update(RG, WS, "Locked_CL", table_body(("Extra", "string"))).result()


def test_workspaces_list(azure):
    la = azure.loganalytics()
    assert {w.name for w in la.workspaces.list()} == {seed.WORKSPACE_NAME, seed.OTHER_WORKSPACE_NAME}
    assert {w.location for w in la.workspaces.list_by_resource_group(RG)} == {seed.LOCATION, seed.OTHER_WORKSPACE_LOCATION}


def test_lro_failed_fault_reverts(azure, emu):
    emu.inject_fault("lro-failed")
    err = _error(azure.loganalytics().tables.begin_create_or_update, RG, WS, "Fails_CL", table_body())
    assert err.error.code == "InternalServerError"
    with pytest.raises(ResourceNotFoundError):
        azure.loganalytics().tables.get(RG, WS, "Fails_CL")


@pytest.mark.parametrize("name, body, code", [
    ("NoSuffix", table_body(), "InvalidTableName"),
    ("Bad_CL", {"properties": {"schema": {"columns": [{"name": "Message", "type": "string"}]}}}, "MissingTimeGenerated"),
    ("Bad_CL", table_body(("1abc", "string")), "InvalidColumnName"),
    ("Bad_CL", table_body(("has space", "string")), "InvalidColumnName"),
    ("Bad_CL", table_body(("A" * 46, "string")), "InvalidColumnName"),
    ("Bad_CL", table_body(("TenantId", "string")), "ReservedColumnName"),
    ("Bad_CL", table_body(("_ResourceId", "string")), "InvalidColumnName"),  # leading underscore fails the name rule first
    ("Bad_CL", table_body(("Type", "string")), "ReservedColumnName"),
    ("Bad_CL", table_body(("Message", "text")), "InvalidColumnType"),
    ("Bad_CL", {"properties": {"schema": {"columns": [{"name": "TimeGenerated", "type": "string"}]}}}, "InvalidColumnType"),
    ("Bad_CL", table_body(*[(f"C{i}", "string") for i in range(500)]), "TooManyColumns"),
    ("Bad_CL", table_body(retentionInDays=3), "InvalidRetention"),
    ("Bad_CL", table_body(retentionInDays=731), "InvalidRetention"),
    ("Bad_CL", table_body(totalRetentionInDays=4384), "InvalidRetention"),
    ("Bad_CL", table_body(plan="Premium"), "InvalidPlan"),
    ("Syslog", table_body(("Extra", "string")), "InvalidColumnName"),
])
def test_table_rules(azure, name, body, code):
    err = _error(azure.loganalytics().tables.begin_create_or_update, RG, WS, name, body)
    assert err.status_code == 400 and err.error.code == code


def test_column_type_change_refused(azure):
    la = azure.loganalytics()
    la.tables.begin_create_or_update(RG, WS, "Typed_CL", table_body(("Amount", "real"))).result()
    err = _error(la.tables.begin_create_or_update, RG, WS, "Typed_CL", table_body(("Amount", "string")))
    assert err.error.code == "ColumnTypeChangeNotAllowed"


def test_retention_minus_one_means_default(azure):
    table = azure.loganalytics().tables.begin_create_or_update(RG, WS, "Ret_CL", table_body(retentionInDays=-1)).result()
    assert table.properties.retention_in_days == 30 and table.properties.retention_in_days_as_default is True


def test_azure_table_accepts_cf_columns_and_cannot_be_deleted(azure):
    la = azure.loganalytics()
    syslog = la.tables.get(RG, WS, "Syslog")
    assert syslog.properties.schema.table_type == "Microsoft"
    assert any(c.name == "TimeGenerated" for c in syslog.properties.schema.standard_columns)
    updated = la.tables.begin_create_or_update(RG, WS, "Syslog", {"properties": {"schema": {
        "columns": [{"name": "OrderRef_CF", "type": "string"}]}}}).result()
    assert [c.name for c in updated.properties.schema.columns] == ["OrderRef_CF"]
    with pytest.raises(HttpResponseError) as raised:
        la.tables.begin_delete(RG, WS, "Syslog").result()
    assert raised.value.error.code == "InvalidTableOperation"


def test_unknown_workspace_and_table(azure):
    la = azure.loganalytics()
    with pytest.raises(ResourceNotFoundError) as raised:
        la.tables.get(RG, "law-missing", "X_CL")
    assert raised.value.error.code == "ParentResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as raised:
        la.tables.get(RG, WS, "Missing_CL")
    assert raised.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as raised:
        la.workspaces.get(RG, "law-missing")
    assert raised.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as raised:
        la.workspaces.get("rg-missing", WS)
    assert raised.value.error.code == "ResourceGroupNotFound"


def test_delete_missing_table_is_204(azure, emu):
    azure.loganalytics().tables.begin_delete(RG, WS, "Never_CL").result()
    assert emu.calls[-1].status == 204


def test_api_version_missing_and_unsupported(azure):
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient

    old = LogAnalyticsManagementClient(azure.credential(), seed.SUBSCRIPTION_ID, api_version="2019-09-01", **azure.mgmt_kwargs())
    with pytest.raises(HttpResponseError) as raised:
        old.tables.get(RG, WS, "Syslog")
    assert raised.value.error.code == "NoRegisteredProviderFound"
    assert "2025-07-01" in raised.value.error.message
    ok = LogAnalyticsManagementClient(azure.credential(), seed.SUBSCRIPTION_ID, api_version="2022-10-01", **azure.mgmt_kwargs())
    assert ok.tables.get(RG, WS, "Syslog").name == "Syslog"


def test_api_version_missing(azure, emu):
    from azure.core.rest import HttpRequest

    response = azure.loganalytics().send_request(HttpRequest("GET", f"{emu.url}{seed.WORKSPACE_ID}/tables/Syslog"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_auxiliary_plan_needs_2025_07_01(azure):
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient

    table = azure.loganalytics().tables.begin_create_or_update(RG, WS, "Aux_CL", table_body(plan="Auxiliary")).result()
    assert table.properties.plan == "Auxiliary"
    older = LogAnalyticsManagementClient(azure.credential(), seed.SUBSCRIPTION_ID, api_version="2025-02-01", **azure.mgmt_kwargs())
    err = _error(older.tables.begin_create_or_update, RG, WS, "Aux2_CL", table_body(plan="Auxiliary"))
    assert err.error.code == "InvalidPlan"


def test_arm_paths_are_case_insensitive(azure, emu):
    from azure.core.rest import HttpRequest

    path = seed.WORKSPACE_ID.lower().replace("microsoft.operationalinsights", "MICROSOFT.OPERATIONALINSIGHTS")
    response = azure.loganalytics().send_request(HttpRequest("GET", f"{emu.url}{path}/TABLES/syslog?api-version=2025-07-01"))
    assert response.status_code == 200 and response.json()["name"] == "Syslog"
    assert response.headers["x-ms-request-id"]


def test_parallel_writes_from_many_threads(azure, emu):
    """plan/apply writes in parallel: concurrent table LROs and DCR PUTs all land, once each."""
    from concurrent.futures import ThreadPoolExecutor

    emu.set_lro_seconds(0.1)
    la = azure.loganalytics()

    def create(i):
        return la.tables.begin_create_or_update(RG, WS, f"Par{i}_CL", table_body(("Message", "string"))).result().name

    with ThreadPoolExecutor(8) as pool:
        names = sorted(pool.map(create, range(16)))
    assert names == sorted(f"Par{i}_CL" for i in range(16))
    assert emu.count("PUT", "Tables_CreateOrUpdate", 202) == 16
    listed = {t.name for t in la.tables.list_by_workspace(RG, WS)}
    assert set(names) <= listed


def test_classic_table_and_migrate(azure, emu):
    # A Data Collector API table reads back tableSubType Classic; POST .../migrate (Tables.json: 200, no body)
    # makes it DataCollectionRuleBased. A PUT before migrating keeps it classic.
    emu.create_classic_table("Legacy_CL", {"TimeGenerated": "dateTime", "Message_s": "string"})
    la = azure.loganalytics()
    got = la.tables.get(RG, WS, "Legacy_CL")
    assert (got.properties.schema.table_type, got.properties.schema.table_sub_type) == ("CustomLog", "Classic")
    la.tables.begin_create_or_update(RG, WS, "Legacy_CL", table_body(("Message_s", "string"),
                                                                     retentionInDays=40)).result()
    assert la.tables.get(RG, WS, "Legacy_CL").properties.schema.table_sub_type == "Classic"
    with pytest.raises(HttpResponseError) as raised:
        azure.loganalytics("nobody").tables.migrate(RG, WS, "Legacy_CL")
    assert raised.value.error.code == "AuthorizationFailed"
    assert la.tables.migrate(RG, WS, "Legacy_CL") is None
    migrated = la.tables.get(RG, WS, "Legacy_CL")
    assert migrated.properties.schema.table_sub_type == "DataCollectionRuleBased"
    assert [c.name for c in migrated.properties.schema.columns] == ["TimeGenerated", "Message_s"]
    la.tables.migrate(RG, WS, "Legacy_CL")  # again: nothing to do
    with pytest.raises(ResourceNotFoundError):
        la.tables.migrate(RG, WS, "Missing_CL")
    with pytest.raises(ValueError, match="_CL"):
        emu.create_classic_table("Syslog")
