"""A group publisher through the az CLI against `provision emulator serve`: `ad group show` by id and by name,
`role assignment create` resolving the group's type with directoryObjects/getByIds, `role assignment list` naming
it, and ARM's UnmatchedPrincipalType for a wrong --assignee-principal-type. Needs the az CLI (as
tests/test_az_cli.py)."""

from __future__ import annotations

import pytest

from provision.emulator import seed
from tests.test_az_cli import AZ, REASON, Az, _serve

pytestmark = [pytest.mark.skipif(not AZ.is_file(), reason=REASON), pytest.mark.timeout(600)]

RG_ID = f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{seed.RESOURCE_GROUP}"
ROLE = "Monitoring Metrics Publisher"


@pytest.fixture
def served(tmp_path):
    yield from _serve(tmp_path, "--graph-roles", f"{seed.DEPLOYER_APP_ID}=Application.Read.All,Directory.Read.All")


def test_az_assigns_a_role_to_the_group_and_names_it(served, tmp_path):
    az = Az(tmp_path / "az", served["REQUESTS_CA_BUNDLE"])
    az.sign_in(served["PROVISION_LOCAL_URL"], seed.DEPLOYER_APP_ID, seed.DEPLOYER_SECRET)

    shown = az.json("ad", "group", "show", "--group", seed.SENDERS_GROUP_ID)
    assert (shown["id"], shown["displayName"]) == (seed.SENDERS_GROUP_ID, seed.SENDERS_GROUP_NAME)
    by_name = az.json("ad", "group", "show", "--group", seed.SENDERS_GROUP_NAME)  # a $filter on displayName
    assert by_name["id"] == seed.SENDERS_GROUP_ID

    # no principal type given: az asks getByIds what the object is
    created = az.json("role", "assignment", "create", "--assignee", seed.SENDERS_GROUP_ID, "--role", ROLE, "--scope", RG_ID)
    assert (created["principalId"], created["principalType"]) == (seed.SENDERS_GROUP_ID, "Group")
    listed = az.json("role", "assignment", "list", "--scope", RG_ID, "--role", ROLE)
    assert [(a["principalId"], a["principalType"], a["principalName"]) for a in listed] == [
        (seed.SENDERS_GROUP_ID, "Group", seed.SENDERS_GROUP_NAME)]

    refused = az.run("role", "assignment", "create", "--assignee-object-id", seed.PUBLISHERS_GROUP_ID,
                     "--assignee-principal-type", "ServicePrincipal", "--role", ROLE, "--scope", RG_ID, ok=False)
    assert refused.returncode != 0
    assert "(UnmatchedPrincipalType) The PrincipalId 'c5c5c5c5000040008000000000000005' has type 'Group' , which is " \
           "different from specified PrinciaplType 'ServicePrincipal'." in refused.stderr, refused.stderr
