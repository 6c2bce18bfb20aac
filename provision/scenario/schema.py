"""The JSON Schema (draft 2020-12) of the scenario file, built from the loader's own key tables.

One source of truth: every mapping's keys come from the tuples ``provision.scenario.load`` checks
(``TOP_KEYS``, ``TABLE_KEYS``, ``RULE_KEYS``, ...), so a key added to the loader appears here with
no second edit (with a generic description until it gets a fragment in ``_FRAGMENTS``); the closed
values come from the same constants the rules use (``PLANS``, ``TABLE_TYPES``, ...).

What the schema accepts is what the user writes, before ``${VAR}`` substitution: wherever the loader
substitutes (every string value, and keys), a value holding a ``${...}`` expression is accepted in
place of the checked one. Spellings the loader normalises (column types and plans in any case) are
accepted in any case; the enums list the canonical spellings first, which is what editors complete.
The schema checks structure (keys, value types, closed values, GUID and id shapes); ``provision
validate`` checks everything else. Pure: no I/O (``provision schema`` prints it; the wheel ships a
copy, ``provision/data/scenario.schema.json``, kept equal by tests/test_schema.py).
"""

from __future__ import annotations

from typing import Any

from provision.scenario import load
from provision.scenario.model import ABSENT, PRESENT
from provision.scenario.types import STREAM_TYPES, TABLE_TYPES

SCHEMA_ID = "urn:provision-logs-ingestion:scenario-schema"  # an identifier, not a location: the schema ships in the wheel
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# A value still holding a variable: the loader substitutes it before checking (README §Variables).
VARIABLE: dict[str, Any] = {"type": "string", "pattern": r"\$\{", "description": "a ${VAR} or ${VAR:-default} expression"}
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def any_case(words) -> str:
    """An ECMA-262 pattern matching any of ``words`` in any letter case (JSON Schema has no 'i' flag)."""
    def one(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)

    return "^\\s*(" + "|".join(one(w) for w in words) + ")\\s*$"


def _closed(values, description: str, case_insensitive: bool = False, **extra) -> dict:
    """One of ``values`` (any case when the loader normalises it), or a variable."""
    options: list[dict] = [{"enum": list(values)}]
    if case_insensitive:
        options.append({"type": "string", "pattern": any_case(values)})
    return {"description": description, "anyOf": [*options, VARIABLE], **extra}


def _text(description: str, examples=None, nullable: bool = True, **extra) -> dict:
    """A scalar the loader reads as text (numbers are turned into text; true/false and mappings are WrongType)."""
    schema: dict[str, Any] = {"description": description, "type": ["string", "number", "null"] if nullable else ["string", "number"]}
    if examples:
        schema["examples"] = list(examples)
    return schema | extra


def _days(low: int, high: int, description: str) -> dict:
    return {"description": description, "anyOf": [{"type": "integer", "const": -1}, {"type": "integer", "minimum": low, "maximum": high},
                                                  {"type": "string", "pattern": r"^\s*-?\d+\s*$"}, VARIABLE, {"type": "null"}],
            "examples": [30]}


def _map_of(value: dict, description: str, keys: str = "") -> dict:
    schema: dict[str, Any] = {"description": description, "type": "object", "additionalProperties": value}
    if keys:
        schema["propertyNames"] = {"description": keys}
    return schema


def _object(keys: tuple[str, ...], section: str, partial: bool, required=(), description: str = "", **extra) -> dict:
    """A mapping whose keys are exactly the loader's ``keys`` for ``section`` (unknown keys are UnknownKey errors)."""
    properties = {key: _fragment(section, key, partial) for key in keys}
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if description:
        schema["description"] = description
    if required and not partial:
        schema["required"] = list(required)
    return schema | extra


