"""Ingestion never acknowledges what it has not stored, and refuses or counts what the service would not store.

Issue 12 items 2, 7, 11, 12 (emulator rows): rows are in the state file when the 204 arrives (also across a
SIGKILL of ``provision emulator serve``); deep nesting, NaN/Infinity, non-object elements and non-strict gzip
are refused with 400 and store nothing; on flows without a transform, values that do not fit the table's column
types are dropped and counted with a reason. docs/emulator.md "What ingestion stores, refuses or drops".
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.core.rest import HttpRequest
from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import Emulator, seed
from provision.emulator.base import Request
from provision.emulator.reader import read_rows
from provision.emulator.store import Store
from tests.emulator_fixtures import AzureClients
from tests.emulator_helpers import create_dcr, create_table, dcr_body, deploy, grant_sender

T0 = "2026-01-01T00:00:00Z"
ROW = {"TimeGenerated": T0, "Message": "hello"}


def _post(azure, rule, body: bytes, headers: dict | None = None, stream: str = "Custom-MyApp"):
    """POST through the ingestion client's pipeline (token, TLS) with a hand-made body."""
    client = azure.ingestion(rule.endpoints.logs_ingestion)
    url = f"{rule.endpoints.logs_ingestion}/dataCollectionRules/{rule.immutable_id}/streams/{stream}?api-version=2023-01-01"
    return client.send_request(HttpRequest("POST", url, content=body,
                                           headers={"Content-Type": "application/json", **(headers or {})}))


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"d": value}
    return value


def _deploy_dynamic(azure, transform: str):
    create_table(azure, "MyApp_CL", ("Message", "string"), ("Props", "dynamic"))
    rule = create_dcr(azure, "dcr-dyn", dcr_body(columns=(("TimeGenerated", "datetime"), ("Message", "string"),
                                                          ("Props", "dynamic")), transform=transform))
    grant_sender(azure, rule.id)
    return rule


# ---------------------------------------------------------------- nesting (item 2)
def test_600_deep_dynamic_with_a_transform_is_refused_not_acknowledged_and_lost(azure, emu):
    rule = _deploy_dynamic(azure, "source | extend Message = toupper(Message)")
    body = json.dumps([ROW, {**ROW, "Props": _nested(600)}]).encode()
    response = _post(azure, rule, body)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "element 1" in message and "64 levels" in message
    assert emu.rows("MyApp_CL") == []  # refused as a whole: nothing stored, nothing claimed


def test_nesting_within_the_limit_goes_through_the_transform_and_is_stored(azure, emu):
    rule = _deploy_dynamic(azure, "source | extend Message = toupper(Message)")
    deep = _nested(62)  # the array is level 1, the row 2, the 62 objects of Props levels 3 to 64
    response = _post(azure, rule, json.dumps([{**ROW, "Props": deep}]).encode())
    assert response.status_code == 204
    assert emu.rows("MyApp_CL") == [{"TimeGenerated": T0, "Message": "HELLO", "Props": deep}]
    assert _post(azure, rule, json.dumps([{**ROW, "Props": _nested(63)}]).encode()).status_code == 400


# ---------------------------------------------------------------- stored before the 204 (items 2, 7)
def test_rows_are_in_the_state_file_when_ingest_upload_returns(emu):
    """No work is left for after the answer: another connection on the state file sees the rows at once."""
    rule = deploy(AzureClients(emu))
    token = emu.issue_token(seed.SENDER_APP_ID, "https://monitor.azure.com")
    rows = [{"TimeGenerated": T0, "Message": f"m{i}"} for i in range(500)]
    request = Request("POST", "/", {"api-version": "2023-01-01"}, {"authorization": f"Bearer {token}"},
                      json.dumps(rows).encode())
    response = emu.backend.Ingest_Upload(request, "dcr", rule.immutable_id, rule.immutable_id, "Custom-MyApp")
    assert response.status == 204 and getattr(response, "after", None) is None  # no work deferred past the answer
    assert read_rows(emu.state_dir, "MyApp_CL") == rows


