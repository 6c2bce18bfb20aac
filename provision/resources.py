"""The typed resource every layer below the CLI passes on, and the one parser and formatter of ARM ids.

``Resource`` is what render produces, plan compares and apply executes: its kind, ARM id,
exact request body, api-version and the ids it depends on. Role assignments also carry who
and where (``rule``, ``scope``, ``app_id``, ``principal_id``), which plan labels and the ARM
template renderer use. ``ResourceId`` parses and formats the ARM ids of the kinds this tool
manages (azure-contract.md §1: ids compare case-insensitively). Pure: no network, no SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from provision.scenario.model import ABSENT, PRESENT


class Kind(StrEnum):
    """What a resource is; the values are the names plans, JSON output and file names use."""

    TABLE = "table"
    MIGRATION = "migration"  # POST .../tables/{name}/migrate of a classic table (`migrate: true`); no body
    ENDPOINT = "endpoint"
    RULE = "rule"
    ROLE_ASSIGNMENT = "role_assignment"
    # a DCE's association to an Azure Monitor private link scope: .../privateLinkScopes/{scope}/scopedResources/{name}
    SCOPED_RESOURCE = "scoped_resource"
    WORKSPACE = "workspace"  # read, never written
    PRIVATE_LINK_SCOPE = "private_link_scope"  # read (a scoped resource's parent must exist), never written

    @property
    def rank(self) -> int:
        """Apply order: tables -> DCE -> its private link scope links and DCRs -> role assignments (deletes run the
        other way)."""
        return _RANKS[self]

    @property
    def label(self) -> str:
        return _LABELS.get(self, self.value.replace("_", " "))


_RANKS = {Kind.WORKSPACE: -1, Kind.PRIVATE_LINK_SCOPE: -1, Kind.MIGRATION: 0, Kind.TABLE: 0, Kind.ENDPOINT: 1,
          Kind.SCOPED_RESOURCE: 2, Kind.RULE: 2, Kind.ROLE_ASSIGNMENT: 3}

# what a plan reader understands better than Azure's type name ("scopedResources")
_LABELS = {Kind.SCOPED_RESOURCE: "private link scope association"}

_ROLE_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


@dataclass(frozen=True)
class ResourceId:
    """The parts of an ARM id that the SDK calls take.

    ``scope`` is set for extension resources (role assignments: the resource they are
    assigned on); ``parent`` is the parent resource's name for child resources (a table's
    workspace). ``format()`` gives the id back exactly as parsed.
    """

    subscription: str
    resource_group: str
    name: str
    parent: str = ""
    scope: str = ""
    text: str = ""

    @classmethod
    def parse(cls, resource_id: str) -> ResourceId:
        """Raises ValueError when ``resource_id`` is not a subscription-scoped ARM id."""
        parts = resource_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if len(parts) < 2 or lowered[0] != "subscriptions" or not parts[1]:
            raise ValueError(f"not an ARM resource id: {resource_id!r} (expected /subscriptions/<sub>/...)")
        group = parts[3] if len(parts) > 3 and lowered[2] == "resourcegroups" else ""
        position = resource_id.lower().find(_ROLE_ASSIGNMENTS)
        if position >= 0:
            return cls(parts[1], group, parts[-1], scope=resource_id[:position], text=resource_id)
        parent = parts[lowered.index("workspaces") + 1] if "tables" in lowered and "workspaces" in lowered else ""
        if parent and lowered[-1] == "migrate" and len(parts) >= 2 and lowered[-3] == "tables":
            return cls(parts[1], group, parts[-2], parent=parent, text=resource_id)  # a table's migrate action
        return cls(parts[1], group, parts[-1], parent=parent, text=resource_id)

    def format(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    # -- the ids this tool addresses ----------------------------------------------------

    @classmethod
    def workspace(cls, subscription: str, resource_group: str, name: str) -> ResourceId:
        return cls.parse(f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
                       f"/providers/Microsoft.OperationalInsights/workspaces/{name}")

    @classmethod
    def table(cls, workspace_id: str, name: str) -> ResourceId:
        return cls.parse(f"{workspace_id.rstrip('/')}/tables/{name}")

    @classmethod
    def migration(cls, workspace_id: str, name: str) -> ResourceId:
        """The migrate action of a table: ``<table id>/migrate`` (its ``name`` is the table's, ``parent`` the
        workspace's)."""
        table = cls.table(workspace_id, name)
        return cls(table.subscription, table.resource_group, name, parent=table.parent, text=f"{table.text}/migrate")

    @classmethod
    def rule(cls, subscription: str, resource_group: str, name: str) -> ResourceId:
        return cls._insights(subscription, resource_group, "dataCollectionRules", name)

    @classmethod
    def endpoint(cls, subscription: str, resource_group: str, name: str) -> ResourceId:
        return cls._insights(subscription, resource_group, "dataCollectionEndpoints", name)

    @classmethod
    def private_link_scope(cls, subscription: str, resource_group: str, name: str) -> ResourceId:
        return cls._insights(subscription, resource_group, "privateLinkScopes", name)

    @classmethod
    def scoped_resource(cls, scope_id: str, name: str) -> ResourceId:
        return cls.parse(f"{scope_id.rstrip('/')}/scopedResources/{name}")

    @classmethod
    def role_assignment(cls, scope: str, name: str) -> ResourceId:
        return cls.parse(f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}")

    @classmethod
    def role_definition(cls, subscription: str, role_guid: str) -> str:
        """A role definition's id (subscription form); ARM answers with the tenant form (azure-contract.md §6.1)."""
        return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"

    @classmethod
    def _insights(cls, subscription: str, resource_group: str, kind: str, name: str) -> ResourceId:
        return cls.parse(f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Insights/{kind}/{name}")


def workspace_parts(workspace_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, workspace name) of a workspace ARM id.

    Raises ValueError when the id is not a workspace id.
    """
    parts = workspace_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if (
        len(parts) != 8
        or lowered[0] != "subscriptions"
        or lowered[2] != "resourcegroups"
        or lowered[4] != "providers"
        or lowered[5] != "microsoft.operationalinsights"
        or lowered[6] != "workspaces"
    ):
        raise ValueError(
            "not a workspace resource id: expected /subscriptions/<sub>/resourceGroups/<rg>"
            "/providers/Microsoft.OperationalInsights/workspaces/<name>"
        )
    return parts[1], parts[3], parts[7]


@dataclass(frozen=True)
class Resource:
    """One Azure resource to PUT. ``body`` is the exact JSON; ``depends_on`` holds the ids that must exist first.

    ``unresolved``: a role assignment whose publisher is an ``app_id`` not yet mapped to its
    service principal's object id; its principalId and name are placeholders. ``ensure ==
    "absent"``: marked for removal (``body`` is empty). Role assignments name their ``rule``,
    ``scope``, ``app_id`` and resolved ``principal_id``; a scoped resource's ``scope`` is its private
    link scope's id.
    """

    kind: Kind
    name: str
    id: str
    body: dict
    api_version: str
    depends_on: tuple[str, ...] = ()
    unresolved: bool = False
    ensure: str = PRESENT
    rule: str | None = None
    scope: str | None = None
    app_id: str | None = None
    principal_id: str | None = None
    _arm_id: list = field(default_factory=list, compare=False, repr=False)  # parse cache (the dataclass is frozen)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def arm_id(self) -> ResourceId:
        if not self._arm_id:
            self._arm_id.append(ResourceId.parse(self.id))
        return self._arm_id[0]

    @property
    def absent(self) -> bool:
        return self.ensure == ABSENT

    def to_dict(self) -> dict:
        out: dict[str, object] = {"kind": self.kind.value, "name": self.name, "id": self.id, "api_version": self.api_version,
               "ensure": self.ensure, "depends_on": list(self.depends_on), "body": self.body}
        if self.kind == Kind.ROLE_ASSIGNMENT:
            out.update(rule=self.rule, scope=self.scope, app_id=self.app_id, principal_id=self.principal_id,
                       unresolved=self.unresolved)
        return out
