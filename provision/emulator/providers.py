"""Resource provider metadata (``GET /subscriptions/{sub}/providers/{namespace}``), built from arm.API_VERSIONS.

What a client reads it for: the az CLI's ``az resource show --ids <id>`` (and ``az resource list``) asks the
provider of the resource's namespace for the resource type's ``apiVersions`` and sends the first one that is not
a preview (azure-cli ``resource/custom.py``, ``_ResourceUtils.resolve_api_version``), so the list is newest first,
as ARM returns it, and every version in it is one the emulator accepts for that type. The shape is the
``Provider`` definition of Microsoft.Resources resources 2025-04-01 (its ``GetProvider`` example): ``id``,
``namespace``, ``registrationState``, ``registrationPolicy``, ``resourceTypes`` with ``resourceType``,
``locations`` (display names), ``apiVersions``. Pure: no I/O.
"""

from __future__ import annotations

from provision.emulator import arm, errors, seed

# The namespaces the emulator hosts, in ARM's canonical spelling (a request may use any case).
NAMESPACES = ("Microsoft.Authorization", "Microsoft.Insights", "Microsoft.OperationalInsights", "Microsoft.Resources")
# Regions where the tracked resources live, by display name as ARM lists them (seed.LOCATION, OTHER_WORKSPACE_LOCATION).
LOCATIONS = ("West Europe", "East US")
# Types that are not regional: ARM lists no locations for them (the Authorization types, subscriptions, tenants).
_GLOBAL = {"microsoft.authorization/roleassignments", "microsoft.authorization/roledefinitions",
           "microsoft.resources/subscriptions", "microsoft.resources/tenants"}
# arm.API_VERSIONS keys that are operations of a provider rather than resource types of it.
_NOT_TYPES = {"microsoft.resources/providers"}


class InvalidResourceNamespace(errors.ServiceError):
    """ARM's answer for a namespace it has no provider for ("The resource namespace 'x' is invalid.")."""

    code = "InvalidResourceNamespace"
    status = 404


def _descending(versions: tuple[str, ...]) -> list[str]:
    """Newest first; a preview sorts after the stable version of the same date, as ARM lists them."""
    return sorted(versions, key=lambda v: (v[:10], "-preview" not in v), reverse=True)


def resource_types(namespace: str) -> list[dict]:
    prefix = namespace.lower() + "/"
    out = []
    for rtype, versions in arm.API_VERSIONS.items():
        key = rtype.lower()
        if not key.startswith(prefix) or key in _NOT_TYPES:
            continue
        out.append({"resourceType": rtype.split("/", 1)[1],
                    "locations": [] if key in _GLOBAL else list(LOCATIONS),
                    "apiVersions": _descending(versions),
                    "capabilities": "None" if key in _GLOBAL else "SupportsTags, SupportsLocation"})
    return out


def canonical(namespace: str) -> str:
    """The namespace as ARM spells it; InvalidResourceNamespace for one the emulator does not host."""
    for known in NAMESPACES:
        if known.lower() == namespace.lower():
            return known
    raise InvalidResourceNamespace(f"The resource namespace '{namespace}' is invalid.")


def provider(namespace: str, subscription: str = seed.SUBSCRIPTION_ID) -> dict:
    name = canonical(namespace)
    return {"id": f"/subscriptions/{subscription}/providers/{name}", "namespace": name,
            "registrationState": "Registered", "registrationPolicy": "RegistrationRequired",
            "resourceTypes": resource_types(name)}
