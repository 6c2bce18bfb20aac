"""HTTP framing at the emulator's front door (issue 12, item 8 and the framing rows of item 12), over raw TLS.

What is refused before a byte of the body is read: a missing or invalid token (401), a declared length over
the route's limit (413), framing that cannot delimit the body (400, 501 for an unknown transfer coding), two
Authorization headers (400). Each early answer closes the connection (the unread body makes it unusable).
Raw sockets, because the official clients never send these requests; each test sends only a few bytes of
the body it declares, so a server that waits for the body before answering fails the test by its timeout.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provision.emulator import seed
from tests.emulator_helpers import RG, deploy

MIB = 1024 * 1024
INGEST = ("/ingest/dcr/dcr-00000000000000000000000000000000/dataCollectionRules/dcr-00000000000000000000000000000000"
          "/streams/Custom-MyApp?api-version=2023-01-01")
DCR_PATH = (f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/"
            "dataCollectionRules/dcr-framing?api-version=2024-03-11")
PROMPT = 3.0  # seconds: an answer that needs the declared body would wait for the socket timeout instead


def _connect(emu) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=PROMPT)
    return context.wrap_socket(sock, server_hostname="127.0.0.1")


def _request(method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _exchange(sock: ssl.SSLSocket, raw: bytes) -> tuple[int, dict[str, str], dict | None, float]:
    """Send ``raw``, read one response: (status, lower-cased headers, JSON body or None, seconds taken)."""
    started = time.monotonic()
    sock.sendall(raw)
    response = http.client.HTTPResponse(sock)
    response.begin()
    payload = response.read()
    elapsed = time.monotonic() - started
    headers = {k.lower(): v for k, v in response.getheaders()}
    return response.status, headers, json.loads(payload) if payload else None, elapsed


def _closed(sock: ssl.SSLSocket) -> bool:
    """True when the server closes the connection (EOF or reset) within a few seconds."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except (ConnectionError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


def _token(emu, who: str, audience: str) -> str:
    return "Bearer " + emu.issue_token(who, audience)


@pytest.mark.parametrize("method,path,code", [
    ("POST", INGEST, "InvalidToken"),
    ("PUT", DCR_PATH, "AuthenticationFailed"),
    ("GET", "/v1.0/servicePrincipals", "AuthenticationFailed"),
])
def test_unauthenticated_200_mib_body_is_401_before_it_is_read(emu, method, path, code):
    sock = _connect(emu)
    raw = _request(method, path, [("Content-Length", str(200 * MIB)), ("Content-Type", "application/json")], b"[{}]")
    status, headers, body, elapsed = _exchange(sock, raw)
    assert status == 401 and body["error"]["code"] == code
    assert elapsed < PROMPT and headers["connection"] == "close"
    assert _closed(sock)


def test_unauthenticated_post_without_body_keeps_the_connection(emu):
    sock = _connect(emu)
    status, headers, _, _ = _exchange(sock, _request("POST", INGEST, [("Content-Length", "0")]))
    assert status == 401 and headers.get("connection") != "close"
    status, _, body, _ = _exchange(sock, _request("GET", f"/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration", []))
    assert status == 200 and body["token_endpoint"]


def test_ingestion_body_over_1_mb_is_413_by_its_content_length(emu):
    sock = _connect(emu)
    auth = _token(emu, seed.SENDER_APP_ID, "https://monitor.azure.com")
    raw = _request("POST", INGEST, [("Authorization", auth), ("Content-Length", str(MIB + 1))], b"[")
    status, headers, body, elapsed = _exchange(sock, raw)
    assert status == 413 and body["error"]["code"] == "ContentLengthLimitExceeded"
    assert body["error"]["message"].startswith("The message is too large")
    assert headers["x-ms-error-code"] == "ContentLengthLimitExceeded"
    assert elapsed < PROMPT and _closed(sock)


def test_arm_body_over_4_mb_is_413_by_its_content_length(emu):
    sock = _connect(emu)
    auth = _token(emu, seed.DEPLOYER_APP_ID, "https://management.azure.com")
    raw = _request("PUT", DCR_PATH, [("Authorization", auth), ("Content-Length", str(4 * MIB + 1))], b"{")
    status, _, body, elapsed = _exchange(sock, raw)
    assert status == 413 and body["error"]["code"] == "RequestEntityTooLarge"
    assert elapsed < PROMPT and _closed(sock)


