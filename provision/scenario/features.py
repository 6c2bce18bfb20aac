"""Offline rules for what adopted DCRs use (issue 9): kind, tags, named destinations, group and per-rule publishers,
the endpoint's private link scopes.

Called by ``rules.check_scenario`` with its ``error``/``warning`` reporters. Pure: no network.
"""

from __future__ import annotations

from provision import ids
from provision.scenario.model import ABSENT, Scenario
from provision.scenario.names import BAD_NAME_CHARS

SRC_KIND = "azure-contract.md §5.2 (kind: endpoints are created only for Direct) and §4 (when a DCE is needed)"
SRC_DESTINATIONS = "azure-contract.md §5.2 (destinations.logAnalytics; one workspace per stream; region of the workspace)"
SRC_TAGS = ("ARM tag limits: at most 50 tags, names up to 512 and values up to 256 characters, no <>%&\\?/ in names "
            "(learn.microsoft.com azure-resource-manager/management/tag-resources §Limitations)")
SRC_PRINCIPAL = "azure-contract.md §6.1 [SPEC-RA] principalId, principalType"
SRC_SCOPES = ("privateLinkScopes_API.json 2023-06-01-preview (Microsoft.Insights/privateLinkScopes/{scopeName}/scopedResources/"
              "{name}); azure-contract.md §1 (names are path segments of the ARM URL)")
MAX_TAGS, MAX_TAG_NAME, MAX_TAG_VALUE = 50, 512, 256
_BAD_TAG_CHARS = set("<>%&\\?/")


def check_features(scenario: Scenario, error, warning) -> None:
    endpoint = scenario.endpoint if scenario.endpoint is not None and scenario.endpoint.ensure != ABSENT else None
    for rule in scenario.rules.values():
        if rule.ensure == ABSENT:
            continue
        if rule.kind is None and endpoint is None:
            error("RuleNeedsEndpoint", f"rule '{rule.name}' has no kind, so it has no ingestion endpoint of its own and needs the "
                  "scenario's data collection endpoint", rule.lines.get("kind", rule.line),
                  "add 'endpoint: {name: dce-<something>}' to the scenario, or drop 'kind: none' (kind Direct)", SRC_KIND)
        _check_tags(rule.tags, f"rule '{rule.name}'", rule.lines.get("tags", rule.line), error)
        workspaces_of: dict[str, set[str]] = {}
        for flow in rule.flows:
            for stream in flow.streams:
                workspaces_of.setdefault(stream, set()).update(
                    rule.destinations[n].lower() for n in flow.destinations if n in rule.destinations)
        for stream, workspaces in workspaces_of.items():
            if len(workspaces) > 1:
                error("StreamManyWorkspaces", f"stream '{stream}' of rule '{rule.name}' goes to {len(workspaces)} workspaces; "
                      "a stream can go to only one Log Analytics workspace per DCR", rule.lines.get("flows", rule.line),
                      "give the other workspace its own stream (or its own rule)", SRC_DESTINATIONS)
        for flow in rule.flows:
            table = scenario.tables.get(flow.table)
            holder = (table.workspace if table is not None and table.workspace else scenario.workspace).lower()
            for name in flow.destinations:
                workspace = rule.destinations.get(name)
                if workspace and "${" not in workspace and "${" not in holder and workspace.lower() != holder:
                    error("FlowTableWorkspace", f"flow {flow.index + 1} of rule '{rule.name}' writes table '{flow.table}' to destination "
                          f"'{name}' ({workspace.rsplit('/', 1)[-1]}), but the scenario puts the table in "
                          f"{holder.rsplit('/', 1)[-1]}", flow.line or rule.line,
                          f"set 'workspace:' on table '{flow.table}' to the destination's workspace, or send the flow to the "
                          "destination of the table's workspace", SRC_DESTINATIONS)
    if scenario.endpoint is not None:
        _check_tags(scenario.endpoint.tags, "the endpoint", scenario.endpoint.line, error)
        _check_scope_links(scenario, error)
    for publisher in scenario.publishers:
        for rule_name in publisher.rules or ():
            if rule_name not in scenario.rules:
                error("PublisherRuleUnknown", f"publisher {publisher.key} is limited to rule '{rule_name}', which this scenario does "
                      "not declare", publisher.line, f"use one of: {', '.join(scenario.rules) or '(no rules)'}", SRC_PRINCIPAL)
        if publisher.rules == ():
            warning("PublisherNoRules", f"publisher {publisher.key} has 'rules: []', so it gets no role anywhere", publisher.line,
                    "list the rules it sends to, or drop 'rules' (all rules)", SRC_PRINCIPAL)


def _check_tags(tags: dict[str, str], where: str, line, error) -> None:
    if len(tags) > MAX_TAGS:
        error("TagLimit", f"{where} has {len(tags)} tags; a resource takes at most {MAX_TAGS}", line, "merge or drop tags", SRC_TAGS)
    for name, value in tags.items():
        if len(name) > MAX_TAG_NAME or _BAD_TAG_CHARS & set(name) or not name.strip():
            error("TagName", f"tag name '{name}' of {where} is not allowed (1-{MAX_TAG_NAME} characters, none of <>%&\\?/)", line,
                  "rename the tag", SRC_TAGS)
        if len(value) > MAX_TAG_VALUE:
            error("TagValue", f"the value of tag '{name}' of {where} is {len(value)} characters; the limit is {MAX_TAG_VALUE}", line,
                  "shorten the value", SRC_TAGS)


def _check_scope_links(scenario: Scenario, error) -> None:
    """Each private link scope is a scope's name or a privateLinkScopes id, named once; names fit an ARM path."""
    assert scenario.endpoint is not None
    seen: dict[str, int | None] = {}
    for link in scenario.endpoint.private_link_scopes:
        if "${" in link.scope:
            continue  # an unresolved variable: its own diagnostic says so
        if link.scope.startswith("/"):
            if not ids.is_private_link_scope_id(link.scope):
                error("PrivateLinkScopeId", f"private link scope '{link.scope}' is not the id of an Azure Monitor private link scope",
                      link.line, "write /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Insights/privateLinkScopes/<name>, "
                      "or the scope's name alone when it is in the scenario's resource group", SRC_SCOPES)
                continue
        elif BAD_NAME_CHARS.search(link.scope):
            error("PrivateLinkScopeId", f"private link scope name '{link.scope}' cannot be used in an ARM resource id", link.line,
                  "give the scope's name (letters, digits, '-', '_', '.', '(' or ')') or its full ARM id", SRC_SCOPES)
            continue
        if link.name is not None and (not link.name or BAD_NAME_CHARS.search(link.name)):
            error("ResourceName", f"scoped resource name '{link.name}' cannot be used in an ARM resource id", link.line,
                  "use letters, digits, '-', '_' or '.'", SRC_SCOPES)
        key = ids.private_link_scope_id(scenario.subscription, scenario.resource_group, link.scope).lower()
        if key in seen:
            error("DuplicateScopeLink", f"private link scope '{link.scope}' is listed twice for the endpoint (first on line "
                  f"{seen[key]})", link.line, "keep one entry per scope", SRC_SCOPES)
        seen.setdefault(key, link.line)
