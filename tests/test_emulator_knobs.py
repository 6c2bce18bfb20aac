"""Realism knobs: latency, seeded faults (429 + Retry-After, 500/503, reset, failed LRO), persistence, reset."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError

from provision.emulator import Emulator, Fault, seed
from provision.emulator.knobs import FaultInjector
from tests.emulator_fixtures import AzureClients
from tests.emulator_helpers import RG, WS, deploy

ROW = {"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "hello"}


def test_latency_per_operation(azure, emu):
    la = azure.loganalytics()
    la.workspaces.get(RG, WS)  # token fetched
    emu.set_latency({"Workspaces_Get": 0.3})
    start = time.perf_counter()
    la.workspaces.get(RG, WS)
    delayed = time.perf_counter() - start
    assert delayed >= 0.3
    start = time.perf_counter()
    la.tables.get(RG, WS, "Syslog")
    assert time.perf_counter() - start < delayed  # other operations are not delayed


def test_429_with_retry_after(azure, emu):
    emu.inject_fault("429", match="Workspaces_Get", retry_after=7)
    with pytest.raises(HttpResponseError) as raised:
        azure.loganalytics().workspaces.get(RG, WS)
    assert raised.value.status_code == 429 and raised.value.response.headers["Retry-After"] == "7"
    assert azure.loganalytics().workspaces.get(RG, WS).name == WS  # times=1: the next call passes


def test_sdk_retries_through_a_transient_503(azure, emu):
    emu.inject_fault("503", match="Workspaces_Get")
    la = azure.loganalytics(retry_total=2, retry_backoff_factor=0.01)
    assert la.workspaces.get(RG, WS).name == WS
    assert [c.status for c in emu.calls if c.operation == "Workspaces_Get"] == [503, 200]


def test_500_on_ingestion(azure, emu):
    rule = deploy(azure)
    emu.inject_fault("500", match="ingest")
    with pytest.raises(HttpResponseError) as raised:
        azure.ingestion(rule.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 500
    assert emu.rows("MyApp_CL") == []


def test_connection_reset(azure, emu):
    emu.inject_fault("reset", match=r"GET .*/workspaces/")
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        azure.loganalytics().workspaces.get(RG, WS)
    assert azure.loganalytics().workspaces.get(RG, WS).name == WS


def test_fault_text_form_and_seeded_rate():
    fault = Fault.parse("503,match=tables,times=0,rate=0.5")
    assert (fault.kind, fault.match, fault.times, fault.rate) == ("503", "tables", None, 0.5)

    def run(seed_value):
        injector = FaultInjector([Fault("503", rate=0.5, times=None)], seed=seed_value)
        return [injector.pick("Tables_Get", "arm", "GET /x") is not None for _ in range(40)]

    assert run(7) == run(7) and run(7) != run(8) and 5 < sum(run(7)) < 35
    with pytest.raises(ValueError):
        Fault.parse("418")


def test_latency_text_form():
    from provision.emulator.knobs import Latency

    spec = Latency.parse(["0.01", "Tables_Get=0.5", "ingest=0.2"])
    latency = Latency(spec)
    assert latency.delay("Tables_Get", "arm") == 0.5
    assert latency.delay("Ingest_Upload", "ingest") == 0.2
    assert latency.delay("Workspaces_Get", "arm") == 0.01
    assert Latency(None).delay("Tables_Get", "arm") == 0.0


def test_reset_restores_seeded_state(azure, emu):
    deploy(azure)
    emu.inject_fault("503", times=None, match="Tables_Get")
    emu.reset()
    assert emu.calls == [] and emu.rows("MyApp_CL") == []
    with pytest.raises(ResourceNotFoundError):
        azure.loganalytics().tables.get(RG, WS, "MyApp_CL")  # no 503: faults cleared


def test_only_loopback():
    with pytest.raises(ValueError, match="127.0.0.1"):
        Emulator(host="0.0.0.0")


def test_restart_on_same_state_dir_keeps_resources_rows_ca_and_tokens(tmp_path):
    with Emulator(tmp_path) as first:
        azure = AzureClients(first)
        rule = deploy(azure)
        sender = azure.credential("sender")
        azure.ingestion(rule.endpoints.logs_ingestion, credential=sender).upload(
            rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
        ca = first.ca_path.read_bytes()
    with Emulator(tmp_path) as second:
        assert second.ca_path.read_bytes() == ca
        azure = AzureClients(second)
        again = azure.monitor().data_collection_rules.get(RG, "dcr-myapp")
        assert again.immutable_id == rule.immutable_id
        assert again.endpoints.logs_ingestion.startswith(second.url)  # endpoints follow the current port
        assert second.url == first.url  # port 0 reuses the state dir's previous port when it is free
        assert azure.loganalytics().tables.get(RG, WS, "MyApp_CL").properties.provisioning_state == "Succeeded"
        assert second.rows("MyApp_CL") == [ROW]
        azure.ingestion(again.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
        assert len(second.rows("MyApp_CL")) == 2


def test_custom_port(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with Emulator(tmp_path, port=free) as emu:
        assert emu.url == f"https://127.0.0.1:{free}"
        assert emu.env()["AZURE_SUBSCRIPTION_ID"] == seed.SUBSCRIPTION_ID


def test_ingestion_limits_per_rule_per_minute(azure, emu):
    """azure-contract.md §8: 12,000 requests and 2 GB per minute per DCR, then 429 with Retry-After."""
    rule = deploy(azure)
    emu.set_ingestion_limits(requests_per_minute=2)
    client = azure.ingestion(rule.endpoints.logs_ingestion)
    for _ in range(2):
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    with pytest.raises(HttpResponseError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 429 and 1 <= int(raised.value.response.headers["Retry-After"]) <= 60
    emu.set_ingestion_limits(bytes_per_minute=10)
    with pytest.raises(HttpResponseError) as raised:
        client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 429


def test_a_lost_response_is_carried_out_then_the_connection_is_reset(azure, emu):
    """Fault kind 'lost-response' (issue 12, chaos): the write happens, the answer never arrives. azure-core does
    not retry a PUT whose response was lost, so the caller sees an error while the rule exists."""
    from tests.emulator_helpers import create_table, dcr_body

    create_table(azure)
    emu.inject_fault("lost-response", match="DataCollectionRules_Create", times=1)
    with pytest.raises(ServiceResponseError):
        azure.monitor().data_collection_rules.create("rg-local", "dcr-lost", dcr_body())
    assert azure.monitor().data_collection_rules.get("rg-local", "dcr-lost").name == "dcr-lost"
    assert [c.status for c in emu.calls if c.operation == "DataCollectionRules_Create"] == [0]
