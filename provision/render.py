"""Scenario -> request bodies: the Jinja templates rendered into exactly what is PUT to Azure.

Templates: ``table.json.j2``, ``dce.json.j2``, ``scoped-resource.json.j2``, ``dcr.json.j2``,
``role-assignment.json.j2`` and ``arm-deployment.json.j2``. Defaults ship inside the package as
``provision._templates`` (the top-level ``templates/`` folder); ``templates_dir`` puts a
user folder first, so a user template of the same name wins. ``StrictUndefined``: a
template that names a missing value fails, and the rendered text must parse as JSON;
both raise ``RenderError`` naming the template.

Bodies carry only what the user declared plus required fields (never read-only
fields), so comparing them with a later GET is clean. Pure: no network, no SDK.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from provision import ids
from provision.diagnostics import caret_line
from provision.errors import RenderError
from provision.resources import Kind, Resource, ResourceId, workspace_parts
from provision.scenario.model import ABSENT, Publisher, Rule, Scenario, Table

# API versions of the bodies (azure-contract.md §0; the DCR/DCE version is the one
# azure-mgmt-monitor 7 sends, sdk-notes.md §2.1: same shapes as 2024-03-11).
TABLE_API = "2025-07-01"
DCR_API = "2023-03-11"
DCE_API = "2023-03-11"
SCOPED_RESOURCE_API = "2023-06-01-preview"  # privateLinkScopes_API.json: the newest version; no stable one exists
ROLE_ASSIGNMENT_API = "2022-04-01"
DEPLOYMENT_API = "2022-09-01"

# The logAnalytics destination name inside each DCR: fixed, so it never changes
# when an environment points the rule at another workspace.
DESTINATION_NAME = "workspace"

# -- Jinja environment ----------------------------------------------------------------------

def _default_templates_dir() -> Path:
    try:
        from importlib import resources

        path = Path(str(resources.files("provision._templates")))
        if (path / "dcr.json.j2").is_file():
            return path
    except (ImportError, ModuleNotFoundError, TypeError):  # pragma: no cover - broken install
        pass
    return Path(__file__).resolve().parent.parent / "templates"  # source checkout fallback


def _environment(templates_dir=None):
    if templates_dir is not None and not Path(templates_dir).is_dir():
        problem = "is a file, not a folder" if Path(templates_dir).exists() else "does not exist"
        raise RenderError(f"templates directory '{templates_dir}' {problem}", hint="pass a folder holding *.json.j2 files to --templates")
    return _cached_environment(None if templates_dir is None else str(Path(templates_dir).resolve()))


@lru_cache(maxsize=16)
def _cached_environment(templates_dir: str | None):
    """One Jinja environment per template folder; it re-reads a template whose file changed (auto_reload)."""
    import jinja2

    from provision.sandbox import BoundedEnvironment

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.FileSystemLoader(str(_default_templates_dir())))
    env = BoundedEnvironment(  # sandboxed: a --templates folder must not reach Python (sandbox.py)
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.add_filters({"tojson": _tojson})  # plain JSON: Jinja's own escapes <, > and & for HTML
    return env


def _template_line(error: BaseException) -> str:
    """' line N' of the template where rendering failed (Jinja puts template lines in the traceback), or ''."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    return f" line {frames[-1].lineno}" if frames else ""


def _json_error_excerpt(text: str, error: json.JSONDecodeError) -> str:
    """The rendered text around a JSON error, with a caret (the template is what to fix)."""
    lines = text.splitlines()
    if error.pos >= len(text.rstrip()):
        last = lines[-1] if lines else ""
        return f"the rendered text ends early (an unclosed {{ or [, or a missing value?); it ends with:\n    {last}"
    shown = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
    before = lines[error.lineno - 2] if error.lineno >= 2 else None
    excerpt = ([before] if before is not None and before.strip() else []) + caret_line(shown, error.colno).splitlines()
    return "fix the template so it renders JSON; rendered text:\n" + "\n".join("    " + ln for ln in excerpt)


