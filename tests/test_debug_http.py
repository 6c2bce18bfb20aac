"""``--debug`` / ``-v``: one stderr line per HTTP call, no credential in any of them; Azure errors carry the ids
and the time that Azure support asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = str(REPO / "scenarios" / "quickstart.yaml")
LINE = re.compile(r"^http: (GET|PUT|POST|PATCH|DELETE) https://127\.0\.0\.1:\d+/\S* -> \d{3} in \d+\.\d\d s( \(x-ms-request-id [0-9a-f-]+.*\))?$")


def invoke(emu, *args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env={**emu.env(), "PROVISION_CLOUD": "local", **(env or {})})


def secrets_of(emu) -> list[str]:
    env = emu.env()
    return [env["AZURE_CLIENT_SECRET"], env["PROVISION_LOCAL_SENDER_CLIENT_SECRET"], "Bearer", "eyJ", "client_secret", "assertion="]


@pytest.mark.parametrize("flag", ["--debug", "-v"])
def test_debug_prints_each_call_with_status_duration_and_request_id_and_no_secret(emu, flag):
    applied = invoke(emu, "apply", QUICKSTART, "--yes", flag)
    assert applied.exit_code == 0, applied.output
    lines = [line for line in applied.stderr.splitlines() if line.startswith("http: ")]
    assert lines and all(LINE.match(line) for line in lines), [line for line in lines if not LINE.match(line)]
    assert any("/oauth2/v2.0/token -> 200" in line for line in lines)  # the sign-in, too
    assert any(line.startswith("http: PUT ") and "/dataCollectionRules/dcr-quickstart?api-version=" in line for line in lines)
    assert len([line for line in lines if " PUT " in f" {line[6:]}"]) == len(emu.write_calls())  # one line per write
    sent = invoke(emu, "send", QUICKSTART, "--sample", 1, flag)
    assert sent.exit_code == 0, sent.output
    assert any("/streams/Custom-AppEventsRaw" in line and "-> 204" in line for line in sent.stderr.splitlines())
    for text in (applied.output, sent.output):
        for secret in secrets_of(emu):
            assert secret not in text


def test_without_debug_there_are_no_http_lines(emu):
    result = invoke(emu, "plan", QUICKSTART)
    assert result.exit_code == 0 and "http: " not in result.output


def test_provision_debug_and_azure_log_level_turn_them_on_too(emu):
    for env in ({"PROVISION_DEBUG": "1"}, {"AZURE_LOG_LEVEL": "debug"}):
        result = invoke(emu, "plan", QUICKSTART, env=env)
        assert result.exit_code == 0 and "http: GET https://127.0.0.1:" in result.stderr


def test_an_azure_error_names_operation_status_code_request_ids_and_time(emu, tmp_path):
    no_role = tmp_path / "no-role.yaml"
    no_role.write_text(Path(QUICKSTART).read_text().split("publishers:")[0])  # nobody gets the publisher role
    assert invoke(emu, "apply", no_role, "--yes").exit_code == 0
    sent = invoke(emu, "send", no_role, "--sample", 1)
    assert sent.exit_code == 1
    assert "sending to Custom-AppEventsRaw failed (HTTP 403" in sent.stderr
    ids = re.search(r"\n  x-ms-request-id ([0-9a-f-]{36}), x-ms-correlation-request-id ([0-9a-f-]{36}), "
                    r"at \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT \(quote these to Azure support\)", sent.stderr)
    assert ids, sent.stderr
