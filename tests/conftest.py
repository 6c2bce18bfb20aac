"""Shared fixtures: environment isolation for every test.

No test may reach real Azure: AZURE_* and CA variables are cleared and proxies
point at a dead port, so an accidental call to login.microsoftonline.com,
management.azure.com or IMDS fails fast and locally (sdk-notes.md §4.4 item 9),
while 127.0.0.1 (the emulator) is reached directly.
Emulator fixtures live in tests/emulator_fixtures.py (registered below).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.emulator_fixtures"]

_CLEARED_PREFIXES = ("AZURE_", "PROVISION_", "MSAL_")
_CLEARED = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT", "GITHUB_OUTPUT")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    yield