def _tojson(value, indent=None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _render(env, name: str, **context) -> dict:
    import jinja2

    from provision.sandbox import render_bounded

    template = None
    try:
        template = env.get_template(name)
        text = render_bounded(template, context)
    except jinja2.TemplateNotFound as error:
        raise RenderError(f"template '{name}' not found", hint=f"missing file {error.name}; user templates override defaults of the same name") from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(f"template '{error.filename or name}' line {error.lineno}: {error.message}") from None
    except jinja2.sandbox.SecurityError as error:  # reached outside the sandbox, or broke a bound (sandbox.py)
        raise RenderError(f"template '{getattr(template, 'filename', None) or name}'{_template_line(error)} was stopped: {error}",
                          hint="templates run sandboxed: they may format the values they are given, not reach Python, "
                               "the environment or files, and must render within the sandbox's time and size bounds") from None
    except jinja2.UndefinedError as error:
        raise RenderError(f"template '{getattr(template, 'filename', None) or name}'{_template_line(error)} uses an undefined value: {error.message}", hint="check the names against the context documented at the top of the default template") from None
    except Exception as error:  # a filter or expression failed inside the template
        raise RenderError(f"template '{getattr(template, 'filename', None) or name}'{_template_line(error)} failed: {type(error).__name__}: {error}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise RenderError(
            f"template '{template.filename or name}' did not produce valid JSON: {error.msg} at rendered line {error.lineno} column {error.colno}",
            hint=_json_error_excerpt(text, error),
        ) from None
    if not isinstance(body, dict):
        raise RenderError(f"template '{name}' must produce a JSON object, not {type(body).__name__}")
    return body


# -- resources ---------------------------------------------------------------------------------

def render_resources(scenario: Scenario, templates_dir=None, principals: dict | None = None) -> list[Resource]:
    """Every resource of the scenario, tables -> endpoint -> rules -> role assignments."""
    resources = render_deployables(scenario, templates_dir)
    return resources + render_assignments(scenario, resources, principals, templates_dir)


def render_deployables(scenario: Scenario, templates_dir=None) -> list[Resource]:
    """Tables, the endpoint and the rules: everything whose body does not depend on a Graph lookup."""
    env = _environment(templates_dir)
    context = {"scenario": _scenario_context(scenario)}
    resources: list[Resource] = []
    table_ids: dict[str, str] = {}
    migrations: dict[str, str] = {}  # table name -> its migrate action's id
    for table in scenario.tables.values():
        resource = _table(env, scenario, table, context)
        if table.migrate and table.ensure != ABSENT:
            # `migrate: true`: the classic table is migrated before its PUT and before any DCR writes to it.
            migration = Resource(Kind.MIGRATION, table.name, ResourceId.migration(scenario.workspace, table.name).format(),
                                 {}, TABLE_API)
            migrations[table.name] = migration.id
            resources.append(migration)
            resource = replace(resource, depends_on=(*resource.depends_on, migration.id))
        table_ids[table.name] = resource.id
        resources.append(resource)
    endpoint_id = None
    if scenario.endpoint is not None:
        endpoint = scenario.endpoint
        rid = ids.dce_id(scenario.subscription, scenario.resource_group, endpoint.name)
        if endpoint.ensure == ABSENT:
            resources.append(Resource(Kind.ENDPOINT, endpoint.name, rid, {}, DCE_API, ensure=ABSENT))
        else:
            body = _render(env, "dce.json.j2", endpoint=_plain(endpoint), **context)
            resources.append(Resource(Kind.ENDPOINT, endpoint.name, rid, body, DCE_API))
            endpoint_id = rid
        resources += _scope_links(env, scenario, rid, context)
    for rule in scenario.rules.values():
        rid = ids.dcr_id(scenario.subscription, scenario.resource_group, rule.name)
        if rule.ensure == ABSENT:
            resources.append(Resource(Kind.RULE, rule.name, rid, {}, DCR_API, ensure=ABSENT))
            continue
        depends = tuple(dict.fromkeys(table_ids[f.table] for f in rule.flows if f.table in table_ids))
        depends += tuple(dict.fromkeys(migrations[f.table] for f in rule.flows if f.table in migrations))
        if endpoint_id:
            depends += (endpoint_id,)
        body = _render(env, "dcr.json.j2", rule=_rule_context(rule, scenario.workspace), destination=DESTINATION_NAME, endpoint_id=endpoint_id, **context)
        resources.append(Resource(Kind.RULE, rule.name, rid, body, DCR_API, depends_on=depends))
    return resources


def _scope_links(env, scenario: Scenario, endpoint_id: str, context: dict) -> list[Resource]:
    """The endpoint's private link scope associations: one scoped resource each, under its scope. They go with the
    endpoint: an endpoint marked absent takes its associations with it (deleted first)."""
    endpoint = scenario.endpoint
    assert endpoint is not None
    out = []
    for link in endpoint.private_link_scopes:
        scope_id, rid = ids.scope_link_ids(scenario.subscription, scenario.resource_group, endpoint.name, link.scope,
                                           link.name)
        name = link.name or endpoint.name
        label = f"{scope_id.rsplit('/', 1)[-1]}/{name}"
        if endpoint.ensure == ABSENT or link.ensure == ABSENT:
            out.append(Resource(Kind.SCOPED_RESOURCE, label, rid, {}, SCOPED_RESOURCE_API, ensure=ABSENT, scope=scope_id))
            continue
        link_context = {"scope_id": scope_id, "name": name, "linked_resource_id": endpoint_id}
        body = _render(env, "scoped-resource.json.j2", link=link_context, endpoint=_plain(endpoint), **context)
        out.append(Resource(Kind.SCOPED_RESOURCE, label, rid, body, SCOPED_RESOURCE_API, depends_on=(endpoint_id,),
                            scope=scope_id))
    return out


def render_assignments(scenario: Scenario, deployables: list[Resource], principals: dict | None = None,
                       templates_dir=None) -> list[Resource]:
    """The Monitoring Metrics Publisher assignments of every publisher on every rule of ``deployables``.

    ``principals`` maps a publisher's ``app_id`` to its service principal's object id (resolved
    through Graph by the pipeline); an ``app_id`` publisher not in it renders ``unresolved``, with
    a placeholder principal.
    """
    principals = {k.lower(): v for k, v in (principals or {}).items()}
    rules = [r for r in deployables if r.kind == Kind.RULE and not r.absent]
    out: list[Resource] = []
    if rules and scenario.publishers:
        env = _environment(templates_dir)
        context = {"scenario": _scenario_context(scenario)}
        for resource in rules:
            rule = scenario.rules[resource.name]
            out += [_assignment(env, scenario, rule, resource.id, p, principals, context) for p in scenario.publishers
                    if p.sends_to(rule.name)]
    return out


def retired_assignments(scenario: Scenario, deployables: list[Resource], principals: dict) -> list[Resource]:
    """Our assignments on rules marked ``ensure: absent``, marked absent too.

    Azure keeps role assignments when their resource is deleted (they linger as "identity not
    found" entries), so they are deleted first, by their deterministic names; only publishers
    whose principal is known can be named.
    """
    principals = {k.lower(): v for k, v in principals.items()}
    out: list[Resource] = []
    for resource in deployables:
        if resource.kind != Kind.RULE or not resource.absent:
            continue
        for publisher in scenario.publishers:
            if not publisher.sends_to(resource.name):
                continue
            principal = publisher.object_id or publisher.group_id or principals.get((publisher.app_id or "").lower())
            if principal:
                name = ids.role_assignment_name(resource.id, principal)
                out.append(Resource(Kind.ROLE_ASSIGNMENT, name, ids.role_assignment_id(resource.id, name), {},
                                    ROLE_ASSIGNMENT_API, depends_on=(resource.id,), ensure=ABSENT, rule=resource.name,
                                    scope=resource.id, app_id=publisher.app_id, principal_id=principal))
    return out


def _table(env, scenario: Scenario, table: Table, context) -> Resource:
    rid = ids.table_id(table.workspace or scenario.workspace, table.name)
    if table.ensure == ABSENT:
        return Resource(Kind.TABLE, table.name, rid, {}, TABLE_API, ensure=ABSENT)
    data = _plain(table)
    data["is_custom"] = table.is_custom
    data["columns"] = [_plain(c) for c in table.columns]
    body = _render(env, "table.json.j2", table=data, **context)
    return Resource(Kind.TABLE, table.name, rid, body, TABLE_API)


def _assignment(env, scenario, rule: Rule, scope: str, publisher: Publisher, principals, context) -> Resource:
    unresolved = False
    if publisher.object_id or publisher.group_id:
        principal = str(publisher.object_id or publisher.group_id)
    elif publisher.app_id and publisher.app_id.lower() in principals:
        principal = principals[publisher.app_id.lower()]
    else:
        principal = f"appId:{publisher.app_id}"  # placeholder until apply looks the app up in Graph
        unresolved = True
    name = ids.role_assignment_name(scope, principal)
    data = {"role_definition_id": ids.role_definition_id(scenario.subscription), "principal_id": principal, "scope": scope,
            "principal_type": publisher.principal_type}
    body = _render(env, "role-assignment.json.j2", assignment=data, rule=_rule_context(rule), **context)
    return Resource(
        Kind.ROLE_ASSIGNMENT,
        name,
        ids.role_assignment_id(scope, name),
        body,
        ROLE_ASSIGNMENT_API,
        depends_on=(scope,),
        unresolved=unresolved,
        rule=rule.name,
        scope=scope,
        app_id=publisher.app_id,
        principal_id=None if unresolved else principal,
    )


def _scenario_context(scenario: Scenario) -> dict:
    return {
        "name": scenario.name,
        "location": scenario.location,
        "workspace": scenario.workspace,
        "workspace_name": scenario.workspace_name,
        "subscription": scenario.subscription,
        "resource_group": scenario.resource_group,
        "environment": scenario.environment,
    }


def _rule_context(rule: Rule, workspace: str = "") -> dict:
    return {
        "name": rule.name,
        "description": rule.description,
        "kind": rule.kind,
        "tags": dict(rule.tags),
        "identity": rule.identity,
        "destinations": [{"name": n, "workspace": w} for n, w in rule.destinations.items()]
        or [{"name": DESTINATION_NAME, "workspace": workspace}],
        "streams": {name: [{"name": c.name, "type": c.type} for c in columns] for name, columns in rule.streams.items()},
        "flows": [
            {"streams": list(f.streams), "table": f.table, "output_stream": f.output_stream, "transform": f.transform,
             "destinations": list(f.destinations) or [DESTINATION_NAME]}
            for f in rule.flows
        ],
    }


def _plain(obj) -> dict:
    """A dataclass's public fields as a dict (lines dropped)."""
    return {k: v for k, v in vars(obj).items() if k not in ("line", "lines")}


# -- ARM deployment template ----------------------------------------------------------------------

def render_arm(scenario: Scenario, templates_dir=None, principals: dict | None = None) -> dict:
    """One resource-group deployment template: tables, DCE, DCRs, role assignments, with dependsOn and outputs."""
    env = _environment(templates_dir)
    resources = [r for r in render_resources(scenario, templates_dir, principals) if not r.absent]
    parameters: dict = {}
    arm: list[dict] = []
    tables = [r for r in resources if r.kind == "table"]
    table_dependency: dict[str, str] = {}
    by_workspace: dict[str, list[Resource]] = {}  # a table's workspace is in its id (tables may name their own)
    for r in tables:
        by_workspace.setdefault(r.id.rsplit("/tables/", 1)[0], []).append(r)
    for workspace_id, group in by_workspace.items():
        ws_sub, ws_rg, ws_name = workspace_parts(workspace_id)
        table_entries = [{"type": "Microsoft.OperationalInsights/workspaces/tables", "apiVersion": TABLE_API,
                          "name": f"{ws_name}/{r.name}", **r.body} for r in group]
        if ws_sub.lower() == scenario.subscription.lower() and ws_rg.lower() == scenario.resource_group.lower():
            arm += table_entries
            for r in group:
                table_dependency[r.id] = f"[resourceId('Microsoft.OperationalInsights/workspaces/tables', '{ws_name}', '{r.name}')]"
            continue
        # The workspace lives in another resource group: a nested deployment puts the tables there.
        nested = "tables-" + _arm_name(ws_name)
        arm.append({
            "type": "Microsoft.Resources/deployments",
            "apiVersion": DEPLOYMENT_API,
            "name": nested,
            "subscriptionId": ws_sub,
            "resourceGroup": ws_rg,
            "properties": {
                "mode": "Incremental",
                "template": {
                    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                    "contentVersion": "1.0.0.0",
                    "resources": table_entries,
                },
            },
        })
        for r in group:
            table_dependency[r.id] = f"[resourceId('Microsoft.Resources/deployments', '{nested}')]"
    endpoint_ref = None
    for r in resources:
        if r.kind == "endpoint":
            arm.append({"type": "Microsoft.Insights/dataCollectionEndpoints", "apiVersion": DCE_API, "name": r.name, **r.body})
            endpoint_ref = f"resourceId('Microsoft.Insights/dataCollectionEndpoints', '{r.name}')"
    arm += _arm_scope_links(scenario, resources, endpoint_ref)
    outputs: dict = {}
    for r in resources:
        if r.kind != "rule":
            continue
        depends = [table_dependency[d] for d in r.depends_on if d in table_dependency]
        body = json.loads(json.dumps(r.body))
        if endpoint_ref:
            body["properties"]["dataCollectionEndpointId"] = f"[{endpoint_ref}]"
            depends.append(f"[{endpoint_ref}]")
        arm.append({"type": "Microsoft.Insights/dataCollectionRules", "apiVersion": DCR_API, "name": r.name, "dependsOn": list(dict.fromkeys(depends)), **body})
        rule_ref = f"resourceId('Microsoft.Insights/dataCollectionRules', '{r.name}')"
        key = _arm_name(r.name)
        outputs[f"{key}ImmutableId"] = {"type": "string", "value": f"[reference({rule_ref}, '{DCR_API}').immutableId]"}
        if endpoint_ref:
            outputs[f"{key}LogsIngestion"] = {"type": "string", "value": f"[reference({endpoint_ref}, '{DCE_API}').logsIngestion.endpoint]"}
        else:
            outputs[f"{key}LogsIngestion"] = {"type": "string", "value": f"[reference({rule_ref}, '{DCR_API}').endpoints.logsIngestion]"}
        outputs[f"{key}Id"] = {"type": "string", "value": f"[{rule_ref}]"}
    for r in resources:
        if r.kind != "role_assignment":
            continue
        rule = r.rule
        rule_ref = f"resourceId('Microsoft.Insights/dataCollectionRules', '{rule}')"
        body = json.loads(json.dumps(r.body))
        body["properties"]["roleDefinitionId"] = f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{ids.MONITORING_METRICS_PUBLISHER_ROLE_ID}')]"
        name = r.name
        if r.unresolved:
            app_ids = parameters.setdefault("__apps", {})  # app id -> parameter name, one per app
            parameter = app_ids.setdefault(r.app_id, f"publisher{len(app_ids) + 1}ObjectId")
            parameters[parameter] = {
                "type": "string",
                "metadata": {"description": f"Object id of the service principal of app {r.app_id} (az ad sp show --id {r.app_id} --query id)"},
            }
            body["properties"]["principalId"] = f"[parameters('{parameter}')]"
            name = f"[guid({rule_ref}, parameters('{parameter}'), '{ids.MONITORING_METRICS_PUBLISHER_ROLE_ID}')]"
        arm.append({
            "type": "Microsoft.Authorization/roleAssignments",
            "apiVersion": ROLE_ASSIGNMENT_API,
            "name": name,
            "scope": f"Microsoft.Insights/dataCollectionRules/{rule}",
            "dependsOn": [f"[{rule_ref}]"],
            **body,
        })
    parameters.pop("__apps", None)
    return _render(env, "arm-deployment.json.j2", scenario=_scenario_context(scenario), parameters=parameters, resources=arm, outputs=outputs)


def _arm_scope_links(scenario: Scenario, resources: list[Resource], endpoint_ref: str | None) -> list[dict]:
    """The endpoint's private link scope associations, after the endpoint: a scope in the deployment's resource
    group directly, one elsewhere through a nested deployment into the scope's resource group."""
    out: list[dict] = []
    for r in resources:
        if r.kind != Kind.SCOPED_RESOURCE or not r.scope:
            continue
        scope = ResourceId.parse(r.scope)
        entry = {"type": "Microsoft.Insights/privateLinkScopes/scopedResources", "apiVersion": SCOPED_RESOURCE_API,
                 "name": f"{scope.name}/{r.arm_id.name}", **r.body}
        depends = [f"[{endpoint_ref}]"] if endpoint_ref else []
        if (scope.subscription.lower(), scope.resource_group.lower()) == (scenario.subscription.lower(),
                                                                          scenario.resource_group.lower()):
            out.append({**entry, "dependsOn": depends})
            continue
        out.append({
            "type": "Microsoft.Resources/deployments", "apiVersion": DEPLOYMENT_API,
            "name": "scope-link-" + _arm_name(f"{scope.name}-{r.arm_id.name}"),
            "subscriptionId": scope.subscription, "resourceGroup": scope.resource_group, "dependsOn": depends,
            "properties": {"mode": "Incremental", "template": {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "resources": [entry]}},
        })
    return out


def _arm_name(text: str) -> str:
    """An identifier for ARM parameter/output names: letters and digits, camelCased at separators."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    if not parts:
        return "x"
    head, *rest = parts
    name = head[0].lower() + head[1:] + "".join(p[0].upper() + p[1:] for p in rest)
    return name if name[0].isalpha() else "r" + name


def resource_filename(resource: Resource) -> str:
    """File name for ``render --format json --out``: ``<kind>-<name>.json``, path-safe."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", resource.name)
    label = resource.rule if resource.kind == Kind.ROLE_ASSIGNMENT else None
    middle = f"{label}-{safe}" if label else safe
    return f"{resource.kind.replace('_', '-')}-{middle}.json"
