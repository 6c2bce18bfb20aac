"""Emulator fixtures (owned by the emulator issue): a session emulator, reset per test, and SDK client builders.

- ``emulator`` (session): one ``Emulator`` with its state in a session tmp dir.
- ``emu`` (function): the same emulator, reset to the seeded state (resources, rows,
  call log, faults, knobs) before the test.
- ``azure`` (function): an ``AzureClients`` factory building the official SDK clients
  against ``emu`` the way sdk-notes.md §4.2-§4.4 says: credential with
  ``disable_instance_discovery=True`` and ``connection_verify=ca``; mgmt clients with
  ``base_url=emu.url, polling_interval=0, retry_total=0``.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from provision.emulator import Emulator, seed


class AzureClients:
    """Builds official SDK clients for one emulator. Identities: 'deployer', 'sender', 'nobody'."""

    SECRETS: ClassVar[dict[str, tuple[str, str]]] = {
        "deployer": (seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET),
        "sender": (seed.SENDER_APP_ID, seed.SENDER_SECRET),
        "nobody": (seed.NOBODY_APP_ID, seed.NOBODY_SECRET),
    }

    def __init__(self, emu: Emulator):
        self.emu = emu
        self.ca = str(emu.ca_path)

    def credential(self, who: str = "deployer", *, client_id: str | None = None, secret: str | None = None):
        from azure.identity import ClientSecretCredential

        app_id, app_secret = self.SECRETS[who]
        return ClientSecretCredential(seed.TENANT_ID, client_id or app_id, secret if secret is not None else app_secret,
                                      authority=self.emu.url, disable_instance_discovery=True, connection_verify=self.ca)

    def mgmt_kwargs(self, **extra) -> dict:
        return {"base_url": self.emu.url, "connection_verify": self.ca, "polling_interval": 0, "retry_total": 0, **extra}

    def monitor(self, who: str = "deployer", credential=None, **extra):
        from azure.mgmt.monitor import MonitorManagementClient

        return MonitorManagementClient(credential or self.credential(who), seed.SUBSCRIPTION_ID, **self.mgmt_kwargs(**extra))

    def loganalytics(self, who: str = "deployer", credential=None, **extra):
        from azure.mgmt.loganalytics import LogAnalyticsManagementClient

        return LogAnalyticsManagementClient(credential or self.credential(who), seed.SUBSCRIPTION_ID, **self.mgmt_kwargs(**extra))

    def authorization(self, who: str = "deployer", credential=None, **extra):
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(credential or self.credential(who), seed.SUBSCRIPTION_ID, **self.mgmt_kwargs(**extra))

    def ingestion(self, endpoint: str, who: str = "sender", credential=None, **extra):
        from azure.monitor.ingestion import LogsIngestionClient

        return LogsIngestionClient(endpoint, credential or self.credential(who), connection_verify=self.ca,
                                   **{"retry_total": 0, **extra})


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("emulator-state"))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emu(emulator):
    emulator.reset()
    return emulator


@pytest.fixture
def azure(emu):
    return AzureClients(emu)
