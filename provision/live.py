"""Reading live state: every resource a scenario addresses, in parallel, as wire JSON. Only reads.

Reads go through the official SDK clients' pipelines (``Session.arm_get``) and return the
response's JSON exactly as the service sent it, so the plan compares wire bodies with
rendered wire bodies (no SDK model in between to drop or rename fields, nor built and
thrown away). A 404 means "absent"; any other failure is an ``AzureError`` naming what was
being read (403 explains which rights the deploying identity lacks).

Where ARM has a list for a kind and scope, it is read once instead of one GET per resource
(issue 13: a no-op plan at 200 tables made 282 reads): the tables of a workspace
(Tables_ListByWorkspace), the DCRs and the DCEs of a resource group
(DataCollectionRules_ListByResourceGroup, DataCollectionEndpoints_ListByResourceGroup), and a
principal's role assignments at and below a resource group (RoleAssignments_ListForScope with
``$filter=principalId eq '...'``, which "return[s] all role assignments at, above or below the
scope for the specified principal": azure-rest-api-specs, Microsoft.Authorization stable/2022-04-01,
authorization-RoleAssignmentsCalls.json, the FilterParameter). A list item is the same resource representation as the
GET's. When a list fails (403: an identity may read resources but not list them, or any other
error), that group falls back to the GETs, so what is read and every error stay the GET path's.

Publishers given by ``app_id`` are resolved to their service principal's
object id through Microsoft Graph (``servicePrincipals(appId='...')``).
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor

from provision import ids
from provision.azure import ARM_API_VERSIONS, Session, azure_error, error_code
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

    if kind not in ARM_API_VERSIONS:
        raise ValueError(f"unknown resource kind {kind}")
    p = ResourceId.parse(resource_id)
    try:
        # the URL the SDK's get builds is the resource id (its names are ARM names: nothing to quote)
        return session.arm_get(p.subscription, resource_id, ARM_API_VERSIONS[kind])
    except ResourceNotFoundError as error:
        if error_code(error) == "ResourceGroupNotFound" and kind in (Kind.RULE, Kind.ENDPOINT):
            raise MissingResourceGroup(p.subscription, p.resource_group) from None
        return None
    except (HttpResponseError, ServiceRequestError, ServiceResponseError) as error:
        raise azure_error(error, f"reading {kind.replace('_', ' ')} {resource_id}") from None


# A group this small is read with GETs: in parallel they take one round trip, as the list does, and a list of a
# workspace's tables carries every table it has (hundreds of Azure's own), not just ours.
LIST_MIN = 4


def list_items(session: Session, subscription: str, path: str, api_version: str, params: dict | None = None) -> list:
    """Every item of an ARM list, following ``nextLink`` (ARM pages lists: azure-contract.md §1)."""
    page = session.arm_get(subscription, path, api_version, params)
    items = list(page.get("value") or [])
    while page.get("nextLink"):
        page = session.arm_get(subscription, page["nextLink"], api_version)
        items += page.get("value") or []
    return items


def _list_path(kind: str, resource: ResourceId) -> str:
    """The list that holds ``resource``: its workspace's tables, its resource group's DCRs or DCEs."""
    if kind == Kind.TABLE:
        return f"/subscriptions/{resource.subscription}/resourceGroups/{resource.resource_group}/providers/" \
               f"Microsoft.OperationalInsights/workspaces/{resource.parent}/tables"
    provider = "dataCollectionRules" if kind == Kind.RULE else "dataCollectionEndpoints"
    return f"/subscriptions/{resource.subscription}/resourceGroups/{resource.resource_group}/providers/" \
           f"Microsoft.Insights/{provider}"


def _listable(kind: str) -> bool:
    return kind in (Kind.TABLE, Kind.RULE, Kind.ENDPOINT)


def read_group(session: Session, kind: str, resource_ids: list[str]) -> dict[str, dict | None] | None:
    """(lower id -> body) of resources of one kind in one list's scope, from one list; None when the list
    failed (denied: 403, its scope missing: 404, or failing), for the caller to GET each instead: the GETs
    then say exactly what the GET path would (an absent resource, MissingResourceGroup, an AzureError)."""
    from azure.core.exceptions import AzureError as SdkError

    first = ResourceId.parse(resource_ids[0])
    try:
        items = list_items(session, first.subscription, _list_path(kind, first), ARM_API_VERSIONS[kind])
    except SdkError:
        return None
    by_name = {str(item.get("name", "")).lower(): item for item in items}
    return {rid.lower(): by_name.get(ResourceId.parse(rid).name.lower()) for rid in resource_ids}


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
    PrincipalNotFound still catches a wrong one). ``group_id`` publishers likewise, through
    ``groups/{id}`` (which needs GroupMember.Read.All, Group.Read.All or a Directory permission,
    Graph "Get group"; without one the id is trusted as an object_id is)."""
    wanted = [p for p in scenario.publishers if p.app_id or p.object_id or p.group_id]

    def lookup(publisher):
        if publisher.object_id or publisher.group_id:
            path = (f"servicePrincipals/{publisher.object_id}" if publisher.object_id
                    else f"groups/{publisher.group_id}")
            try:
                body = session.graph_get(path)
            except AzureError as error:
                if getattr(error, "status", None) == 403:
                    return publisher, publisher.object_id or publisher.group_id  # cannot check: trust it
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