def _serve(state: Path) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen([sys.executable, "-m", "provision", "emulator", "serve", "--state", str(state)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env: dict[str, str] = {}
    deadline = time.time() + 30
    while "REQUESTS_CA_BUNDLE" not in env and time.time() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        key, _, value = line.strip().partition("=")
        env[key] = value
    assert "REQUESTS_CA_BUNDLE" in env, "provision emulator serve did not start"
    return process, env


def test_sigkill_right_after_the_204s_loses_no_acknowledged_row(tmp_path):
    state = tmp_path / "state"
    process, env = _serve(state)
    try:
        target = type("Target", (), {"url": env["PROVISION_LOCAL_URL"], "ca_path": Path(env["REQUESTS_CA_BUNDLE"])})()
        azure = AzureClients(target)
        rule = deploy(azure)
        client = azure.ingestion(rule.endpoints.logs_ingestion)
        for batch in range(4):  # each upload() is one POST answered 204
            client.upload(rule_id=rule.immutable_id, stream_name="Custom-MyApp",
                          logs=[{"TimeGenerated": T0, "Message": f"b{batch}-{i}" + "x" * 200} for i in range(500)])
    finally:
        process.send_signal(signal.SIGKILL)  # at once, no chance to finish anything after the last answer
        process.wait(timeout=10)
    assert len(read_rows(state, "MyApp_CL")) == 2000
    with Emulator(state) as again:  # restarted on the same state dir
        assert len(again.rows("MyApp_CL")) == 2000


# ---------------------------------------------------------------- strict JSON (item 11)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(azure, emu, literal):
    rule = deploy(azure)
    body = f'[{{"TimeGenerated": "{T0}", "Message": "ok"}}, {{"TimeGenerated": "{T0}", "Message": {literal}}}]'.encode()
    response = _post(azure, rule, body)
    assert response.status_code == 400
    assert "element 1" in response.json()["error"]["message"] and "RFC 8259" in response.json()["error"]["message"]
    nested = f'[{{"TimeGenerated": "{T0}", "Message": "ok", "Extra": {{"a": [1, {literal}]}}}}]'.encode()
    assert _post(azure, rule, nested).status_code == 400
    assert emu.rows("MyApp_CL") == []


@pytest.mark.parametrize("element, kind", [("5", "a number"), ('"text"', "a string"), ("null", "null"),
                                           ("[1]", "an array"), ("true", "a boolean")])
def test_non_object_elements_are_refused_not_dropped(azure, emu, element, kind):
    rule = deploy(azure)
    response = _post(azure, rule, f'[{json.dumps(ROW)}, {element}]'.encode())
    assert response.status_code == 400
    assert f"element 1 is {kind}" in response.json()["error"]["message"]
    assert emu.rows("MyApp_CL") == []


# ---------------------------------------------------------------- column types on pass-through flows (item 11)
def _deploy_typed(azure):
    columns = (("Count", "long"), ("Level", "int"), ("Flag", "boolean"), ("Ratio", "real"), ("Ref", "guid"))
    create_table(azure, "MyApp_CL", *columns)
    stream_types = {"long": "long", "int": "int", "boolean": "boolean", "real": "real", "guid": "string"}
    rule = create_dcr(azure, "dcr-typed", dcr_body(columns=(("TimeGenerated", "datetime"),
                                                            *((n, stream_types[t]) for n, t in columns))))
    grant_sender(azure, rule.id)
    return rule


GOOD = {"TimeGenerated": T0, "Count": 2 ** 62, "Level": -5, "Flag": True, "Ratio": 0.5,
        "Ref": "0f8fad5b-d9cb-469f-a165-70867728950e"}


@pytest.mark.parametrize("change, reason", [
    ({"Count": "abc"}, "column 'Count' is long"),
    ({"Count": 2 ** 70}, "column 'Count' is long"),
    ({"Level": 2 ** 31}, "column 'Level' is int"),
    ({"Level": 1.5}, "column 'Level' is int"),
    ({"Flag": "yes"}, "column 'Flag' is boolean"),
    ({"Ratio": "lots"}, "column 'Ratio' is real"),
    ({"Ratio": "NaN"}, "column 'Ratio' is real"),  # Python's float() reads these three; JSON and Kusto numbers do not
    ({"Ratio": "inf"}, "column 'Ratio' is real"),
    ({"Ratio": "1_0"}, "column 'Ratio' is real"),
    ({"Ref": "not-a-guid"}, "column 'Ref' is guid"),
    ({"TimeGenerated": "not a date"}, "TimeGenerated is not a valid datetime"),
    ({"TimeGenerated": None}, "TimeGenerated is missing"),
    ({"TimeGenerated": 12}, "TimeGenerated is not a valid datetime"),
])
def test_values_that_do_not_fit_the_table_are_dropped_and_counted(azure, emu, change, reason):
    rule = _deploy_typed(azure)
    bad = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert _post(azure, rule, json.dumps([GOOD, bad, GOOD]).encode()).status_code == 204
    assert emu.rows("MyApp_CL") == [GOOD, GOOD]
    stats = emu.ingestion_stats(rule.immutable_id)
    assert stats["received"] == 3 and stats["stored"] == 2 and stats["dropped"] == 1
    assert [key for key in stats["reasons"]] == [next(k for k in stats["reasons"] if k.startswith(reason))]


def test_values_kusto_converts_are_stored(azure, emu):
    rule = _deploy_typed(azure)
    converted = {"TimeGenerated": "2026-01-01T00:00:00.1234567Z", "Count": "42", "Level": 3.0, "Flag": "False",
                 "Ratio": 2, "Ref": None}
    assert _post(azure, rule, json.dumps([converted]).encode()).status_code == 204
    assert emu.rows("MyApp_CL") == [converted]
    assert emu.ingestion_stats(rule.immutable_id)["dropped"] == 0


# ---------------------------------------------------------------- gzip (item 12)
def test_gzip_body_of_two_members_is_read_whole(azure, emu):
    rule = deploy(azure)
    first, second = {**ROW, "Message": "first"}, {**ROW, "Message": "second"}
    body = gzip.compress(f"[{json.dumps(first)},".encode()) + gzip.compress(f"{json.dumps(second)}]".encode())
    assert _post(azure, rule, body, {"Content-Encoding": "gzip"}).status_code == 204
    assert emu.rows("MyApp_CL") == [first, second]


@pytest.mark.parametrize("mangle, words", [(lambda z: z + b"garbage", "bytes after the end"),
                                           (lambda z: z + b"\0\0\0\0", "bytes after the end"),
                                           (lambda z: z[:-6], "truncated")])
def test_gzip_is_parsed_strictly(azure, emu, mangle, words):
    rule = deploy(azure)
    response = _post(azure, rule, mangle(gzip.compress(json.dumps([ROW]).encode())), {"Content-Encoding": "gzip"})
    assert response.status_code == 400 and words in response.json()["error"]["message"]
    assert emu.rows("MyApp_CL") == []


# ---------------------------------------------------------------- `provision emulator rows` output (item 12)
def _strict_json(line: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(line, parse_constant=refuse)


def test_rows_prints_a_lone_surrogate_as_valid_json(azure, emu):
    rule = deploy(azure)
    body = f'[{{"TimeGenerated": "{T0}", "Message": "a\\ud800b \u00e9"}}]'.encode()
    assert _post(azure, rule, body).status_code == 204
    result = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(emu.state_dir)])
    assert result.exit_code == 0, result.output
    assert [_strict_json(line) for line in result.stdout.splitlines()] == [{"TimeGenerated": T0, "Message": "a\ud800b \u00e9"}]


def test_rows_prints_valid_json_for_nan_stored_by_an_older_emulator(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    try:
        key = f"{seed.WORKSPACE_CUSTOMER_ID.lower()}/myapp_cl"
        store.add_rows(key, [{}], b'[{"Message": "x", "Value": NaN, "Props": {"a": [Infinity]}}]')  # verbatim, as before
    finally:
        store.close()
    result = CliRunner().invoke(app, ["emulator", "rows", "MyApp_CL", "--state", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [_strict_json(line) for line in result.stdout.splitlines()] == [{"Message": "x", "Value": None,
                                                                             "Props": {"a": [None]}}]


# ---------------------------------------------------------------- the store's index (issue 8)
def test_store_finds_by_indexed_field_after_put_update_and_delete(tmp_path):
    store = Store(tmp_path / "state.sqlite3")
    try:
        ra = "Microsoft.Authorization/roleAssignments"
        store.put("/a", ra, {"properties": {"principalId": "P-1"}})
        store.put("/b", ra, {"properties": {"principalId": "p-2"}})
        assert [r["properties"]["principalId"] for r in store.find(ra, "p-1")] == ["P-1"]
        store.put("/a", ra, {"properties": {"principalId": "p-2"}})  # an update moves it in the index
        assert store.find(ra, "p-1") == [] and len(store.find(ra, "P-2")) == 2
        store.delete("/b")
        assert [r["properties"]["principalId"] for r in store.find(ra, "p-2")] == ["p-2"]
        with pytest.raises(ValueError):
            store.find("Microsoft.Resources/resourceGroups", "x")
    finally:
        store.close()


def test_index_is_built_when_an_older_state_file_is_opened(tmp_path):
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)  # the schema before the index column existed
    db.execute("CREATE TABLE resources (key TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL)")
    db.execute("INSERT INTO resources VALUES (?, ?, ?, 0)", ("/dce", "Microsoft.Insights/dataCollectionEndpoints",
                                                           json.dumps({"properties": {"immutableId": "dce-ABC"}})))
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.find("Microsoft.Insights/dataCollectionEndpoints", "dce-abc") == [{"properties": {"immutableId": "dce-ABC"}}]
    finally:
        store.close()


def test_transforms_past_the_per_request_bound_are_refused_and_nothing_is_stored(azure, emu):
    """Issue 12 item 3: a bound on evaluation time per request. Past it the request fails (400 TransformTimeout)
    and none of its rows are stored: nothing acknowledged is lost (docs/emulator.md)."""
    from azure.core.exceptions import HttpResponseError

    from tests.emulator_helpers import dcr_body, deploy

    rule = deploy(azure, body=dcr_body(transform="source | where Message != 'skip'"))
    client = azure.ingestion(rule.endpoints.logs_ingestion)
    emu.set_transform_seconds(0.0)
    with pytest.raises(HttpResponseError) as refused:
        client.upload(rule.immutable_id, "Custom-MyApp", [{"TimeGenerated": "2026-12-03T10:00:00Z", "Message": "x"}])
    assert refused.value.status_code == 400 and "TransformTimeout" in str(refused.value)
    assert emu.rows("MyApp_CL") == []
    emu.set_transform_seconds(20.0)
    client.upload(rule.immutable_id, "Custom-MyApp", [{"TimeGenerated": "2026-12-03T10:00:00Z", "Message": "x"}])
    assert [r["Message"] for r in emu.rows("MyApp_CL")] == ["x"]
