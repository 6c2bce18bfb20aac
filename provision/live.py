"""Reading live state: GET every resource a scenario addresses, in parallel, as wire JSON. Only reads.

Reads go through the official SDK clients with a ``cls`` hook that returns the
response's JSON exactly as the service sent it, so the plan compares wire bodies
with rendered wire bodies (no SDK model in between to drop or rename fields).
A 404 means "absent"; any other failure is an ``AzureError`` naming what was
being read (403 explains which rights the deploying identity lacks).

Publishers given by ``app_id`` are resolved to their service principal's
object id through Microsoft Graph (``servicePrincipals(appId='...')``).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from provision import ids
from provision.azure import Session, azure_error, error_code
from provision.diagnostics import ERROR, Diagnostic
from provision.errors import AzureError
from provision.resources import Kind, ResourceId


class MissingResourceGroup(Exception):
    """The DCR/DCE resource group does not exist (ARM 404 ResourceGroupNotFound, azure-contract.md §1)."""

    def __init__(self, subscription: str, resource_group: str):
        super().__init__(resource_group)
        self.subscription, self.resource_group = subscription, resource_group

    def diagnostic(self, file=None) -> Diagnostic:
        return Diagnostic(ERROR, "ResourceGroupNotFound", f"resource group '{self.resource_group}' does not exist in "
                          f"subscription {self.subscription}", fix=f"create it first (az group create -n "
                          f"{self.resource_group} -l <location>) or set `resource_group` to an existing one",
                          file=file, source="azure-contract.md §1 (404 texts)")


def raw_json(pipeline_response, _deserialized, _headers):
    """``cls`` hook for SDK operations: the response body as the service sent it."""
    text = pipeline_response.http_response.text()  # transport responses of older SDKs have no .json()
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


# ----------------------------------------------------------- reads


def get_resource(session: Session, kind: str, resource_id: str) -> dict | None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError

    p = ResourceId.parse(resource_id)
    try:
        if kind in (Kind.TABLE, Kind.MIGRATION):  # a migration's live state is its table's
            return session.loganalytics(p.subscription).tables.get(p.resource_group, p.parent, p.name, cls=raw_json)
        if kind == Kind.RULE:
            return session.monitor(p.subscription).data_collection_rules.get(p.resource_group, p.name, cls=raw_json)
        if kind == Kind.ENDPOINT:
            return session.monitor(p.subscription).data_collection_endpoints.get(p.resource_group, p.name, cls=raw_json)
        if kind == Kind.ROLE_ASSIGNMENT:
            return session.authorization(p.subscription).role_assignments.get(p.scope, p.name, cls=raw_json)
        if kind == Kind.WORKSPACE:
            return session.loganalytics(p.subscription).workspaces.get(p.resource_group, p.name, cls=raw_json)
    except ResourceNotFoundError as error:
        if error_code(error) == "ResourceGroupNotFound" and kind in (Kind.RULE, Kind.ENDPOINT):
            raise MissingResourceGroup(p.subscription, p.resource_group) from None
        return None
    except (HttpResponseError, ServiceRequestError, ServiceResponseError) as error:
        raise azure_error(error, f"reading {kind.replace('_', ' ')} {resource_id}") from None
    raise ValueError(f"unknown resource kind {kind}")



def find_role_assignment(session: Session, scope: str, principal_id: str, role_guid: str) -> dict | None:
    """An existing assignment of ``role_guid`` to ``principal_id`` at exactly ``scope``, under any name.

    Covers assignments made by hand or by another tool (the service answers 409
    RoleAssignmentExists to ours, azure-contract.md §6.1)."""
    from azure.core.exceptions import HttpResponseError

    try:
        pages = session.authorization(ResourceId.parse(scope).subscription).role_assignments.list_for_scope(
            scope, filter=f"principalId eq '{principal_id}'")
        for item in pages:
            rd, sc = str(item.role_definition_id or ""), str(item.scope or scope)
            if rd.rsplit("/", 1)[-1].lower() == role_guid.lower() and sc.lower() == scope.lower():
                return {"properties": {"roleDefinitionId": rd, "principalId": item.principal_id,
                                       "principalType": item.principal_type, "scope": sc}}
    except HttpResponseError:
        return None  # listing is a convenience; the PUT's 409 handling still covers it
    return None


# ------------------------------------------------------------ publishers


def resolve_principals(session: Session, scenario, pool: ThreadPoolExecutor | None = None):
    """(app_id -> object id, publishers not found), through Microsoft Graph.

    ``app_id`` publishers are resolved (Graph 403 is an error suggesting ``object_id``);
    ``object_id`` publishers are checked to exist when Graph may be read (a 403 skips the
    check: giving ``object_id`` is the way to do without Graph, and apply's
    PrincipalNotFound still catches a wrong one)."""
    wanted = [p for p in scenario.publishers if p.app_id or p.object_id]

    def lookup(publisher):
        if publisher.object_id:
            try:
                body = session.graph_get(f"servicePrincipals/{publisher.object_id}")
            except AzureError as error:
                if getattr(error, "status", None) == 403:
                    return publisher, publisher.object_id  # cannot check: trust it
                raise
            return publisher, (body or {}).get("id")
        try:
            body = session.graph_get(f"servicePrincipals(appId='{publisher.app_id}')")
        except AzureError as error:
            if getattr(error, "status", None) != 403:
                raise
            # Graph answers 403 Authorization_RequestDenied to an app without Application.Read.All.
            where = f" (publisher {publisher.app_id}" + (f", line {publisher.line})" if getattr(publisher, "line", None)
                                                         else ")")
            raise AzureError(error.message + where, hint="the deploying identity may not read service principals in "
                             "Microsoft Graph (it needs the Application.Read.All application permission); grant it, or "
                             "give the publisher's `object_id:` (its service principal's object id, e.g. `az ad sp show "
                             f"--id {publisher.app_id} --query id`) instead of `app_id:`") from None
        return publisher, (body or {}).get("id")

    results = list((pool.map if pool else map)(lookup, wanted))
    found = {p.app_id: oid for p, oid in results if oid and p.app_id and not p.object_id}
    missing = [p for p, oid in results if not oid]
    return found, missing


# ------------------------------------------------------------- live state


def read_resources(session: Session, scenario, resources, pool, problems: list | None = None):
    """(lower id -> body, workspace body). A missing DCR resource group becomes one problem, not an error."""
    ws_future = pool.submit(get_resource, session, Kind.WORKSPACE, scenario.workspace)
    futures = {r.id.lower(): pool.submit(get_resource, session, r.kind, r.id) for r in resources
               if r.kind != Kind.ROLE_ASSIGNMENT}
    for table_id in azure_output_tables(resources, scenario.workspace):
        # Azure tables exist only where a solution brought them (e.g. Sentinel's CommonSecurityLog): plan checks them
        futures.setdefault(table_id.lower(), pool.submit(get_resource, session, Kind.TABLE, table_id))
    for workspace_id in destination_workspaces(resources, scenario.workspace):
        # other workspaces a rule writes to: plan checks each one exists and is in the rule's region
        futures.setdefault(workspace_id.lower(), pool.submit(get_resource, session, Kind.WORKSPACE, workspace_id))
    bodies, missing_groups = {}, {}
    for rid, future in futures.items():
        try:
            bodies[rid] = future.result()
        except MissingResourceGroup as missing:
            bodies[rid] = None
            missing_groups[(missing.subscription.lower(), missing.resource_group.lower())] = missing
    if problems is not None:
        problems += [m.diagnostic(getattr(scenario, "path", None)) for m in missing_groups.values()]
    return bodies, ws_future.result()


def destination_workspaces(resources, main_workspace: str) -> list[str]:
    """Workspace ids the rules' Log Analytics destinations name, other than the scenario's own."""
    found: dict[str, str] = {}
    for r in resources:
        if r.kind != Kind.RULE or not r.body:
            continue
        for entry in ((r.body.get("properties") or {}).get("destinations") or {}).get("logAnalytics") or []:
            workspace_id = str((entry or {}).get("workspaceResourceId") or "")
            if workspace_id and workspace_id.lower() != main_workspace.lower():
                found.setdefault(workspace_id.lower(), workspace_id)
    return list(found.values())


def azure_output_tables(resources, main_workspace: str) -> list[str]:
    """Ids of the Azure tables (``Microsoft-<Table>`` output streams) the rules' flows write to, in their workspaces."""
    found: dict[str, str] = {}
    for r in resources:
        if r.kind != Kind.RULE or not r.body:
            continue
        props = r.body.get("properties") or {}
        workspaces = {str(d.get("name", "")).lower(): str(d.get("workspaceResourceId") or main_workspace)
                      for d in (props.get("destinations") or {}).get("logAnalytics") or [] if isinstance(d, dict)}
        for flow in props.get("dataFlows") or []:
            output = str(flow.get("outputStream") or "")
            if not output.startswith("Microsoft-"):
                continue
            for name in flow.get("destinations") or []:
                workspace = workspaces.get(str(name).lower())
                if workspace:
                    table_id = ids.table_id(workspace, output[len("Microsoft-"):])
                    found.setdefault(table_id.lower(), table_id)
    return list(found.values())


