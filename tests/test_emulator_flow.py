"""End to end through the official SDK clients: token -> workspace -> table LRO -> DCR -> role -> ingestion."""

from __future__ import annotations

from provision.emulator import seed
from tests.emulator_helpers import RG, WS, deploy

ROWS = [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": f"m{i}", "NotDeclared": i} for i in range(5)]


def test_workspace_get_returns_seeded_customer_id(azure):
    ws = azure.loganalytics().workspaces.get(RG, WS)
    assert ws.customer_id == seed.WORKSPACE_CUSTOMER_ID
    assert ws.location == seed.LOCATION
    assert ws.id == seed.WORKSPACE_ID


def test_full_flow_rows_arrive_with_undeclared_columns_dropped(azure, emu):
    rule = deploy(azure)
    assert rule.immutable_id.startswith("dcr-") and len(rule.immutable_id) == 36
    assert rule.endpoints.logs_ingestion.startswith(emu.url)
    client = azure.ingestion(rule.endpoints.logs_ingestion)
    client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=ROWS)
    rows = emu.rows("MyApp_CL")
    assert rows == [{"TimeGenerated": "2026-01-01T00:00:00Z", "Message": f"m{i}"} for i in range(5)]
    assert emu.rows("MyApp_CL", limit=2) == rows[-2:]
    assert emu.ingestion_stats(rule.immutable_id)["stored"] == 5


def test_call_log_counts_write_calls(azure, emu):
    deploy(azure)
    writes = [(c.method, c.operation) for c in emu.write_calls()]
    assert writes == [("PUT", "Tables_CreateOrUpdate"), ("PUT", "DataCollectionRules_Create"), ("PUT", "RoleAssignments_Create")]
    method, path, status = emu.calls[0]
    assert (method, status) == ("GET", 200)
    assert emu.calls[0] == (method, path, status) and emu.calls[0].operation == "OpenIdConfiguration"
    assert emu.count("PUT", "Tables_CreateOrUpdate", 202) == 1
