"""Rendered bodies against the official OpenAPI (swagger 2.0) schemas in ../shared/specs
(found through tests/specs.py: PROVISION_SPECS_DIR).

Each body must validate against its definition (jsonschema, with `$ref`s across files
resolved through `referencing`), and carry no field the definition does not declare and
no read-only field (so a PUT is accepted and a later GET compares clean).
Swagger specifics: `x-ms-*` are annotations; an enum marked `x-ms-enum.modelAsString`
is open (Azure accepts other values, e.g. DCR kind "Direct", azure-contract.md §5.2).
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from provision.render import render_resources
from provision.scenario import require_valid
from provision.scenario.model import ScopeLink
from tests.specs import SPECS, needs_specs

pytestmark = needs_specs

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))

DEFINITIONS = {
    # [SPEC-TBL25-07]
    "table": ("operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2025-07-01/Tables.json", "Table"),
    # [SPEC-DCE]
    "endpoint": ("monitor/resource-manager/Microsoft.Insights/stable/2024-03-11/dataCollectionEndpoints_API.json", "DataCollectionEndpointResource"),
    # [SPEC-DCR]
    "rule": ("monitor/resource-manager/Microsoft.Insights/stable/2024-03-11/dataCollectionRules_API.json", "DataCollectionRuleResource"),
    # [SPEC-RA]
    "role_assignment": ("authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json", "RoleAssignmentCreateParameters"),
    # privateLinkScopes_API.json (the newest version; no stable one exists)
    "scoped_resource": ("monitor/resource-manager/Microsoft.Insights/preview/2023-06-01-preview/privateLinkScopes_API.json", "ScopedResource"),
}


def _open_enums(node):
    """Drop `enum` where `x-ms-enum.modelAsString` is true (an open, extensible enum)."""
    if isinstance(node, dict):
        if node.get("x-ms-enum", {}).get("modelAsString") and "enum" in node:
            node = {k: v for k, v in node.items() if k != "enum"}
        return {k: _open_enums(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_open_enums(v) for v in node]
    return node


@cache
def _retrieve(uri: str) -> Resource:
    path = Path(uri.removeprefix("file://"))
    return Resource(_open_enums(json.loads(path.read_text())), DRAFT4)


REGISTRY = Registry(retrieve=_retrieve)


def _uri(kind: str) -> str:
    relative, name = DEFINITIONS[kind]
    return f"file://{SPECS / relative}#/definitions/{name}"


def schema_errors(kind: str, body: dict) -> list[str]:
    validator = jsonschema.Draft4Validator({"$ref": _uri(kind)}, registry=REGISTRY)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    resolver = REGISTRY.resolver()
    resolved = resolver.lookup(_uri(kind))
    return errors + _undeclared(body, resolved.contents, resolved.resolver, "")


def _deref(schema, resolver):
    while isinstance(schema, dict) and "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    return schema, resolver


def _merged(schema, resolver):
    """(properties name -> (schema, resolver), additionalProperties) of an object schema, through allOf."""
    schema, resolver = _deref(schema, resolver)
    properties: dict = {}
    additional = None
    for part in schema.get("allOf", []):
        more, extra = _merged(part, resolver)
        properties.update(more)
        additional = additional or extra
    for name, sub in schema.get("properties", {}).items():
        properties[name] = (sub, resolver)
    if isinstance(schema.get("additionalProperties"), dict):
        additional = (schema["additionalProperties"], resolver)
    return properties, additional


def _undeclared(body, schema, resolver, path) -> list[str]:
    problems = []
    if isinstance(body, dict):
        properties, additional = _merged(schema, resolver)
        for key, value in body.items():
            here = f"{path}/{key}"
            if key in properties:
                sub, sub_resolver = properties[key]
                target, target_resolver = _deref(sub, sub_resolver)
                if sub.get("readOnly") or target.get("readOnly"):
                    problems.append(f"{here}: read-only field in a request body")
                problems += _undeclared(value, sub, sub_resolver, here)
            elif additional:
                problems += _undeclared(value, *additional, here)
            else:
                problems.append(f"{here}: not declared by the schema")
    elif isinstance(body, list):
        target, target_resolver = _deref(schema, resolver)
        for index, item in enumerate(body):
            problems += _undeclared(item, target.get("items", {}), target_resolver, f"{path}/{index}")
    return problems


def _scenarios():
    for path in SCENARIOS:
        yield path.stem, require_valid(path, environ={})
    # the shipped scenarios are applied on the local Azure, which has no private link scope to associate with:
    # the DCE one, with two associations, stands in for a file that lists them
    with_dce = require_valid(REPO / "scenarios" / "with-dce.yaml", environ={})
    assert with_dce.endpoint is not None
    scopes = (ScopeLink("ampls-a"), ScopeLink("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/privateLinkScopes/b", "x"))
    yield "with-dce-scoped", replace(with_dce, endpoint=replace(with_dce.endpoint, private_link_scopes=scopes))


def _all_bodies():
    for stem, scenario in _scenarios():
        principals = {p.app_id: "b2b2b2b2-0000-4000-8000-000000000002" for p in scenario.publishers if p.app_id}
        for resource in render_resources(scenario, principals=principals):
            yield pytest.param(resource.kind, resource.body, id=f"{stem}-{resource.kind}-{resource.name}")


def test_the_official_specs_are_there():
    # CI keeps ../shared beside the clone; without it every schema test below would be vacuous.
    for relative, name in DEFINITIONS.values():
        assert name in json.loads((SPECS / relative).read_text())["definitions"]


@pytest.mark.parametrize("kind,body", list(_all_bodies()))
def test_rendered_body_validates_against_the_official_schema(kind, body):
    assert schema_errors(kind, body) == []


def test_every_kind_is_covered_by_the_scenarios():
    assert {p.values[0] for p in _all_bodies()} == set(DEFINITIONS)


# The checks above must be able to fail: known-bad bodies are caught.
@pytest.mark.parametrize("kind,body,expected", [
    ("rule", {"location": "westeurope", "kind": "Direct", "properties": {"immutableId": "dcr-x"}}, "read-only"),
    ("rule", {"location": "westeurope", "properties": {"dataFlows": [{"stream": "Custom-X"}]}}, "not declared"),
    ("rule", {"properties": {}}, "'location' is a required property"),
    ("rule", {"location": "x", "properties": {"streamDeclarations": {"Custom-X": {"columns": [{"name": "A", "type": 5}]}}}}, "is not of type 'string'"),
    ("table", {"properties": {"schema": {"name": "A_CL", "columns": [{"name": "A", "type": "string", "isHidden": True}]}}}, "read-only"),
    ("table", {"properties": {"retentionInDays": 2}}, "less than the minimum"),
    ("role_assignment", {"properties": {"roleDefinitionId": "x"}}, "'principalId' is a required property"),
    ("endpoint", {"location": "x", "properties": {"logsIngestion": {"endpoint": "https://x"}}}, "read-only"),
    ("scoped_resource", {"properties": {"linkedResourceId": "x", "provisioningState": "Succeeded"}}, "read-only"),
    ("scoped_resource", {"properties": {"linkedResourceId": 5}}, "is not of type 'string'"),
])
def test_the_schema_check_catches_bad_bodies(kind, body, expected):
    assert any(expected in e for e in schema_errors(kind, body)), schema_errors(kind, body)
