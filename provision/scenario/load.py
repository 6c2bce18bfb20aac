"""Scenario file -> ``Scenario``: YAML with lines, environments, variables, normalised types, derived streams.

``load_scenario`` never raises for bad input: every structural problem (malformed
YAML, unknown or missing keys, wrong value types, unresolved variables, unknown
environment) becomes a ``Diagnostic`` with file and line. The semantic rules
(names, limits, stream/table agreement) live in ``provision.scenario.rules``.

Order of work: parse -> pick the environment -> overlay its keys on the top level
(mappings merge key by key, anything else is replaced) -> substitute ``${VAR}``
(``--var``, then the environment's ``vars``, then the process environment) ->
build the typed model.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from provision.armnames import NameKind
from provision.diagnostics import ERROR, Diagnostic
from provision.resources import workspace_parts
from provision.scenario import tables as catalogue
from provision.scenario.model import ABSENT, PRESENT, Column, Endpoint, Flow, Publisher, Rule, Scenario, ScopeLink, StreamColumn, Table
from provision.scenario.names import report_arm_name
from provision.scenario.positions import string_positions
from provision.scenario.types import normalise_stream_type, normalise_table_type, stream_type_for_table_type
from provision.scenario.variables import VariableSyntax, VariableValue, chain_lookup, has_variables, substitute
from provision.scenario.yamlsrc import SOURCE_YAML, YList, YMap, YStr, line_of, parse_yaml
from provision.secrets import is_secret_variable, readable

SRC_README = "README.md §Scenario file"
MAX_FILE_BYTES = 1024 * 1024  # scenario files are kilobytes; a 1 MiB file already takes ~2.5 s and ~140 MB to check

TOP_KEYS = ("name", "location", "workspace", "resource_group", "subscription", "tables", "endpoint", "rules", "publishers", "environments")
REQUIRED_TOP = ("location", "workspace", "resource_group")
TABLE_KEYS = ("plan", "retention_days", "total_retention_days", "description", "columns", "ensure", "migrate", "workspace")
COLUMN_KEYS = ("type", "description")
ENDPOINT_KEYS = ("name", "public_network_access", "description", "ensure", "tags", "kind", "private_link_scopes")
SCOPE_LINK_KEYS = ("scope", "name", "ensure")
RULE_KEYS = ("description", "streams", "flows", "ensure", "kind", "tags", "destinations", "identity")
FLOW_KEYS = ("stream", "streams", "table", "transform", "destinations")
PUBLISHER_KEYS = ("app_id", "object_id", "group_id", "rules")
ENVIRONMENT_KEYS = tuple(k for k in TOP_KEYS if k != "environments") + ("vars",)
PLANS = ("Analytics", "Basic", "Auxiliary")
NETWORK_ACCESS = ("Enabled", "Disabled")
RULE_KINDS = ("Direct", "none")  # none: no kind, the rule is reached through its DCE
IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")  # [SPEC-DCR] identity (ARM common types)
DEFAULT_DESTINATION = "workspace"  # the Log Analytics destination name when a rule names none

_INT = re.compile(r"^-?\d+$")
_SOURCE_HEAD = re.compile(r"^(\s*source\b)")


def load_scenario(path, env: str | None = None, variables: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None):
    """Parse and resolve a scenario file. Returns (Scenario or None, diagnostics); never raises for bad input."""
    return _Loader(path, env, variables, os.environ if environ is None else environ).run()


class _Loader:
    """One load: collects diagnostics while walking the file."""

    def __init__(self, path, env, variables, environ):
        self.path = Path(path)
        self.file = str(path)
        self.env = env
        self.variables = dict(variables or {})
        self.secret_names = {k for k in environ if is_secret_variable(k)}  # set, but not for scenarios (secrets.py)
        self.environ = readable(environ)
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[str] = []
        self.text_lines: list[str] = []
        self.env_vars: dict[str, str] = {}
        # "where.key" of known keys an UnknownKey probably meant: what they leave missing is not reported again
        self.misspelt: set[str] = set()

    # -- reporting -------------------------------------------------------
    def error(self, code: str, message: str, line: int | None, fix: str = "", source: str = SRC_README) -> None:
        self.diagnostics.append(Diagnostic(ERROR, code, message, fix=fix, file=self.file, line=line, source=source))

    # -- pipeline ----------------------------------------------------------
    def run(self):
        try:
            size = self.path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.error("FileTooLarge", f"'{self.file}' is {size:,} bytes; scenario files are at most {MAX_FILE_BYTES:,}", None,
                           fix="split it into one scenario per environment or workload (a 500-column table takes about 20 KB)")
                return None, self.diagnostics
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.error("FileNotFound", f"scenario file '{self.file}' does not exist", None, fix="check the path")
            return None, self.diagnostics
        except IsADirectoryError:
            self.error("FileUnreadable", f"'{self.file}' is a folder, not a scenario file", None, fix="pass the path of a .yaml file, e.g. scenarios/quickstart.yaml")
            return None, self.diagnostics
        except UnicodeDecodeError as error:
            line = self.path.read_bytes()[: error.start].count(b"\n") + 1
            self.error("FileUnreadable", f"'{self.file}' is not UTF-8 text (byte {error.start} on line {line})", line, fix="save the file as UTF-8 text")
            return None, self.diagnostics
        except OSError as error:
            self.error("FileUnreadable", f"cannot read '{self.file}': {error}", None, fix="save the file as UTF-8 text and check its permissions")
            return None, self.diagnostics
        self.text_lines = text.splitlines()
        document, problems = parse_yaml(text, self.file)
        self.diagnostics += problems
        if document is None:
            if not problems:
                self.error("EmptyScenario", "the scenario file is empty", 1, fix="start from scenarios/quickstart.yaml")
            return None, self.diagnostics
        if not isinstance(document, YMap):
            self.error("WrongType", "the scenario file must be a mapping of keys (location, workspace, tables, rules, ...)", line_of(document, 1), fix="start from scenarios/quickstart.yaml")
            return None, self.diagnostics
        document = self._apply_environment(document)
        document = self._resolve(document)
        return self._scenario(document), self.diagnostics

    def _apply_environment(self, document: YMap) -> YMap:
        environments = document.get("environments")
        base = YMap(line=document.line)
        for key, value in document.items():
            if key != "environments":
                base[key] = value
                base.key_lines[key] = document.key_lines[key]
        if environments is not None and not self._is_map(environments, "environments", document.line_of("environments"), "a map of environment name -> overrides"):
            environments = None
        if environments is not None:
            for name, block in environments.items():
                if block is not None and self._is_map(block, f"environments.{name}", environments.line_of(name), "a map of overrides and 'vars'"):
                    self._unknown_keys(block, ENVIRONMENT_KEYS, f"environments.{name}")
        if self.env is None:
            return base
        if environments is None or self.env not in environments:
            known = ", ".join(sorted(environments)) if environments else "none declared"
            self.error(
                "UnknownEnvironment",
                f"environment '{self.env}' is not declared in this file (known: {known})",
                document.line_of("environments", 1),
                fix=f"add 'environments: {{{self.env}: {{...}}}}' or pick one of the known names",
            )
            return base
        block = environments[self.env] or YMap(line=environments.line_of(self.env))
        if not isinstance(block, YMap):
            return base
        env_vars = block.get("vars")
        if env_vars is not None and self._is_map(env_vars, f"environments.{self.env}.vars", block.line_of("vars"), "a map of NAME: value"):
            # an environment's vars may use variables themselves: --var and the process environment
            outer = chain_lookup(self.variables, self.environ)
            self.env_vars = {}
            for key, value in env_vars.items():
                resolved = self._resolve_value(value, outer) if isinstance(value, YStr) else value
                self.env_vars[str(key)] = "" if resolved is None else str(resolved)
        overlay = YMap(line=block.line)
        for key, value in block.items():
            if key != "vars":
                overlay[key] = value
                overlay.key_lines[key] = block.key_lines[key]
        return _merge(base, overlay)

    def _resolve(self, value):
        """Substitute variables in every string (keys included), reporting each unresolved one at its line."""
        lookup = chain_lookup(self.variables, self.env_vars, self.environ)
        return self._resolve_value(value, lookup)

    def _resolve_value(self, value, lookup):
        if isinstance(value, YMap):
            result = YMap(line=value.line)
            written: dict = {}  # resolved key -> the key as written
            for key, item in value.items():
                new_key = self._resolve_value(key, lookup) if isinstance(key, YStr) else key
                if new_key in written:  # two keys that differ as written become one after ${VAR} substitution
                    self.error("DuplicateKey", f"keys '{written[new_key]}' (line {result.key_lines.get(new_key)}) and '{key}' are both "
                               f"'{new_key}' after variable substitution", value.key_lines.get(key, value.line),
                               fix="give them different names: only one of them would be kept", source=SOURCE_YAML)
                written[new_key] = key
                result[new_key] = self._resolve_value(item, lookup)
                result.key_lines[new_key] = value.key_lines.get(key, value.line)
            return result
        if isinstance(value, YList):
            result = YList([self._resolve_value(v, lookup) for v in value], line=value.line)
            result.item_lines = list(value.item_lines)
            return result
        if isinstance(value, YStr) and has_variables(value):
            try:
                text, missing = substitute(str(value), lookup)
            except VariableValue as problem:
                self.error("VariableValue", f"in '{_short(value)}': {problem}", value.line, fix="give the value itself (in a shell, single quotes keep '${A}' as written); for a literal '${' write $${ in the scenario")
                return value
            except VariableSyntax as problem:
                self.error("VariableSyntax", f"bad variable reference in '{_short(value)}': {problem}", value.line, fix="write ${NAME} or ${NAME:-default}; use $${ for a literal '${'")
                return value
            for name in dict.fromkeys(missing):
                if name in self.secret_names:
                    self.error("SecretVariable", f"${{{name}}} is a secret variable: scenarios cannot read it from the process environment",
                               value.line, fix="keep secrets out of scenarios (they would be printed in plans and sent to Azure); "
                               f"if {name} is not a secret, pass it explicitly with --var {name}=...", source="README.md §Variables (provision/secrets.py)")
                    continue
                fix = f"pass --var {name}=..., set it in the environment's 'vars', export {name}, or write ${{{name}:-default}}"
                close = self._close_variable(name)
                if close:
                    fix = f"did you mean ${{{close}}} (it has a value)? Otherwise {fix}"
                self.error("UnresolvedVariable", f"variable ${{{name}}} has no value", value.line, fix=fix)
            # the text changed: keep where it starts, drop the style so no per-character mapping is attempted
            return YStr.at(text, value.line, value.column, value.block, None, None)
        return value

    def _close_variable(self, name: str) -> str | None:
        """A variable that has a value and whose name is one slip away from ``name`` (``RESOUCE_GROUP``)."""
        known = [*self.variables, *self.env_vars, *self.environ]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if not close:  # a case slip: ${resource_group} for RESOURCE_GROUP
            close = [k for k in known if k.lower() == name.lower()][:1]
        return close[0] if close else None

    # -- typed model ------------------------------------------------------------
    def _scenario(self, doc: YMap) -> Scenario | None:
        self._unknown_keys(doc, TOP_KEYS, "")
        for key in REQUIRED_TOP:
            if key not in doc and key in self.misspelt:
                continue  # its misspelling is already an UnknownKey with this suggestion
            if key not in doc:
                self.error("MissingKey", f"required key '{key}' is missing", doc.line_of(key, 1), fix=_REQUIRED_FIX[key])
            elif doc[key] in (None, ""):
                # present but empty: often a ${VAR:-} default or an environment override that resolved to nothing
                self.error("EmptyValue", f"'{key}' is empty", doc.line_of(key, 1), fix=_REQUIRED_FIX[key].replace("add ", "write ", 1))
        location = self._string(doc, "location", "")
        workspace = self._string(doc, "workspace", "")
        resource_group = self._string(doc, "resource_group", "")
        subscription = ""
        if workspace and "${" not in workspace:  # an unresolved variable is reported once, as such
            try:
                subscription = workspace_parts(workspace)[0]
            except ValueError as problem:
                self.error("WorkspaceId", f"workspace '{workspace}' is {problem}", doc.line_of("workspace"), fix="copy the workspace's Resource ID from its JSON view in the portal", source="azure-contract.md §2")
            else:
                self._check_workspace_parts(workspace, doc.line_of("workspace"))
        subscription = self._string(doc, "subscription", subscription)
        if resource_group and "${" not in resource_group:
            report_arm_name("ResourceGroupName", NameKind.RESOURCE_GROUP, resource_group, doc.line_of("resource_group"), self.error)
        name = self._string(doc, "name", re.sub(r"[^\w.()-]", "-", self.path.stem).lstrip(".-") or "scenario")

        tables = self._tables(doc)
        endpoint = self._endpoint(doc)
        self.workspace = workspace
        rules = self._rules(doc, tables)
        publishers = self._publishers(doc)
        return Scenario(
            path=self.file,
            name=name,
            location=location,
            workspace=workspace,
            subscription=subscription,
            resource_group=resource_group,
            tables=tables,
            rules=rules,
            endpoint=endpoint,
            publishers=publishers,
            environment=self.env,
            notes=tuple(self.notes),
            lines=dict(doc.key_lines),
            misspelt=frozenset(self.misspelt),
            source_lines=tuple(self.text_lines),
        )

    def _tables(self, doc: YMap) -> dict[str, Table]:
        result: dict[str, Table] = {}
        entries = self._named_entries(
            doc, "tables", TABLE_KEYS, "a map of table name -> {columns: ...}", "a map with 'columns' and optional plan/retention"
        )
        for name, body, line in entries:
            columns = self._columns(body, str(name))
            plan_text = self._string(body, "plan", None)
            plan = None
            if plan_text is not None:
                plan = next((p for p in PLANS if p.lower() == plan_text.lower()), plan_text)
            result[str(name)] = Table(
                name=str(name),
                columns=columns,
                plan=plan,
                retention_days=self._int(body, "retention_days"),
                total_retention_days=self._int(body, "total_retention_days"),
                description=self._string(body, "description", "") or "",
                ensure=self._ensure(body),
                line=line,
                lines=dict(body.key_lines),
                migrate=self._migrate(body, str(name)),
                workspace=self._workspace_id(body, "workspace", f"table '{name}'") or "",
            )
        return result

    def _migrate(self, body: YMap, table: str) -> bool:
        """`migrate: true` (docs/migrate.md): only a custom table can be a classic one."""
        value = body.get("migrate")
        if value is None or value is False:
            return False
        line = body.line_of("migrate")
        if value is not True:
            self.error("WrongType", f"'migrate' of table '{table}' must be true or false, not {value!r}", line,
                       fix="write 'migrate: true' to migrate a classic (Data Collector API) table in place")
            return False
        if not table.endswith("_CL"):
            self.error("MigrateNotCustom", f"table '{table}' cannot be migrated: only custom '_CL' tables are classic "
                       "(Data Collector API) tables", line, fix="drop 'migrate: true'")
            return False
        # An ARM deployment can only PUT: said here so that `render --format arm` users migrate by other means.
        self.notes.append(f"table '{table}' has migrate: true: `provision apply` migrates it (POST .../tables/{table}/"
                          "migrate) before anything writes to it; an ARM template cannot, so migrate it before deploying "
                          "one (`render --format arm`)")
        return True

    def _columns(self, body: YMap, table: str) -> tuple[Column, ...]:
        raw = body.get("columns")
        if raw is None:
            return ()
        if not self._is_map(raw, f"tables.{table}.columns", body.line_of("columns"), "a map of column name -> type (or -> {type, description})"):
            return ()
        columns = []
        for name, spec in raw.items():
            line = raw.line_of(name)
            description = ""
            if isinstance(spec, YMap):
                self._unknown_keys(spec, COLUMN_KEYS, f"tables.{table}.columns.{name}")
                type_text = spec.get("type")
                description = self._string(spec, "description", "") or ""
                if type_text is None and f"tables.{table}.columns.{name}.type" in self.misspelt:
                    continue
                if type_text is None:
                    self.error("MissingKey", f"column '{name}' of table '{table}' has no 'type'", line, fix="add 'type: string' (or int, long, real, boolean, dateTime, guid, dynamic)")
                    continue
            else:
                type_text = spec
            if not isinstance(type_text, str):
                self.error("WrongType", f"the type of column '{name}' in table '{table}' must be a word such as string or dateTime, not {type_text!r}", line, fix="write e.g. 'Amount: real'")
                continue
            columns.append(Column(name=str(name), type=normalise_table_type(type_text) or str(type_text), description=description, line=line))
        return tuple(columns)

    def _check_workspace_parts(self, workspace: str, line: int | None) -> None:
        """The subscription, resource group and name inside the workspace id obey ARM's rules too
        (a `..` segment would address another path)."""
        for kind, part in zip((NameKind.SUBSCRIPTION, NameKind.RESOURCE_GROUP, NameKind.WORKSPACE), workspace_parts(workspace)):
            if not report_arm_name("WorkspaceId", kind, part, line, self.error):
                return

    def _endpoint(self, doc: YMap) -> Endpoint | None:
        raw = doc.get("endpoint")
        if raw is None:
            return None
        line = doc.line_of("endpoint")
        if not self._is_map(raw, "endpoint", line, "a map with 'name' and optional 'public_network_access'"):
            return None
        self._unknown_keys(raw, ENDPOINT_KEYS, "endpoint")
        name = self._string(raw, "name", None)
        if not name and "endpoint.name" in self.misspelt:
            return None
        if not name:
            self.error("MissingKey", "the endpoint has no 'name'", line, fix="add 'name: dce-<something>'")
            return None
        access = self._string(raw, "public_network_access", "Enabled") or "Enabled"
        normalised = next((a for a in NETWORK_ACCESS if a.lower() == access.lower()), None)
        if normalised is None:
            self.error("EndpointNetworkAccess", f"public_network_access '{access}' must be Enabled or Disabled", raw.line_of("public_network_access"), fix="write Enabled or Disabled", source="azure-contract.md §4 [SPEC-DCE] networkAcls.publicNetworkAccess")
            normalised = access
        return Endpoint(name=name, public_network_access=normalised, description=self._string(raw, "description", "") or "",
                        ensure=self._ensure(raw), line=line, tags=self._tags(raw, "endpoint"), kind=self._string(raw, "kind", None),
                        private_link_scopes=self._scope_links(raw))

    def _scope_links(self, endpoint: YMap) -> tuple[ScopeLink, ...]:
        """``private_link_scopes``: each a scope's name or ARM id, or {scope, name, ensure}."""
        raw = endpoint.get("private_link_scopes")
        if raw is None:
            return ()
        shape = "a list of private link scopes: '- ampls-name', '- /subscriptions/.../privateLinkScopes/<name>' or '- {scope: ..., name: ...}'"
        if not isinstance(raw, YList):
            self.error("WrongType", "'private_link_scopes' must be " + shape, endpoint.line_of("private_link_scopes"),
                       fix="write '- <scope name or id>' items")
            return ()
        links = []
        for item, line in zip(raw, raw.item_lines):
            if isinstance(item, YMap):
                self._unknown_keys(item, SCOPE_LINK_KEYS, "endpoint.private_link_scopes[]")
                scope = self._string(item, "scope", None)
                if not scope:
                    self.error("MissingKey", "a private link scope entry has no 'scope'", line,
                               fix="add 'scope: <the scope's name, or its ARM id>'")
                    continue
                links.append(ScopeLink(scope, self._string(item, "name", None), self._ensure(item), line))
            elif isinstance(item, str) and item.strip():
                links.append(ScopeLink(item.strip(), line=line))
            else:
                self.error("WrongType", "each entry of 'private_link_scopes' must be a scope's name or id, or {scope, name}",
                           line, fix="write '- ampls-name' or '- {scope: /subscriptions/.../privateLinkScopes/<name>}'")
        return tuple(links)

    def _publishers(self, doc: YMap) -> tuple[Publisher, ...]:
        raw = doc.get("publishers")
        if raw is None:
            return ()
        if not isinstance(raw, YList):
            self.error("WrongType", "'publishers' must be a list of {app_id: ...} or {object_id: ...}", doc.line_of("publishers"), fix="write '- app_id: <guid>' items")
            return ()
        result = []
        for item, line in zip(raw, raw.item_lines):
            if not isinstance(item, YMap):
                self.error("WrongType", "each publisher must be {app_id: <guid>} or {object_id: <guid>}", line, fix="write '- app_id: <guid>'")
                continue
            self._unknown_keys(item, PUBLISHER_KEYS, "publishers[]")
            app_id = self._string(item, "app_id", None)
            object_id = self._string(item, "object_id", None)
            group_id = self._string(item, "group_id", None)
            rules = None
            if "rules" in item:
                raw_rules = item["rules"]
                if isinstance(raw_rules, YList) and all(isinstance(r, str) for r in raw_rules):
                    rules = tuple(str(r) for r in raw_rules)
                else:
                    self.error("WrongType", "a publisher's 'rules' must be a list of rule names", item.line_of("rules"), fix="write 'rules: [dcr-a, dcr-b]'")
            result.append(Publisher(app_id=app_id, object_id=object_id, line=line, group_id=group_id, rules=rules))
        return tuple(result)

    # -- rules, streams, flows -----------------------------------------------------------
    def _rules(self, doc: YMap, tables: dict[str, Table]) -> dict[str, Rule]:
        result: dict[str, Rule] = {}
        entries = self._named_entries(
            doc, "rules", RULE_KEYS, "a map of DCR name -> {flows: [...]}", "a map with 'flows' and optional 'streams'"
        )
        for name, body, line in entries:
            result[str(name)] = self._rule(str(name), body, line, tables)
        return result

    def _rule(self, name: str, body: YMap, line: int, tables: dict[str, Table]) -> Rule:
        lines = dict(body.key_lines)
        streams = self._declared_streams(name, body, lines)
        destinations = self._destinations(name, body)
        flows = []
        derived: list[str] = []
        raw_flows = body.get("flows")
        if raw_flows is not None and not isinstance(raw_flows, YList):
            self.error("WrongType", f"'flows' of rule '{name}' must be a list", body.line_of("flows"), fix="write '- table: <Table>' items")
            raw_flows = None
        for index, (item, item_line) in enumerate(zip(raw_flows or [], getattr(raw_flows, "item_lines", []))):
            if not isinstance(item, YMap):
                self.error("WrongType", f"flow {index + 1} of rule '{name}' must be a map with 'table' and optional 'stream'/'transform'", item_line, fix="write '- {table: T, transform: source}'")
                continue
            flow = self._flow(name, index, item, item_line, streams, derived, tables, destinations)
            lines[f"flow:{index}:table"] = item.line_of("table", item_line)  # FlowTableUnknown points here
            if flow is not None:
                flows.append(flow)
        return Rule(
            name=name,
            streams=streams,
            flows=tuple(flows),
            description=self._string(body, "description", "") or "",
            ensure=self._ensure(body),
            line=line,
            derived_streams=tuple(derived),
            lines=lines,
            kind=self._rule_kind(name, body),
            tags=self._tags(body, f"rule '{name}'"),
            destinations=destinations,
            identity=self._identity(name, body),
        )

    def _declared_streams(self, rule: str, body: YMap, lines: dict) -> dict[str, tuple[StreamColumn, ...]]:
        raw = body.get("streams")
        streams: dict[str, tuple[StreamColumn, ...]] = {}
        if raw is None or not self._is_map(raw, f"rules.{rule}.streams", body.line_of("streams"), "a map of stream name -> {column: type}"):
            return streams
        for stream, columns in raw.items():
            stream_line = raw.line_of(stream)
            lines[f"stream:{stream}"] = stream_line
            if isinstance(columns, YMap) and set(columns) == {"columns"} and isinstance(columns["columns"], YMap):
                columns = columns["columns"]  # also accept the DCR's own {columns: ...} nesting
            if not self._is_map(columns, f"stream '{stream}'", stream_line, "a map of column name -> type"):
                continue
            result = []
            for column, type_text in columns.items():
                if not isinstance(type_text, str):
                    self.error("WrongType", f"the type of column '{column}' in stream '{stream}' must be a word such as string or datetime", columns.line_of(column), fix="write e.g. 'Time: datetime'")
                    continue
                result.append(StreamColumn(str(column), normalise_stream_type(type_text) or str(type_text), columns.line_of(column)))
            streams[str(stream)] = tuple(result)
        return streams

    def _flow(self, rule, index, item: YMap, line, streams, derived, tables, destinations=None) -> Flow | None:
        self._unknown_keys(item, FLOW_KEYS, f"rules.{rule}.flows[{index}]")
        table = self._string(item, "table", None)
        if not table and f"rules.{rule}.flows[{index}].table" in self.misspelt:
            return None
        if not table:
            self.error("MissingKey", f"flow {index + 1} of rule '{rule}' has no 'table'", line, fix="add 'table: <Name>_CL' (or a supported Azure table)")
            return None
        stream_names = self._flow_streams(rule, index, item, line)
        transform_value = item.get("transform", YStr.at("source", line))
        if transform_value is None:
            transform_value = YStr.at("", item.line_of("transform"))
        if not isinstance(transform_value, str):
            self.error("WrongType", f"the transform of flow {index + 1} in rule '{rule}' must be text (KQL)", item.line_of("transform"), fix="write 'transform: source | extend ...'")
            transform_value = YStr.at("source", line)
        transform = str(transform_value)
        t_line, t_column = self._text_start(transform_value, item.line_of("transform", line))
        positions = self._positions(transform_value)
        shift = 0
        insert_at = 0
        derived_flag = False
        output_stream = f"Custom-{table}" if table.endswith("_CL") else f"Microsoft-{table}"
        if not stream_names:
            stream_names = (derived_stream_name(table),)
        for stream in stream_names:
            if stream in streams:
                continue
            if stream != derived_stream_name(table):
                continue  # not declared and not derivable: rules.py reports it
            columns = self._derive_stream(table, tables)
            if columns is None:
                continue  # table unknown: rules.py reports it
            streams[stream] = columns
            derived.append(stream)
        derived_flag = any(s in derived for s in stream_names)
        if derived_flag:
            in_stream = {c.name for s in stream_names for c in streams.get(s, ())}
            guid_columns = [c for c, t in _table_columns(table, tables) or [] if t == "guid" and c in in_stream]
            note = f"rule '{rule}' flow {index + 1}: stream '{stream_names[0]}' derived from table '{table}' (types mapped to stream types"
            # Auxiliary tables included: custom tables with the Auxiliary plan take transformations
            # (azure-contract.md §9 [DOC-TRANSFORM]), so their guid columns get toguid() like any other's.
            if guid_columns:
                added = _add_toguid(transform, guid_columns)
                if added is None:
                    note += f"; guid columns {', '.join(guid_columns)} declared as string: add toguid() for them to the transform yourself"
                else:
                    new_transform, insert_at = added
                    first_old = transform.splitlines()[0] if transform else ""
                    first_new = new_transform.splitlines()[0]
                    shift = len(first_new) - len(first_old)
                    transform = new_transform
                    note += f"; guid columns {', '.join(guid_columns)} declared as string and toguid() added to the transform"
            self.notes.append(note + ")")
        return Flow(
            streams=tuple(stream_names),
            table=table,
            output_stream=output_stream,
            transform=transform,
            derived_stream=derived_flag,
            line=line,
            transform_line=t_line,
            transform_column=t_column,
            transform_shift=shift,
            transform_insert_at=insert_at,
            transform_positions=positions,
            index=index,
            destinations=self._flow_destinations(rule, index, item, line, table, tables, destinations or {}),
        )

    # -- what real rules use besides streams and flows (issue 9) ---------------------------------
    def _tags(self, mapping: YMap, where: str) -> dict[str, str]:
        """ARM tags: a map of name -> text (ARM stores tag values as strings, azure-contract.md §1)."""
        raw = mapping.get("tags")
        if raw is None:
            return {}
        if not self._is_map(raw, f"tags of {where}", mapping.line_of("tags"), "a map of tag name -> value"):
            return {}
        tags: dict[str, str] = {}
        for key, value in raw.items():
            if isinstance(value, (YMap, YList)):
                self.error("WrongType", f"tag '{key}' of {where} must be text", raw.line_of(key), fix=f"write '{key}: <text>'")
                continue
            tags[str(key)] = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        return tags

    def _rule_kind(self, rule: str, body: YMap) -> str | None:
        text = self._string(body, "kind", "Direct")
        found = next((k for k in RULE_KINDS if k.lower() == str(text).lower()), None)
        if found is None:
            self.error("RuleKind", f"kind '{text}' of rule '{rule}' is not one the tool deploys: write Direct (the default: the rule "
                       "has its own ingestion endpoint) or none (senders go through the scenario's DCE)", body.line_of("kind"),
                       fix="write 'kind: Direct' or 'kind: none'", source="azure-contract.md §5.2 (kind; endpoints only for Direct)")
            return "Direct"
        return None if found == "none" else found

    def _workspace_id(self, mapping: YMap, key: str, where: str) -> str | None:
        value = self._string(mapping, key, None)
        if value is None or "${" in value:
            return value
        try:
            workspace_parts(value)
        except ValueError as problem:
            self.error("WorkspaceId", f"workspace '{value}' of {where} is {problem}", mapping.line_of(key),
                       fix="copy the workspace's Resource ID from its JSON view in the portal", source="azure-contract.md §2")
        return value

    def _destinations(self, rule: str, body: YMap) -> dict[str, str]:
        """Log Analytics destinations by name: `name: <workspace id>` or `name: {workspace: <id>}`; default one named 'workspace'."""
        raw = body.get("destinations")
        if raw is None:
            return {DEFAULT_DESTINATION: getattr(self, "workspace", "")}
        if not self._is_map(raw, f"rules.{rule}.destinations", body.line_of("destinations"), "a map of destination name -> workspace id"):
            return {DEFAULT_DESTINATION: getattr(self, "workspace", "")}
        result: dict[str, str] = {}
        for name, value in raw.items():
            where = f"destination '{name}' of rule '{rule}'"
            holder = YMap(line=raw.line_of(name))
            holder["workspace"] = value.get("workspace") if isinstance(value, YMap) else value
            holder.key_lines["workspace"] = raw.line_of(name)
            if isinstance(value, YMap):
                self._unknown_keys(value, ("workspace",), where)
            workspace = self._workspace_id(holder, "workspace", where)
            if not workspace:
                self.error("MissingKey", f"{where} has no workspace", raw.line_of(name), fix=f"write '{name}: /subscriptions/.../workspaces/<name>'")
                continue
            if str(name).lower() in {n.lower() for n in result}:
                self.error("DuplicateDestination", f"{where} is named twice (names are case-insensitive)", raw.line_of(name),
                           fix="give every destination its own name", source="azure-contract.md §5.2 (name unique across destinations)")
            result[str(name)] = workspace
        return result or {DEFAULT_DESTINATION: getattr(self, "workspace", "")}

    def _flow_destinations(self, rule, index, item: YMap, line, table: str, tables, destinations: dict[str, str]) -> tuple[str, ...]:
        """The destinations a flow writes to: as named, else the one destination whose workspace holds the table."""
        label = f"flow {index + 1} of rule '{rule}'"
        if "destinations" in item:
            raw = item["destinations"]
            names = (str(raw),) if isinstance(raw, str) else tuple(str(n) for n in raw) if isinstance(raw, YList) and all(isinstance(n, str) for n in raw) else None
            if names is None:
                self.error("WrongType", f"'destinations' of {label} must be a list of destination names", item.line_of("destinations"), fix="write 'destinations: [name]'")
                return ()
            known = {n.lower(): n for n in destinations}
            for name in names:
                if name.lower() not in known:
                    self.error("UnknownDestination", f"{label} writes to destination '{name}', which rule '{rule}' does not declare",
                               item.line_of("destinations"), fix=f"declare it under the rule's 'destinations:' (known: {', '.join(destinations)})",
                               source="azure-contract.md §5.2 (dataFlows[].destinations name destinations)")
            return tuple(known.get(n.lower(), n) for n in names)
        if len(destinations) == 1:
            return tuple(destinations)
        declared = tables.get(table)
        holder = (declared.workspace if declared is not None and declared.workspace else getattr(self, "workspace", "")).lower()
        matching = tuple(n for n, ws in destinations.items() if ws.lower() == holder)
        if len(matching) != 1:
            self.error("FlowDestination", f"{label} does not say which of the rule's {len(destinations)} destinations it writes to", line,
                       fix=f"add 'destinations: [<one of {', '.join(destinations)}>]' to the flow", source="azure-contract.md §5.2 (one workspace per stream)")
            return tuple(destinations)[:1]
        return matching

    def _identity(self, rule: str, body: YMap) -> dict | None:
        """`identity: SystemAssigned`, or `{type: UserAssigned, user_assigned: [<identity id>, ...]}` -> the ARM identity block."""
        raw = body.get("identity")
        if raw is None:
            return None
        line = body.line_of("identity")
        where = f"the identity of rule '{rule}'"
        users: list[str] = []
        if isinstance(raw, YMap):
            self._unknown_keys(raw, ("type", "user_assigned"), where)
            type_text = self._string(raw, "type", None)
            listed = raw.get("user_assigned")
            if listed is not None:
                if isinstance(listed, YList) and all(isinstance(u, str) for u in listed):
                    users = [str(u) for u in listed]
                else:
                    self.error("WrongType", f"'user_assigned' of {where} must be a list of identity resource ids", raw.line_of("user_assigned"),
                               fix="write 'user_assigned: [/subscriptions/.../userAssignedIdentities/<name>]'")
        elif isinstance(raw, str):
            type_text = str(raw)
        else:
            type_text = None
        found = next((t for t in IDENTITY_TYPES if t.lower().replace(" ", "") == str(type_text or "").lower().replace(" ", "")), None)
        if found is None:
            self.error("IdentityType", f"{where} must be one of {', '.join(IDENTITY_TYPES)}, not {type_text!r}", line,
                       fix="write 'identity: SystemAssigned' or 'identity: {type: UserAssigned, user_assigned: [<id>]}'",
                       source="azure-contract.md §5.2 (identity; ARM ManagedServiceIdentity)")
            return None
        if ("UserAssigned" in found) != bool(users):
            self.error("IdentityType", f"{where}: type {found} " + ("needs" if users == [] else "takes no") + " 'user_assigned' identities", line,
                       fix="list the user-assigned identities' resource ids under 'user_assigned', or use SystemAssigned",
                       source="azure-contract.md §5.2 (identity; ARM ManagedServiceIdentity)")
        identity: dict = {"type": found}
        if users:
            identity["userAssignedIdentities"] = {u: {} for u in users}
        return identity

    def _flow_streams(self, rule, index, item: YMap, line) -> tuple[str, ...]:
        if "stream" in item and "streams" in item:
            self.error("FlowStreamKeys", f"flow {index + 1} of rule '{rule}' has both 'stream' and 'streams'", line, fix="keep one: 'stream: Custom-X' or 'streams: [Custom-X]'")
        if "streams" in item:
            raw = item["streams"]
            if isinstance(raw, str):
                return (str(raw),)
            if isinstance(raw, YList) and all(isinstance(s, str) for s in raw):
                return tuple(str(s) for s in raw)
            self.error("WrongType", f"'streams' of flow {index + 1} in rule '{rule}' must be a list of stream names", item.line_of("streams"), fix="write 'streams: [Custom-X]'")
            return ()
        stream = self._string(item, "stream", None)
        return (stream,) if stream else ()

    def _derive_stream(self, table: str, tables: dict[str, Table]) -> tuple[StreamColumn, ...] | None:
        columns = _table_columns(table, tables)
        if columns is None:
            return None
        return tuple(StreamColumn(name, stream_type_for_table_type(t)) for name, t in columns if normalise_table_type(t))

    def _positions(self, value) -> tuple | None:
        """File position of each character of a transform's text, when it can be traced exactly."""
        if not isinstance(value, YStr) or value.style is None or value.line is None or value.column is None:
            return None
        positions = string_positions(str(value), value.style, (value.line, value.column), value.end, self.text_lines)
        return tuple(positions) if positions is not None else None

    def _text_start(self, value, key_line: int | None) -> tuple[int | None, int | None]:
        """Line and column in the file where the text of a scalar starts."""
        line = getattr(value, "line", None) or key_line
        column = getattr(value, "column", None)
        if getattr(value, "block", False) and line is not None:
            # a `|` or `>` block: the text starts on the next non-empty line, at its indentation
            for offset, text in enumerate(self.text_lines[line:], start=line + 1):
                if text.strip():
                    return offset, len(text) - len(text.lstrip()) + 1
            return line + 1, 1
        if column is not None and line is not None and line <= len(self.text_lines):
            src = self.text_lines[line - 1]
            if column - 1 < len(src) and src[column - 1] in "'\"":
                column += 1  # skip the opening quote
        return line, column

    # -- small typed readers -----------------------------------------------------------
    def _named_entries(self, doc: YMap, key: str, known: tuple[str, ...], expected: str, entry_expected: str):
        """Yield (name, body, line) for each entry of the top-level map ``key`` whose body is a map.

        Reports a non-map section or entry and unknown keys in each entry; skips what it reported.
        """
        raw = doc.get(key)
        if raw is None or not self._is_map(raw, key, doc.line_of(key), expected):
            return
        for name, body in raw.items():
            line = raw.line_of(name)
            body = YMap(line=line) if body is None else body
            if not self._is_map(body, f"{key}.{name}", line, entry_expected):
                continue
            self._unknown_keys(body, known, f"{key}.{name}")
            yield name, body, line

    def _is_map(self, value, what: str, line, expected: str) -> bool:
        if isinstance(value, YMap):
            return True
        self.error("WrongType", f"'{what}' must be {expected}", line_of(value, line), fix=f"write {what} as {expected}")
        return False

    def _unknown_keys(self, mapping: YMap, known: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known)}"
            place = f" in {where}" if where else ""
            if close and close[0] not in mapping:
                self.misspelt.add(f"{where}.{close[0]}" if where else close[0])
            self.error("UnknownKey", f"unknown key '{key}'{place}", mapping.line_of(key), fix=hint)

    def _string(self, mapping: YMap, key: str, default):
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if isinstance(value, (bool, YMap, YList)):
            self.error("WrongType", f"'{key}' must be text, not {_kind(value)}", mapping.line_of(key), fix=f"write '{key}: <text>' (quote it if it looks like a number or yes/no)")
            return default
        return str(value)

    def _int(self, mapping: YMap, key: str) -> int | None:
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value.strip())
        self.error("WrongType", f"'{key}' must be a whole number of days, not {value!r}", mapping.line_of(key), fix=f"write '{key}: 30'")
        return None

    def _ensure(self, mapping: YMap) -> str:
        value = self._string(mapping, "ensure", PRESENT)
        if value not in (PRESENT, ABSENT):
            self.error("EnsureValue", f"ensure must be 'present' or 'absent', not '{value}'", mapping.line_of("ensure"), fix="write 'ensure: absent' to remove the resource, or drop the key")
            return PRESENT
        return value