_TAGS = {"description": "ARM tags: name -> text", "type": "object",
         "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}
_ENSURE = _closed((PRESENT, ABSENT), "present (default) or absent: absent marks it for deletion, the only way a plan deletes")
_TABLE_TYPE = _closed(TABLE_TYPES, "a table column type (any case: dateTime, datetime, DateTime ...)", case_insensitive=True,
                      examples=["string", "dateTime", "guid"])
_STREAM_TYPE = _closed(STREAM_TYPES, "a stream column type (no guid: declare it string and convert with toguid())", case_insensitive=True,
                       examples=["string", "datetime"])
_WORKSPACE_ID = ("^/[sS][uU][bB][sS][cC][rR][iI][pP][tT][iI][oO][nN][sS]/[^/]+/[rR][eE][sS][oO][uU][rR][cC][eE][gG][rR][oO][uU][pP][sS]/[^/]+"
                 "/[pP][rR][oO][vV][iI][dD][eE][rR][sS]/[mM][iI][cC][rR][oO][sS][oO][fF][tT]\\.[oO][pP][eE][rR][aA][tT][iI][oO][nN][aA][lL]"
                 "[iI][nN][sS][iI][gG][hH][tT][sS]/[wW][oO][rR][kK][sS][pP][aA][cC][eE][sS]/[^/]+/?$")


def _columns(partial: bool) -> dict:
    spec = {"anyOf": [_TABLE_TYPE, _object(load.COLUMN_KEYS, "column", partial, required=("type",),
                                           description="a column with a description: {type: real, description: ...}")]}
    return _map_of(spec, "column name -> type (or {type, description}); custom tables need TimeGenerated: datetime",
                   keys="letter first, then letters, digits or _ (2-45 characters)") | {"examples": [{"TimeGenerated": "datetime", "Message": "string"}]}


def _streams() -> dict:
    columns = _map_of(_STREAM_TYPE, "column name -> stream type")
    nested = {"type": "object", "properties": {"columns": columns}, "required": ["columns"], "additionalProperties": False,
              "description": "the DCR's own {columns: ...} nesting"}
    return _map_of({"anyOf": [columns, nested]}, "stream name (Custom-...) -> the columns the sender posts",
                   keys="Custom- followed by letters, digits, '-', '_' or '.'") | {"examples": [{"Custom-OrdersRaw": {"Time": "datetime"}}]}


def _publisher(partial: bool) -> dict:
    schema = _object(load.PUBLISHER_KEYS, "publisher", partial,
                     description="the identity that sends: exactly one of app_id, object_id or group_id")
    if not partial:
        one_of = [k for k in ("app_id", "object_id", "group_id") if k in load.PUBLISHER_KEYS]
        schema["oneOf"] = [{"required": [k], "not": {"anyOf": [{"required": [o]} for o in one_of if o != k]}} for k in one_of]
    return schema


def _scope_links(partial: bool) -> dict:
    link = _object(load.SCOPE_LINK_KEYS, "scope_link", partial, required=("scope",),
                   description="an association of the endpoint to an Azure Monitor private link scope")
    return {"type": "array", "items": {"anyOf": [{"type": "string"}, link]},
            "description": "Azure Monitor private link scopes the endpoint is associated with (a scope's name or ARM id, or "
                           "{scope, name, ensure})",
            "examples": [["ampls-prod"]]}


def _fragment(section: str, key: str, partial: bool) -> dict:
    """The schema of ``key`` in ``section``; a key the loader knows but this module does not yet describe is accepted as is."""
    make = _FRAGMENTS.get((section, key))
    if make is None:
        return {"description": f"'{key}' (see README.md §The scenario file)"}
    return make(partial)


def _or_null(schema: dict) -> dict:
    """An entry written with no body (``Orders_CL:``), which the loader reads as an empty mapping."""
    return {"anyOf": [schema, {"type": "null"}]}


def _guid(description: str) -> dict:
    return {"description": description, "anyOf": [{"type": "string", "pattern": _GUID}, VARIABLE],
            "examples": ["00000000-0000-4000-8000-000000000000"]}


def _flows(partial: bool) -> dict:
    flow = _object(load.FLOW_KEYS, "flow", partial, required=("table",),
                   description="stream(s) -> transform -> table; without stream, Custom-<table without _CL> is derived from the table")
    return {"type": "array", "items": flow, "description": "the rule's data flows (at most 10)",
            "examples": [[{"stream": "Custom-OrdersRaw", "table": "Orders_CL", "transform": "source | extend TimeGenerated = Time"}]]}


_FRAGMENTS: dict[tuple[str, str], Any] = {
    ("top", "name"): lambda p: _text("scenario name (default: the file name); names the files render writes", ["orders"]),
    ("top", "location"): lambda p: _text("Azure region of the DCR and DCE; must be the workspace's", ["westeurope"], nullable=p),
    ("top", "workspace"): lambda p: {"description": "the Log Analytics workspace's resource id",
                                     "anyOf": [{"type": "string", "pattern": _WORKSPACE_ID}, VARIABLE] + ([{"type": "null"}] if p else []),
                                     "examples": ["/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<ws>"]},
    ("top", "resource_group"): lambda p: _text("resource group where the DCR and DCE are created", ["rg-ingest"], nullable=p),
    ("top", "subscription"): lambda p: _text("subscription of the DCR and DCE (default: the workspace's)"),
    ("top", "tables"): lambda p: _map_of(_or_null(_object(load.TABLE_KEYS, "table", p, description="a _CL table, or a supported Azure table")),
                                         "table name -> table: Name_CL for custom tables, or a supported Azure table (Syslog, ...)",
                                         keys="Name_CL, or an Azure table name"),
    ("top", "endpoint"): lambda p: _object(load.ENDPOINT_KEYS, "endpoint", p, required=("name",), description="an optional data collection endpoint (DCE)"),
    ("top", "rules"): lambda p: _map_of(_or_null(_object(load.RULE_KEYS, "rule", p, description="one DCR (kind Direct)")), "DCR name -> rule",
                                        keys="1-64 letters, digits, '-', '_' or '.'"),
    ("top", "publishers"): lambda p: {"type": "array", "items": _publisher(p),
                                      "description": "identities that get Monitoring Metrics Publisher on the DCRs of the file (all, or their 'rules')"},
    ("top", "environments"): lambda p: _map_of(_or_null(_object(load.ENVIRONMENT_KEYS, "environment", True,
                                                                description="overrides: mappings merge key by key, other values replace")),
                                               "environment name -> overrides, chosen with --env NAME"),
    ("table", "plan"): lambda p: _closed(load.PLANS, "table plan (custom tables only)", case_insensitive=True, examples=["Analytics"]),
    ("table", "retention_days"): lambda p: _days(4, 730, "interactive retention in days: 4-730, or -1 for the workspace default"),
    ("table", "total_retention_days"): lambda p: _days(4, 4383, "total retention in days: 4-4383, or -1"),
    ("table", "description"): lambda p: _text("table description"),
    ("table", "columns"): _columns,
    ("table", "ensure"): lambda p: _ENSURE,
    ("column", "type"): lambda p: _TABLE_TYPE,
    ("column", "description"): lambda p: _text("column description"),
    ("endpoint", "name"): lambda p: _text("DCE name", ["dce-orders"], nullable=p),
    ("endpoint", "public_network_access"): lambda p: _closed(load.NETWORK_ACCESS, "Enabled (default) or Disabled", case_insensitive=True),
    ("endpoint", "description"): lambda p: _text("DCE description"),
    ("endpoint", "ensure"): lambda p: _ENSURE,
    ("endpoint", "private_link_scopes"): lambda p: _scope_links(p),
    ("scope_link", "scope"): lambda p: _text("the private link scope's name (in the scenario's resource group) or its ARM id",
                                             ["ampls-prod"], nullable=p),
    ("scope_link", "name"): lambda p: _text("the scoped resource's name (default: the endpoint's name)"),
    ("scope_link", "ensure"): lambda p: _ENSURE,
    ("rule", "description"): lambda p: _text("DCR description (at most 256 characters)"),
    ("rule", "streams"): lambda p: _streams(),
    ("rule", "flows"): _flows,
    ("rule", "ensure"): lambda p: _ENSURE,
    ("rule", "kind"): lambda p: _closed(load.RULE_KINDS, "Direct (default: the rule has its own ingestion endpoint) or none "
                                        "(senders use the DCE)", case_insensitive=True),
    ("rule", "tags"): lambda p: _TAGS,
    ("endpoint", "tags"): lambda p: _TAGS,
    ("endpoint", "kind"): lambda p: _text("the DCE's kind as Azure holds it (e.g. Linux, Windows); default: none"),
    ("flow", "stream"): lambda p: _text("input stream (declared under the rule's streams, or derived)", ["Custom-OrdersRaw"]),
    ("flow", "streams"): lambda p: {"description": "input streams", "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    ("flow", "table"): lambda p: _text("destination table", ["Orders_CL"], nullable=False),
    ("flow", "transform"): lambda p: _text("transformKql (default: source)", ["source | extend TimeGenerated = todatetime(Time)"]),
    ("publisher", "app_id"): lambda p: _guid("application (client) id; resolved to its service principal at apply time"),
    ("publisher", "object_id"): lambda p: _guid("service principal object id"),
    ("publisher", "group_id"): lambda p: _guid("Entra group object id: its members may send (principalType Group)"),
    ("publisher", "rules"): lambda p: {"type": "array", "items": {"type": "string"},
                                       "description": "the rules it may send to (default: every rule of the file)"},
    ("environment", "vars"): lambda p: _map_of({"type": ["string", "number", "boolean", "null"]}, "variables of this environment: NAME: value",
                                               keys="variable name"),
}
# an environment overrides any top-level key (partially), so its fragments are the top level's
for _key in load.TOP_KEYS:
    if _key != "environments":
        _FRAGMENTS.setdefault(("environment", _key), _FRAGMENTS.get(("top", _key), lambda p, k=_key: {"description": f"'{k}'"}))


def scenario_schema() -> dict:
    """The whole schema, as a JSON-ready dict."""
    top = _object(load.TOP_KEYS, "top", partial=False, required=load.REQUIRED_TOP)
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "provision scenario file",
        "description": "One Azure Monitor Logs Ingestion setup: tables, DCRs, an optional DCE, publishers, environments "
                       "(README.md §The scenario file). Generated by `provision schema`.",
        **top,
    }
