"""The typed scenario model: what a scenario file means after variables and environments are resolved.

Pure data (frozen dataclasses). ``line`` fields are 1-based lines in the
scenario file, kept so later checks (KQL, live state) can point at the file.
Column and stream types are normalised: table types use the Log Analytics
spellings (``string int long real boolean dateTime guid dynamic``), stream types
the DCR spellings (``string int long real boolean datetime dynamic``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRESENT = "present"
ABSENT = "absent"  # marked for removal: the only way plan emits `delete`


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # table spelling
    description: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    plan: str | None = None  # Analytics | Basic | Auxiliary (custom tables only); None = service default
    retention_days: int | None = None
    total_retention_days: int | None = None
    description: str = ""
    ensure: str = PRESENT
    line: int | None = None
    lines: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # key -> line in the file
    # `migrate: true`: a classic (Data Collector API) table is to be migrated in place before anything writes to it
    migrate: bool = False
    workspace: str = ""  # ARM id of the workspace holding the table ("": the scenario's)

    @property
    def is_custom(self) -> bool:
        return self.name.endswith("_CL")

    @property
    def output_stream(self) -> str:
        return f"Custom-{self.name}" if self.is_custom else f"Microsoft-{self.name}"


@dataclass(frozen=True)
class StreamColumn:
    name: str
    type: str  # stream spelling
    line: int | None = None


@dataclass(frozen=True)
class Flow:
    streams: tuple[str, ...]
    table: str
    output_stream: str
    transform: str = "source"
    derived_stream: bool = False  # the stream was derived from the table (the tool says so)
    line: int | None = None
    transform_line: int | None = None  # line where the transform text starts
    transform_column: int | None = None  # column (1-based) where the transform text starts on that line
    transform_shift: int = 0  # characters the tool inserted before the user's text on the transform's first line
    transform_insert_at: int = 0  # offset in ``transform`` where those inserted characters start
    # file (line, column) of each character of the user's transform text (spec/positions.py); None when unknown
    transform_positions: tuple | None = field(default=None, compare=False, repr=False)
    index: int = 0  # position in the rule's flows (0-based)
    destinations: tuple[str, ...] = ()  # names of the rule's destinations this flow writes to

    @property
    def user_transform(self) -> str:
        """The transform as the user wrote it: without the ``toguid()`` extend the tool inserted."""
        if not self.transform_shift:
            return self.transform
        at = self.transform_insert_at
        return self.transform[:at] + self.transform[at + self.transform_shift:]


@dataclass(frozen=True)
class Rule:
    name: str
    streams: dict[str, tuple[StreamColumn, ...]]  # declared + derived, in order
    flows: tuple[Flow, ...]
    description: str = ""
    ensure: str = PRESENT
    line: int | None = None
    derived_streams: tuple[str, ...] = ()  # stream names the tool derived from a table
    lines: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # key or "stream:<name>" -> line
    kind: str | None = "Direct"  # None: no kind (the rule has no endpoint of its own; a DCE is required)
    tags: dict[str, str] = field(default_factory=dict)
    # Log Analytics destinations, name -> workspace ARM id, in order (the loader fills the default one)
    destinations: dict[str, str] = field(default_factory=dict)
    identity: dict | None = None  # the ARM identity block: {type, userAssignedIdentities?}


@dataclass(frozen=True)
class ScopeLink:
    """The endpoint's association to an Azure Monitor private link scope: the scope's ``scopedResources`` child
    that links the DCE (privateLinkScopes_API.json 2023-06-01-preview; azure-contract.md §4)."""

    scope: str  # the scope's name (in the scenario's resource group) or its ARM id, as written
    name: str | None = None  # the scoped resource's name; None: the endpoint's name
    ensure: str = PRESENT
    line: int | None = None


@dataclass(frozen=True)
class Endpoint:
    name: str
    public_network_access: str = "Enabled"
    description: str = ""
    ensure: str = PRESENT
    line: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kind: str | None = None  # the DCE's kind as Azure holds it (Linux, Windows, Logs ...); None: no kind
    private_link_scopes: tuple[ScopeLink, ...] = ()


@dataclass(frozen=True)
class Publisher:
    app_id: str | None = None
    object_id: str | None = None
    line: int | None = None
    group_id: str | None = None  # an Entra group's object id (principalType Group)
    rules: tuple[str, ...] | None = None  # the rules it may send to (None: all)

    @property
    def key(self) -> str:
        return self.object_id or self.group_id or self.app_id or ""

    @property
    def principal_type(self) -> str:
        return "Group" if self.group_id else "ServicePrincipal"

    def sends_to(self, rule: str) -> bool:
        return self.rules is None or rule in self.rules


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    location: str
    workspace: str  # ARM id
    subscription: str
    resource_group: str
    tables: dict[str, Table] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    publishers: tuple[Publisher, ...] = ()
    environment: str | None = None
    notes: tuple[str, ...] = ()  # what the tool changed or derived, said to the user
    lines: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # top-level key -> line
    # the file's text as the loader read it, so diagnostics can quote a line without reading the file again
    source_lines: tuple[str, ...] = field(default=(), compare=False, hash=False, repr=False)
    # the offline rules' warnings (set by require_valid), so that plan shows them in every format
    warnings: tuple = field(default=(), compare=False, hash=False, repr=False)
    # "where.key" paths (``tables.T.columns``) of keys an UnknownKey probably meant: the rules do not report
    # what the misspelling left missing (one clear error per mistake, issue 14)
    misspelt: frozenset[str] = field(default=frozenset(), compare=False, hash=False, repr=False)

    @property
    def workspace_name(self) -> str:
        return self.workspace.rstrip("/").rsplit("/", 1)[-1]
