"""Ingestion through a DCE whose public network access is disabled (issue 9; docs/emulator.md "Private link")."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator_helpers import RG, create_dcr, create_table, dcr_body, grant_sender

ROW = {"TimeGenerated": "2026-01-01T00:00:00Z", "Message": "hello"}


def _dce(azure, access: str):
    body = {"location": "westeurope", "properties": {"networkAcls": {"publicNetworkAccess": access}}}
    return azure.monitor().data_collection_endpoints.create(RG, "dce-a", json.dumps(body).encode())


def _bound_rule(azure, dce):
    create_table(azure)
    rule = create_dcr(azure, "dcr-dce", dcr_body(kind="Linux", dataCollectionEndpointId=dce.id))
    grant_sender(azure, rule.id)
    return rule


def test_disabled_public_access_refuses_ingestion_and_stores_nothing(azure, emu):
    dce = _dce(azure, "Disabled")
    rule = _bound_rule(azure, dce)
    with pytest.raises(HttpResponseError) as raised:
        azure.ingestion(dce.logs_ingestion.endpoint).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert raised.value.status_code == 403
    assert raised.value.error.code == "PublicNetworkAccessDisabled"
    assert dce.id in raised.value.error.message
    assert emu.rows("MyApp_CL") == []


def test_enabling_public_access_again_lets_senders_in(azure, emu):
    dce = _dce(azure, "Disabled")
    rule = _bound_rule(azure, dce)
    dce = _dce(azure, "Enabled")
    azure.ingestion(dce.logs_ingestion.endpoint).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert emu.rows("MyApp_CL") == [ROW]


def test_rule_own_endpoint_is_not_governed_by_a_dce_setting(azure, emu):
    """A Direct rule's own logsIngestion endpoint is not the DCE's: the DCE's network setting does not apply to it."""
    dce = _dce(azure, "Disabled")
    create_table(azure)
    rule = create_dcr(azure, "dcr-direct", dcr_body(dataCollectionEndpointId=dce.id))
    grant_sender(azure, rule.id)
    azure.ingestion(rule.endpoints.logs_ingestion).upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp", logs=[ROW])
    assert emu.rows("MyApp_CL") == [ROW]