_REQUIRED_FIX = {
    "location": "add 'location: westeurope' (the workspace's region)",
    "workspace": "add 'workspace: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>'",
    "resource_group": "add 'resource_group: <rg>' (where the DCR and DCE are created)",
}


def derived_stream_name(table: str) -> str:
    """``Custom-<T without _CL>``: the stream a flow gets when it declares none (issue #2)."""
    return "Custom-" + (table.removesuffix("_CL"))


def _table_columns(table: str, tables: dict[str, Table]) -> list[tuple[str, str]] | None:
    """Columns a derived stream carries: the declared table's, or an Azure table's ingestible ones plus its _CF columns."""
    declared = tables.get(table)
    if table.endswith("_CL"):
        return None if declared is None else [(c.name, c.type) for c in declared.columns]
    base = catalogue.azure_table_ingestible_columns(table) if catalogue.is_supported_azure_table(table) else None
    if base is None:
        return None
    known = {n for n, _ in base}
    return base + [(c.name, c.type) for c in (declared.columns if declared else ()) if c.name not in known]


def _add_toguid(transform: str, columns: list[str]) -> tuple[str, int] | None:
    """``transform`` with ``| extend C = toguid(C), ...`` inserted right after its leading ``source``, and
    the offset where it went in; None when the transform has no leading ``source``."""
    match = _SOURCE_HEAD.match(transform)
    if not match:
        return None
    extend = " | extend " + ", ".join(f"{c} = toguid({c})" for c in columns)
    return transform[: match.end()] + extend + transform[match.end():], match.end()


def _merge(base: YMap, overlay: YMap) -> YMap:
    """Environment overlay: mappings merge key by key, other values are replaced."""
    result = YMap(line=base.line)
    for key, value in base.items():
        result[key] = value
        result.key_lines[key] = base.key_lines.get(key, base.line)
    for key, value in overlay.items():
        if isinstance(value, YMap) and isinstance(result.get(key), YMap):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
        result.key_lines[key] = overlay.key_lines.get(key, overlay.line)
    return result


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, YMap):
        return "a mapping"
    if isinstance(value, YList):
        return "a list"
    return type(value).__name__
