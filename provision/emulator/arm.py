"""ARM conventions shared by the resource models: api-versions per type, ids, envelopes, timestamps.

Sources: azure-contract.md §0-§1 (api-version rules, error texts, 404 texts),
the api-versions the official SDKs send (azure-mgmt-monitor 7: 2023-03-11;
azure-mgmt-loganalytics 14: 2025-07-01; azure-mgmt-authorization 4: 2022-04-01,
older profiles 2015-07-01/2018-01-01-preview/2018-09-01-preview/2020-04-01-preview)
and those in the stored specs (DCR/DCE 2024-03-11, Tables 2025-02-01/2025-07-01).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

from provision.emulator import errors, seed

RESOURCES_API_VERSIONS = (
    "2016-02-01", "2017-05-10", "2018-02-01", "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10", "2019-07-01",
    "2019-08-01", "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01",
    "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01")

# resource type -> accepted api-versions
API_VERSIONS: dict[str, tuple[str, ...]] = {
    "Microsoft.Insights/dataCollectionRules": ("2021-04-01", "2021-09-01-preview", "2022-06-01", "2023-03-11", "2024-03-11"),
    "Microsoft.Insights/dataCollectionEndpoints": ("2021-04-01", "2021-09-01-preview", "2022-06-01", "2023-03-11", "2024-03-11"),
    "Microsoft.OperationalInsights/workspaces/tables": (
        "2020-08-01", "2021-12-01-preview", "2022-10-01", "2023-09-01", "2025-02-01", "2025-07-01"),
    "Microsoft.OperationalInsights/workspaces": (
        "2020-08-01", "2020-10-01", "2021-06-01", "2021-12-01-preview", "2022-10-01", "2023-09-01", "2025-02-01", "2025-07-01"),
    "Microsoft.OperationalInsights/locations/operationStatuses": (
        "2020-08-01", "2020-10-01", "2021-06-01", "2021-12-01-preview", "2022-10-01", "2023-09-01", "2025-02-01", "2025-07-01"),
    "Microsoft.Authorization/roleAssignments": (
        "2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview", "2020-10-01-preview", "2022-04-01"),
    "Microsoft.Authorization/roleDefinitions": ("2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview"),
    # Every stable Microsoft.Resources "resources" version in Azure/azure-rest-api-specs (specification/resources/
    # resource-manager/Microsoft.Resources/resources/stable/*; the saved one is 2025-04-01): the az CLI sends 2024-11-01,
    # azure-mgmt-resource 24 sends 2025-04-01 (issue 11). Providers_Get is in the same document.
    "Microsoft.Resources/resourceGroups": RESOURCES_API_VERSIONS,
    "Microsoft.Resources/providers": RESOURCES_API_VERSIONS,
    # Every stable Microsoft.Resources "subscriptions" version (.../Microsoft.Resources/subscriptions/stable/*; the saved
    # one is 2022-12-01, which az and azure-mgmt-resource send); Tenants_List is in the same document.
    "Microsoft.Resources/subscriptions": (
        "2015-11-01", "2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01"),
    "Microsoft.Resources/tenants": (
        "2015-11-01", "2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01"),
}

# Types served whose provider metadata (providers.py) the emulator does not list: the provider documents describe
# the DCR, DCE and table types that `az` and the tool resolve versions for; these are reached by fixed versions.
UNLISTED_API_VERSIONS: dict[str, tuple[str, ...]] = {
    # The stored spec's version (privateLinkScopes_API.json, the newest; there is no stable one), and the one the az
    # CLI's `monitor private-link-scope` commands send (azure-cli aaz: 2019-10-17-preview), in its own shape.
    "Microsoft.Insights/privateLinkScopes": ("2019-10-17-preview", "2023-06-01-preview"),
    # Only the stored spec's version (OnboardingStates.json, the newest stable); older ones are not emulated.
    "Microsoft.SecurityInsights/onboardingStates": ("2025-09-01",),
}

INGESTION_API_VERSIONS = ("2021-11-01-preview", "2023-01-01")


def check_api_version(query: dict[str, str], rtype: str, location: str = seed.LOCATION) -> str:
    """The request's api-version, or MissingApiVersionParameter / NoRegisteredProviderFound (azure-contract.md §1)."""
    version = query.get("api-version")
    if not version:
        raise errors.MissingApiVersionParameter("The api-version query parameter (?api-version=) is required for all requests.")
    supported = API_VERSIONS.get(rtype) or UNLISTED_API_VERSIONS[rtype]
    if version not in supported:
        raise errors.NoRegisteredProviderFound(
            f"No registered resource provider found for location '{location}' and API version '{version}' for type "
            f"'{rtype.split('/', 1)[1]}'. The supported api-versions are '{', '.join(supported)}'. "
            f"The supported locations are '{seed.LOCATION}, {seed.OTHER_WORKSPACE_LOCATION}'."
        )
    return version


def check_plain_api_version(query: dict[str, str], supported: tuple[str, ...]) -> str:
    """The request's api-version for a service outside ARM's providers (the ingestion data plane, the cloud
    metadata document): MissingApiVersionParameter, or InvalidApiVersionParameter naming the supported ones."""
    version = query.get("api-version")
    if not version:
        raise errors.MissingApiVersionParameter("The api-version query parameter (?api-version=) is required for all requests.")
    if version not in supported:
        raise errors.InvalidApiVersionParameter(
            f"The api-version '{version}' is invalid. The supported versions are '{', '.join(supported)}'.")
    return version


def now_iso(stamp: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if stamp is None else stamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def normalize_location(location: str) -> str:
    """'West Europe' and 'westeurope' are the same region to ARM."""
    return re.sub(r"\s+", "", str(location)).lower()


def new_etag() -> str:
    """Quoted, as the real service returns it (azure-contract.md §1 ETag note)."""
    return f'"{uuid.uuid4()}"'


def system_data(caller_app: str, created: dict | None = None) -> dict:
    stamp = now_iso()
    base = created or {"createdBy": caller_app, "createdByType": "Application", "createdAt": stamp}
    return {**{k: base[k] for k in ("createdBy", "createdByType", "createdAt") if k in base},
            "lastModifiedBy": caller_app, "lastModifiedByType": "Application", "lastModifiedAt": stamp}


def not_found(namespace_type: str, name: str, resource_group: str) -> errors.ServiceError:
    return errors.ResourceNotFound(
        f"The Resource '{namespace_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )


def parent_not_found(parent: str) -> errors.ServiceError:
    return errors.ParentResourceNotFound(
        f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found."
    )


# ARM resource-name patterns for the tracked resources we host.
# The DCR and DCE API documents give no pattern; docs/emulator.md "Resource names" says what this is and why.
_TRACKED_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.()-]{0,62}[A-Za-z0-9_()-])?\Z")
NAME_PATTERNS = {
    "Microsoft.Insights/dataCollectionRules": _TRACKED_NAME,
    "Microsoft.Insights/dataCollectionEndpoints": _TRACKED_NAME,
}
# common-types v5 ResourceGroupNameParameter, plus resource-name-rules' "Can't end with period"
RESOURCE_GROUP_PATTERN = re.compile(r"^[-\w.()]{0,89}[-\w()]\Z")
