"""End-to-end scenario tests that run on the local Azure, or against a real subscription when asked.

Like moto's ``@aws_verified`` tests: the same test body checks the emulator by default and, with a switch, the real
service, so that a user with a subscription can see where the emulator and Azure differ.

- Default: ``--cloud local`` with a fresh state directory per test (nothing else needed; CI runs them so).
- Real Azure: ``PROVISION_TEST_CLOUD=public`` (or ``usgov``, ``china``) and
  - ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``: the deploying identity (Contributor and User
    Access Administrator, or Owner, on the resource group; Log Analytics Contributor on the workspace);
  - ``PROVISION_TEST_WORKSPACE``: the ARM id of a workspace the tests may add ``ProvisionTest<run>_CL`` tables to;
  - ``PROVISION_TEST_RESOURCE_GROUP`` (where the DCRs go) and ``PROVISION_TEST_LOCATION`` (the workspace's region);
  - ``PROVISION_TEST_SENDER_APP_ID`` and ``PROVISION_TEST_SENDER_SECRET``: an app registration the tests make the
    publisher, for the ``send`` step.
  Every name carries a run id, and what a test made is deleted at its end with the official SDK clients (role
  assignments, then the DCR, then the table), whether it passed or not.

Run against Azure: ``PROVISION_TEST_CLOUD=public ... python -m pytest -q tests/test_verified_e2e.py``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.emulator import seed

CLOUD = os.environ.get("PROVISION_TEST_CLOUD", "local")
REAL = CLOUD != "local"
REAL_SETTINGS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "PROVISION_TEST_WORKSPACE",
                 "PROVISION_TEST_RESOURCE_GROUP", "PROVISION_TEST_LOCATION", "PROVISION_TEST_SENDER_APP_ID",
                 "PROVISION_TEST_SENDER_SECRET")
if REAL and (missing := [name for name in REAL_SETTINGS if not os.environ.get(name)]):
    raise pytest.UsageError(f"PROVISION_TEST_CLOUD={CLOUD} needs {', '.join(missing)} (tests/test_verified_e2e.py)")

SCENARIO = """\
name: verified-{run}
location: ${{LOCATION}}
workspace: ${{WORKSPACE_ID}}
resource_group: ${{RESOURCE_GROUP}}
tables:
  {table}:
    plan: Analytics
    columns:
      TimeGenerated: datetime
      Message: string
{extra_column}rules:
  {rule}:
    streams:
      Custom-{stream}:
        Time: datetime
        Message: string
{extra_stream}    flows:
      - stream: Custom-{stream}
        table: {table}
        transform: source | extend TimeGenerated = Time | project-away Time
publishers:
  - app_id: ${{SENDER_APP_ID}}
"""


@dataclass
class Target:
    """Where the tests run: the command-line options and variables for one cloud, and what to clean up there."""

    options: list[str]
    env: dict[str, str]
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def table(self) -> str:
        return f"ProvisionTest{self.run}_CL"

    @property
    def rule(self) -> str:
        return f"dcr-provision-test-{self.run}"

    def scenario(self, folder: Path, extra_column: bool = False) -> Path:
        path = folder / f"verified-{self.run}.yaml"
        path.write_text(SCENARIO.format(
            run=self.run, table=self.table, rule=self.rule, stream=f"ProvisionTest{self.run}",
            extra_column="      Level: string\n" if extra_column else "",
            extra_stream="        Level: string\n" if extra_column else ""), encoding="utf-8")
        return path

    def invoke(self, *args: object):
        return CliRunner().invoke(app, [str(a) for a in args] + self.options, env=self.env)


def _local(tmp_path: Path) -> Target:
    env = {"PROVISION_CLOUD": "", "LOCATION": seed.LOCATION, "WORKSPACE_ID": seed.WORKSPACE_ID,
           "RESOURCE_GROUP": seed.RESOURCE_GROUP, "SENDER_APP_ID": seed.SENDER_APP_ID}
    return Target(["--cloud", "local", "--state", str(tmp_path / "state")], env)


def _real() -> Target:
    env = {"LOCATION": os.environ["PROVISION_TEST_LOCATION"], "WORKSPACE_ID": os.environ["PROVISION_TEST_WORKSPACE"],
           "RESOURCE_GROUP": os.environ["PROVISION_TEST_RESOURCE_GROUP"],
           "SENDER_APP_ID": os.environ["PROVISION_TEST_SENDER_APP_ID"],
           "PROVISION_SENDER_CLIENT_SECRET": os.environ["PROVISION_TEST_SENDER_SECRET"]}
    return Target(["--cloud", CLOUD], env)


def _clean_up(target: Target) -> None:
    """Delete what a test made on a real subscription, with the official SDK clients (not with our own code)."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient
    from azure.mgmt.monitor import MonitorManagementClient

    from provision.azure import CLOUDS
    from provision.resources import ResourceId

    profile = CLOUDS[CLOUD]
    credential = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
                                        os.environ["AZURE_CLIENT_SECRET"], authority=profile.authority)
    workspace = ResourceId.parse(target.env["WORKSPACE_ID"])
    group = target.env["RESOURCE_GROUP"]
    options = {"base_url": profile.arm, "credential_scopes": [profile.arm_scope]}
    monitor = MonitorManagementClient(credential, workspace.subscription, **options)
    try:
        rule = monitor.data_collection_rules.get(group, target.rule)
    except Exception:
        rule = None
    if rule is not None:
        authorization = AuthorizationManagementClient(credential, workspace.subscription, **options)
        for assignment in authorization.role_assignments.list_for_scope(rule.id, filter="atScope()"):
            authorization.role_assignments.delete_by_id(assignment.id)
        monitor.data_collection_rules.delete(group, target.rule)
    tables = LogAnalyticsManagementClient(credential, workspace.subscription, **options).tables
    try:
        tables.begin_delete(workspace.resource_group, workspace.name, target.table).result()
    except Exception:
        pass


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    if not REAL:
        yield _local(tmp_path)
        return
    made = _real()
    try:
        yield made
    finally:
        _clean_up(made)


def test_apply_then_plan_is_empty_and_the_publisher_can_send(target: Target, tmp_path: Path):
    scenario = target.scenario(tmp_path)
    applied = target.invoke("apply", scenario, "--yes")
    assert applied.exit_code == 0, applied.output
    again = target.invoke("plan", scenario, "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # 0: no changes
    outputs = target.invoke("outputs", scenario, "--format", "json")
    assert outputs.exit_code == 0, outputs.output
    rules = json.loads(outputs.stdout)["rules"]
    assert rules[target.rule]["immutable_id"].startswith("dcr-")
    sent = target.invoke("send", scenario, "--sample", 3, "--wait", 300)
    assert sent.exit_code == 0, sent.output


def test_a_schema_change_is_planned_applied_and_then_empty(target: Target, tmp_path: Path):
    assert target.invoke("apply", target.scenario(tmp_path), "--yes").exit_code == 0
    changed = target.scenario(tmp_path, extra_column=True)
    planned = target.invoke("plan", changed, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output  # 2: changes
    assert f"~ update table {target.table}" in planned.output and "Level" in planned.output
    assert target.invoke("apply", changed, "--yes").exit_code == 0
    assert target.invoke("plan", changed, "--detailed-exitcode").exit_code == 0