def read_assignments(session: Session, resources, bodies: dict, pool) -> dict:
    """(lower id -> body) of the resolved role assignments; one on a DCR that does not exist yet is absent."""
    out: dict[str, dict | None] = {}
    futures = {}
    for r in resources:
        if r.kind != Kind.ROLE_ASSIGNMENT or r.unresolved:
            continue
        if bodies.get(str(r.scope).lower(), True) is None:
            out[r.id.lower()] = None  # its DCR does not exist yet, so neither does it
        else:
            futures[r.id.lower()] = pool.submit(read_assignment, session, r)
    out.update({rid: f.result() for rid, f in futures.items()})
    return out


def read_assignment(session: Session, resource) -> dict | None:
    """GET an assignment by its name; else the same (scope, principal, role) under another name, reported as ours."""
    body = get_resource(session, Kind.ROLE_ASSIGNMENT, resource.id)
    if body is not None or not resource.body or resource.absent:
        return body
    props = resource.body.get("properties", {})
    role_guid = str(props.get("roleDefinitionId", ids.MONITORING_METRICS_PUBLISHER_ROLE_ID)).rsplit("/", 1)[-1]
    existing = find_role_assignment(session, resource.arm_id.scope, props.get("principalId", ""), role_guid)
    if existing is None:
        return None
    # Same triple under another name: it is what we want, so report it under ours.
    return {"properties": {**existing["properties"], "principalType": existing["properties"].get(
        "principalType") or props.get("principalType")}}