def test_token_endpoint_body_is_bounded_too(emu):
    sock = _connect(emu)
    raw = _request("POST", f"/{seed.TENANT_ID}/oauth2/v2.0/token",
                   [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(200 * MIB))], b"a=")
    status, _, _, elapsed = _exchange(sock, raw)
    assert status == 413 and elapsed < PROMPT and _closed(sock)


def test_chunked_body_is_counted_while_read(emu):
    """A chunk that would take the total over the limit is refused when its size line arrives."""
    sock = _connect(emu)
    auth = _token(emu, seed.DEPLOYER_APP_ID, "https://management.azure.com")
    raw = _request("PUT", DCR_PATH, [("Authorization", auth), ("Transfer-Encoding", "chunked")],
                   b"1\r\n{\r\n" + f"{4 * MIB:x}\r\n".encode() + b'"x')
    status, _, body, elapsed = _exchange(sock, raw)
    assert status == 413 and body["error"]["code"] == "RequestEntityTooLarge"
    assert elapsed < PROMPT and _closed(sock)


def test_chunked_ingestion_over_1_mb_is_413(azure, emu):
    rule = deploy(azure)
    path = f"/ingest/dcr/{rule.immutable_id}/dataCollectionRules/{rule.immutable_id}/streams/Custom-MyApp?api-version=2023-01-01"
    sock = _connect(emu)
    auth = _token(emu, seed.SENDER_APP_ID, "https://monitor.azure.com")
    raw = _request("POST", path, [("Authorization", auth), ("Transfer-Encoding", "chunked")],
                   b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in [b"[" + b"1," * 300_000] * 2)
                   + f"{MIB:x}\r\n".encode())
    status, headers, _, elapsed = _exchange(sock, raw)
    assert status == 413 and headers["x-ms-error-code"] == "ContentLengthLimitExceeded"
    assert elapsed < PROMPT and _closed(sock)
    assert emu.rows("MyApp_CL") == []


@pytest.mark.parametrize("framing", [
    [("Content-Length", "-1")],
    [("Content-Length", "abc")],
    [("Content-Length", "+5")],
    [("Content-Length", "0x10")],
    [("Content-Length", "")],
    [("Content-Length", "2"), ("Content-Length", "3")],
    [("Content-Length", "2, 3")],
    [("Content-Length", "2"), ("Transfer-Encoding", "chunked")],
    [("Transfer-Encoding", "chunked, chunked")],
    [("Transfer-Encoding", "chunked, gzip")],
], ids=lambda f: "; ".join(f"{k}: {v}" for k, v in f))
def test_malformed_framing_is_400_at_once(emu, framing):
    sock = _connect(emu)
    status, headers, body, elapsed = _exchange(sock, _request("POST", INGEST, framing, b"[]"))
    assert status == 400 and body["error"]["code"] == "BadRequest"
    assert elapsed < PROMPT and headers["connection"] == "close"
    assert _closed(sock)


def test_unknown_transfer_coding_is_501(emu):
    sock = _connect(emu)
    status, _, body, elapsed = _exchange(sock, _request("POST", INGEST, [("Transfer-Encoding", "gzip")], b"[]"))
    assert status == 501 and body["error"]["code"] == "NotImplemented" and elapsed < PROMPT


@pytest.mark.parametrize("size_line", [b"zz\r\n", b"0x2\r\n", b"-2\r\n", b" \r\n", b"2_0\r\n", b"+2\r\n"])
def test_chunk_size_that_is_not_hex_is_400(emu, size_line):
    sock = _connect(emu)
    auth = _token(emu, seed.SENDER_APP_ID, "https://monitor.azure.com")
    raw = _request("POST", INGEST, [("Authorization", auth), ("Transfer-Encoding", "chunked")], size_line + b"[]\r\n0\r\n\r\n")
    status, _, body, elapsed = _exchange(sock, raw)
    assert status == 400 and "chunk size" in body["error"]["message"] and elapsed < PROMPT
    assert _closed(sock)


def test_identical_content_length_values_are_one_length(azure, emu):
    """RFC 9110 §8.6: a list of identical values may be taken as one; the request then runs as usual."""
    rule = deploy(azure)
    path = f"/ingest/dcr/{rule.immutable_id}/dataCollectionRules/{rule.immutable_id}/streams/Custom-MyApp?api-version=2023-01-01"
    sock = _connect(emu)
    auth = _token(emu, seed.SENDER_APP_ID, "https://monitor.azure.com")
    row = b'[{"TimeGenerated":"2026-12-03T10:00:00Z","Message":"one length"}]'  # a pass-through row needs its TimeGenerated
    raw = _request("POST", path, [("Authorization", auth), ("Content-Length", str(len(row))),
                                  ("Content-Length", str(len(row))), ("Content-Type", "application/json")], row)
    status, headers, _, _ = _exchange(sock, raw)
    assert status == 204 and headers.get("connection") != "close"
    emu.running.wait_ingested()
    assert [r["Message"] for r in emu.rows("MyApp_CL")] == ["one length"]