def _done(value):
    future: Future = Future()
    future.set_result(value)
    return future


def _read_one(session: Session, kind: str, resource_id: str) -> dict[str, dict | None]:
    return {resource_id.lower(): get_resource(session, kind, resource_id)}


def read_resources(session: Session, scenario, resources, pool, problems: list | None = None,
                   list_min: int = LIST_MIN):
    """(lower id -> body, workspace body). A missing DCR resource group becomes one problem, not an error.
    ``list_min``: the fewest resources of one kind and scope read with a list (tests compare both paths)."""
    ws_future = pool.submit(get_resource, session, Kind.WORKSPACE, scenario.workspace)
    wanted: dict[str, tuple[str, str]] = {}
    migrations: dict[str, str] = {}  # lower migrate-action id -> lower id of its table, whose body is its live state
    for r in resources:
        if r.kind == Kind.MIGRATION:  # read once, with the table's own read
            table_id = r.id.removesuffix("/migrate")
            migrations[r.id.lower()] = table_id.lower()
            wanted.setdefault(table_id.lower(), (Kind.TABLE, table_id))
        elif r.kind != Kind.ROLE_ASSIGNMENT:
            wanted[r.id.lower()] = (r.kind, r.id)
            if r.kind == Kind.SCOPED_RESOURCE and r.scope and not r.absent:
                # the scope must exist before the endpoint can be associated with it: plan checks it
                wanted.setdefault(r.scope.lower(), (Kind.PRIVATE_LINK_SCOPE, r.scope))
    for table_id in azure_output_tables(resources, scenario.workspace):
        # Azure tables exist only where a solution brought them (e.g. Sentinel's CommonSecurityLog): plan checks them
        wanted.setdefault(table_id.lower(), (Kind.TABLE, table_id))
    for workspace_id in destination_workspaces(resources, scenario.workspace):
        # other workspaces a rule writes to: plan checks each one exists and is in the rule's region
        wanted.setdefault(workspace_id.lower(), (Kind.WORKSPACE, workspace_id))
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, rid in wanted.values():
        scope = _list_path(kind, ResourceId.parse(rid)).lower() if _listable(kind) else rid.lower()
        groups.setdefault((kind, scope), []).append(rid)
    listed = {key: pool.submit(read_group, session, key[0], members) for key, members in groups.items()
              if _listable(key[0]) and len(members) >= list_min}
    futures = []  # (lower ids, future of {lower id: body})
    for key, members in groups.items():
        if key not in listed:
            futures += [([m.lower()], pool.submit(_read_one, session, key[0], m)) for m in members]
    for key, future in listed.items():
        found = future.result()
        if found is None:  # the list failed: the GETs, in parallel
            futures += [([m.lower()], pool.submit(_read_one, session, key[0], m)) for m in groups[key]]
        else:
            futures.append((list(found), _done(found)))
    bodies: dict[str, dict | None] = {}
    missing_groups = {}
    for rids, future in futures:
        try:
            bodies.update(future.result())
        except MissingResourceGroup as missing:
            bodies.update(dict.fromkeys(rids))
            missing_groups[(missing.subscription.lower(), missing.resource_group.lower())] = missing
    bodies.update({migration: bodies.get(table) for migration, table in migrations.items()})
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


