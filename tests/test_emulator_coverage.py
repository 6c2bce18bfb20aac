"""The coverage table in docs/emulator.md is the route table's, and the api-versions it lists are the ones served.

Regenerate with ``python -m provision.emulator.coverage --write`` when a route or an api-version changes.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request

import pytest

from provision.emulator import coverage, identity, routes, seed

SAMPLES = {"sub": seed.SUBSCRIPTION_ID, "rg": seed.RESOURCE_GROUP, "ws": seed.WORKSPACE_NAME, "table": "Syslog",
           "name": "x", "scope": f"/subscriptions/{seed.SUBSCRIPTION_ID}", "role": seed.OWNER_ROLE_ID,
           "op_id": "00000000-0000-4000-8000-000000000000", "location": seed.LOCATION, "namespace": "Microsoft.Insights",
           "endpoint_kind": "dcr", "endpoint_key": "dcr-x", "rule_id": "dcr-x", "stream": "Custom-X",
           "tenant": seed.TENANT_ID, "app_id": seed.SENDER_APP_ID, "object_id": seed.SENDER_OBJECT_ID, "group_id": seed.SENDERS_GROUP_ID,
           "surface": "metrics", "rest": "", "customer": seed.WORKSPACE_CUSTOMER_ID, "scope_name": "x"}


def test_the_document_holds_the_generated_table():
    document = coverage.DEFAULT_DOC.read_text(encoding="utf-8")
    assert coverage.current(document) == coverage.markdown(), \
        "docs/emulator.md 'Coverage' is out of date: run `python -m provision.emulator.coverage --write`"


def test_every_route_is_in_the_table_once_with_its_versions():
    table = coverage.markdown()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| operation")]
    assert len(rows) == len(routes.ROUTES) and f"{len(routes.ROUTES)} routes" in table
    for route, row in zip([r for g, _ in coverage.GROUPS for r in routes.ROUTES if r.group == g], rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == route.operation and cells[1] == " ".join(route.methods)
        versions = routes.api_versions(route)
        assert cells[3] == (", ".join(versions) if versions else ("(in the path)" if route.group in ("entra", "graph")
                                                                   else "none"))
    assert all(route.api for route in routes.ROUTES if route.group in ("arm", "ingest") and route.operation != routes.NOT_EMULATED), \
        "an ARM or ingestion route without api-versions: add its operation group to routes._API_BY_OPERATION_GROUP"


def test_path_templates():
    by_operation = {r.operation: r for r in routes.ROUTES}
    assert coverage.path_template(by_operation["ServicePrincipals_GetByAppId"]) == "/v1.0/servicePrincipals(appId='{app_id}')"
    assert coverage.path_template(by_operation["RoleAssignments_Get"]) == \
        "{scope}/providers/microsoft.authorization/roleAssignments/{name}"
    assert coverage.path_template(by_operation["OpenIdConfiguration"]) == "/{tenant}/v2.0/.well-known/openid-configuration"
    for route in routes.ROUTES:  # a template filled with samples is a path its own route matches
        path = coverage.path_template(route).format(**SAMPLES)
        assert route.pattern.match(path), (route.operation, path)


def test_rewrite_needs_the_markers():
    with pytest.raises(ValueError, match="no coverage markers"):
        coverage.rewrite("# a document without the section\n")
    stale = f"intro\n{coverage.BEGIN}\nold table\n{coverage.END}\noutro\n"
    assert coverage.rewrite(stale) == f"intro\n{coverage.markdown()}\noutro\n"


def test_the_command(capsys, tmp_path):
    assert coverage.main([]) == 0 and capsys.readouterr().out.strip() == coverage.markdown()
    doc = tmp_path / "doc.md"
    doc.write_text(f"# x\n{coverage.BEGIN}\n{coverage.END}\n")
    assert coverage.main(["--write", str(doc)]) == 0
    assert coverage.current(doc.read_text()) == coverage.markdown()
    assert coverage.main(["--bogus"]) == 2


# The Data Collector API answers in its own error shape ({"Error", "Message"}); tests/test_datacollector.py checks
# its api-version refusal.
@pytest.mark.parametrize("route", [r for r in routes.ROUTES if r.api and r.group != "datacollector"], ids=lambda r: f"{r.operation}-{r.methods[0]}")
def test_each_operation_refuses_an_unsupported_version_naming_exactly_the_listed_ones(emu, route):
    """Every route called with api-version 1999-01-01: 400, and the message lists the table's versions."""
    audience, _ = routes.token_audience(route)
    headers = {"Content-Type": "application/json"}
    if audience:
        app = seed.SENDER_APP_ID if audience == identity.MONITOR_AUDIENCE else seed.DEPLOYER_APP_ID
        headers["Authorization"] = "Bearer " + emu.issue_token(app, audience)
    method = route.methods[0]
    path = coverage.path_template(route).format(**SAMPLES)
    request = urllib.request.Request(f"{emu.url}{path}?api-version=1999-01-01", method=method, headers=headers,
                                     data=b"[]" if method in ("PUT", "PATCH", "POST") else None)
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=context)
    assert refused.value.code == 400
    if method == "HEAD":
        return  # no body to read the versions from
    message = json.loads(refused.value.read())["error"]["message"]
    listed = re.search(r"supported (?:api-)?versions are '([^']*)'", message)
    assert listed and listed.group(1) == ", ".join(routes.api_versions(route) or ()), message