@pytest.mark.parametrize("order", ["valid-first", "valid-last"])
def test_two_authorization_headers_are_refused(emu, order):
    valid = _token(emu, seed.DEPLOYER_APP_ID, "https://management.azure.com")
    forged = "Bearer not.a.token"
    pair = [valid, forged] if order == "valid-first" else [forged, valid]
    sock = _connect(emu)
    raw = _request("GET", f"{seed.WORKSPACE_ID}?api-version=2025-02-01", [("Authorization", a) for a in pair])
    status, headers, body, _ = _exchange(sock, raw)
    assert status == 400 and body["error"]["code"] == "BadRequest"
    assert "2 'Authorization' headers" in body["error"]["message"]
    assert headers.get("connection") != "close"  # no body was declared: the connection stays usable


def test_keep_alive_survives_a_read_body(emu):
    """A request whose body was read keeps the connection: the next request on it is answered."""
    sock = _connect(emu)
    form = f"grant_type=client_credentials&client_id={seed.DEPLOYER_APP_ID}&client_secret=wrong&scope=x".encode()
    raw = _request("POST", f"/{seed.TENANT_ID}/oauth2/v2.0/token",
                   [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(form)))], form)
    status, headers, _, _ = _exchange(sock, raw)
    assert status == 401 and headers.get("connection") != "close"
    status, _, _, _ = _exchange(sock, _request("GET", f"/{seed.TENANT_ID}/v2.0/.well-known/openid-configuration", []))
    assert status == 200


def _rss_bytes() -> int:
    """Resident memory of this process, which runs the in-process emulator's server threads too."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_streaming_200_mib_without_a_token_does_not_grow_server_memory(emu):
    """The upload is refused by its headers and cut off after a bounded drain; nothing of it is kept."""
    sock = _connect(emu)
    sock.settimeout(10)
    block = b"x" * MIB
    before = _rss_bytes()
    sent = 0
    try:
        sock.sendall(_request("POST", INGEST, [("Content-Length", str(200 * MIB))]))
        while sent < 200 * MIB:
            sock.sendall(block)
            sent += len(block)
    except (ConnectionError, ssl.SSLError, TimeoutError):
        pass
    grown = _rss_bytes() - before
    assert sent < 200 * MIB  # the server closed the connection instead of reading the whole body
    assert grown < 64 * MIB, f"server memory grew by {grown // MIB} MiB"


_LENGTHS = st.sampled_from(["0", "2", "-1", "abc", "", " 2", "2 ", "+2", "0x2", "2, 2", "2, 3", "99999999999999999999",
                            "1048577", "4194305", "\u0662"])
_CODINGS = st.sampled_from(["chunked", "Chunked", "gzip", "chunked, chunked", "gzip, chunked", "chunked, gzip", "identity"])
_CHUNKS = st.lists(st.sampled_from([b"2\r\n[]\r\n", b"0\r\n\r\n", b"zz\r\n", b"2;ext=1\r\n[]\r\n", b"2\r\n[]XX",
                                    b"fffff\r\n", b"\r\n", b"-1\r\n"]), max_size=4).map(b"".join)


@settings(max_examples=int(os.environ.get("PROVISION_FUZZ_EXAMPLES", "60")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lengths=st.lists(_LENGTHS, max_size=2), codings=st.lists(_CODINGS, max_size=2), body=_CHUNKS,
       authorized=st.booleans())
def test_any_framing_is_answered_promptly_and_never_500(emu, lengths, codings, body, authorized):
    headers = [("Content-Length", v) for v in lengths] + [("Transfer-Encoding", v) for v in codings]
    if authorized:
        headers.append(("Authorization", _token(emu, seed.SENDER_APP_ID, "https://monitor.azure.com")))
    sock = _connect(emu)
    sock.settimeout(0.5)  # refusals come in milliseconds; only a body still owed may keep the server waiting
    try:
        status, _, _, elapsed = _exchange(sock, _request("POST", INGEST, headers, body))
    except TimeoutError:
        # Only a well-framed body the client did not finish sending may wait; the server waits for its bytes.
        assert not codings or not lengths
        return
    finally:
        sock.close()
    assert status in (400, 401, 404, 413, 501) and elapsed < PROMPT