def read_assignments(session: Session, resources, bodies: dict, pool, list_min: int = LIST_MIN) -> dict:
    """(lower id -> body) of the resolved role assignments; one on a DCR that does not exist yet is absent.

    A principal's assignments on the DCRs of one resource group are one list (``$filter=principalId eq``), the
    same answer as ``read_assignment`` per assignment: by name at its scope, else the same (scope, principal,
    role) under another name; when the list fails, ``read_assignment`` each."""
    out: dict[str, dict | None] = {}
    groups: dict[tuple[str, str, str], list] = {}
    for r in resources:
        if r.kind != Kind.ROLE_ASSIGNMENT or r.unresolved:
            continue
        if bodies.get(str(r.scope).lower(), True) is None:
            out[r.id.lower()] = None  # its DCR does not exist yet, so neither does it
            continue
        scope = ResourceId.parse(r.arm_id.scope)
        principal = r.principal_id or (r.body or {}).get("properties", {}).get("principalId") or ""
        groups.setdefault((scope.subscription.lower(), scope.resource_group.lower(), principal.lower()), []).append(r)
    listed = {key: pool.submit(_list_assignments, session, members[0], key[2]) for key, members in groups.items()
              if key[1] and key[2] and len(members) >= list_min}
    futures = {r.id.lower(): pool.submit(read_assignment, session, r) for key, members in groups.items()
               if key not in listed for r in members}
    for key, future in listed.items():
        items = future.result()
        for r in groups[key]:
            if items is None:  # the list failed: the GET path, in parallel
                futures[r.id.lower()] = pool.submit(read_assignment, session, r)
            else:
                out[r.id.lower()] = assignment_in(items, r)
    out.update({rid: f.result() for rid, f in futures.items()})
    return out


def _list_assignments(session: Session, resource, principal_id: str) -> list | None:
    """The principal's role assignments at, above and below the resource group of ``resource``'s scope; None
    when the list fails (e.g. 403: the caller may read assignments one by one but not list them)."""
    from azure.core.exceptions import AzureError as SdkError

    scope = ResourceId.parse(resource.arm_id.scope)
    path = f"/subscriptions/{scope.subscription}/resourceGroups/{scope.resource_group}/providers/" \
           "Microsoft.Authorization/roleAssignments"
    try:
        return list_items(session, scope.subscription, path, ARM_API_VERSIONS[Kind.ROLE_ASSIGNMENT],
                          {"$filter": f"principalId eq '{principal_id}'"})
    except SdkError:
        return None


def assignment_in(items: list, resource) -> dict | None:
    """What ``read_assignment`` returns for ``resource``, found in a list of its principal's assignments."""
    name, scope = resource.arm_id.name.lower(), str(resource.arm_id.scope).lower()
    for item in items:
        props = item.get("properties") or {}
        if str(item.get("name", "")).lower() == name and str(props.get("scope", "")).lower() == scope:
            return item
    if not resource.body or resource.absent:
        return None
    wanted = resource.body.get("properties", {})
    role_guid = str(wanted.get("roleDefinitionId", ids.MONITORING_METRICS_PUBLISHER_ROLE_ID)).rsplit("/", 1)[-1]
    for item in items:  # the same triple under another name (find_role_assignment's rule)
        props = item.get("properties") or {}
        rd, sc = str(props.get("roleDefinitionId") or ""), str(props.get("scope") or scope)
        if rd.rsplit("/", 1)[-1].lower() == role_guid.lower() and sc.lower() == scope:
            return {"properties": {"roleDefinitionId": rd, "principalId": props.get("principalId"),
                                   "principalType": props.get("principalType") or wanted.get("principalType"),
                                   "scope": sc}}
    return None


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
