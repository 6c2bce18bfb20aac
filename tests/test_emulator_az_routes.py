"""The ARM and Graph routes the az CLI needs (issue 11), driven over HTTPS through the official clients' pipeline.

Cloud metadata, subscriptions, tenants, resource groups at current api-versions, provider metadata, Graph tokens for
the emulator's own URL and directoryObjects/getByIds. Bodies validate against the official OpenAPI documents
(Microsoft.Resources subscriptions 2022-12-01, resources 2025-04-01) where one exists; the az CLI itself runs in
tests/test_az_cli.py.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

from provision.emulator import arm, seed
from tests.emulator_helpers import RG, create_table, dcr_body, deploy, grant_sender
from tests.specs import SPECS, needs_specs
from tests.test_emulator_conformance import _call, _same_shape, validate

SUBS_SPEC = "resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json"
RES_SPEC = "resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json"
SUBS_EXAMPLES = SPECS / "resources/resource-manager/Microsoft.Resources/subscriptions"
RES_EXAMPLES = SPECS / "resources/resource-manager/Microsoft.Resources/resources/examples/2025-04-01"
SUB = f"/subscriptions/{seed.SUBSCRIPTION_ID}"


def _anonymous(emu, path: str) -> tuple[int, dict | None]:
    """A request with no Authorization header, as `az cloud register` sends it."""
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    try:
        with urllib.request.urlopen(emu.url + path, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _example(path) -> dict:
    return json.loads(path.read_text())


# ---------------------------------------------------------------------------------------------- cloud metadata
def test_metadata_endpoints_has_what_az_cloud_register_reads(emu):
    status, doc = _anonymous(emu, "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200
    # azure.cli.core.cloud._arm_to_cli_mapper indexes these; anything missing is a KeyError in `az cloud register`
    assert doc["name"] and isinstance(doc["suffixes"], dict)
    assert doc["authentication"]["loginEndpoint"] == emu.url
    assert doc["authentication"]["audiences"][0] == "https://management.azure.com/"  # what ARM here accepts
    assert doc["resourceManager"] == doc["microsoftGraphResourceId"] == emu.url + "/"
    assert "graph" not in doc and "portal" not in doc  # not served, so not advertised


def test_metadata_endpoints_versions(emu):
    status, doc = _anonymous(emu, "/metadata/endpoints?api-version=2015-01-01")
    assert status == 200 and doc == {"authentication": {"loginEndpoint": emu.url,
                                                         "audiences": ["https://management.azure.com/"]}}
    status, body = _anonymous(emu, "/metadata/endpoints")
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, body = _anonymous(emu, "/metadata/endpoints?api-version=2030-01-01")
    assert status == 400 and body["error"]["code"] == "InvalidApiVersionParameter"
    assert "2022-09-01" in body["error"]["message"]


# ---------------------------------------------------------------------------------------------- subscriptions
@needs_specs
def test_subscriptions_and_tenants_validate_and_match_the_examples(azure, emu):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "GET", "/subscriptions?api-version=2022-12-01")
    assert status == 200 and [s["subscriptionId"] for s in data["value"]] == [seed.SUBSCRIPTION_ID]
    validate(SUBS_SPEC, "Subscriptions_List", 200, data)
    _same_shape(data["value"][0], _example(SUBS_EXAMPLES / "examples/2022-12-01/GetSubscriptions.json")
                ["responses"]["200"]["body"]["value"][0])
    status, data, _ = _call(client, emu, "GET", f"{SUB}?api-version=2022-12-01")
    assert status == 200 and data["tenantId"] == seed.TENANT_ID and data["state"] == "Enabled"
    validate(SUBS_SPEC, "Subscriptions_Get", 200, data)
    _same_shape(data, _example(SUBS_EXAMPLES / "examples/2022-12-01/GetSubscription.json")["responses"]["200"]["body"])
    status, data, _ = _call(client, emu, "GET", "/tenants?api-version=2022-12-01")
    assert status == 200 and [t["tenantId"] for t in data["value"]] == [seed.TENANT_ID]
    validate(SUBS_SPEC, "Tenants_List", 200, data)
    example = _example(SUBS_EXAMPLES / "stable/2022-12-01/examples/GetTenants.json")["responses"]["200"]["body"]
    _same_shape(data["value"][0], example["value"][1], ignore=("tenantBrandingLogoUrl",))  # the 'Home' tenant


def test_subscription_errors(azure, emu):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "GET", "/subscriptions/00000000-0000-4000-8000-000000000000?api-version=2022-12-01")
    assert status == 404 and data["error"]["code"] == "SubscriptionNotFound"
    status, data, _ = _call(client, emu, "GET", "/subscriptions?api-version=2024-03-01")  # a resources version
    assert status == 400 and data["error"]["code"] == "NoRegisteredProviderFound"
    status, data, _ = _call(client, emu, "GET", "/subscriptions")
    assert status == 400 and data["error"]["code"] == "MissingApiVersionParameter"


def test_a_subscription_is_listed_to_a_caller_with_a_role_in_it(azure, emu):
    """The sender holds no role: no subscription (az login then says so); one assignment on a DCR shows it."""
    sender = azure.loganalytics("sender")
    assert _call(sender, emu, "GET", "/subscriptions?api-version=2022-12-01")[1] == {"value": []}
    assert _call(sender, emu, "GET", f"{SUB}?api-version=2022-12-01")[0] == 404
    deploy(azure)  # grants the sender Monitoring Metrics Publisher on the rule
    status, data, _ = _call(sender, emu, "GET", "/subscriptions?api-version=2022-12-01")
    assert status == 200 and [s["subscriptionId"] for s in data["value"]] == [seed.SUBSCRIPTION_ID]
    assert _call(sender, emu, "GET", f"{SUB}?api-version=2022-12-01")[0] == 200


# ---------------------------------------------------------------------------------------------- resource groups
@needs_specs
@pytest.mark.parametrize("version", ["2024-11-01", "2025-04-01", "2021-04-01"])
def test_resource_groups_at_current_api_versions(azure, emu, version):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "PUT", f"{SUB}/resourcegroups/rg-az?api-version={version}", {"location": "westeurope"})
    assert status == 201
    validate(RES_SPEC, "ResourceGroups_CreateOrUpdate", 201, data)
    _same_shape(data, _example(RES_EXAMPLES / "CreateResourceGroup.json")["responses"]["201"]["body"])
    status, data, _ = _call(client, emu, "GET", f"{SUB}/resourcegroups/{RG}?api-version={version}")
    assert status == 200
    validate(RES_SPEC, "ResourceGroups_Get", 200, data)
    _same_shape(data, _example(RES_EXAMPLES / "ResourceGroups_Get.json")["responses"]["200"]["body"])
    status, data, _ = _call(client, emu, "GET", f"{SUB}/resourcegroups?api-version={version}")
    assert status == 200 and [g["name"] for g in data["value"]] == ["rg-az", RG]
    validate(RES_SPEC, "ResourceGroups_List", 200, data)


def test_resource_group_list_is_filtered_by_rbac_and_refuses_filters(azure, emu):
    client = azure.loganalytics()
    _call(client, emu, "PUT", f"{SUB}/resourcegroups/rg-other?api-version=2024-11-01", {"location": "westeurope"})
    grant_sender(azure, f"{SUB}/resourceGroups/{RG}")  # Monitoring Metrics Publisher reads resource groups
    status, data, _ = _call(azure.loganalytics("sender"), emu, "GET", f"{SUB}/resourcegroups?api-version=2024-11-01")
    assert status == 200 and [g["name"] for g in data["value"]] == [RG]
    assert _call(azure.loganalytics("nobody"), emu, "GET", f"{SUB}/resourcegroups?api-version=2024-11-01")[1] == {"value": []}
    status, data, _ = _call(client, emu, "GET", f"{SUB}/resourcegroups?api-version=2024-11-01&$filter=tagName%20eq%20'a'")
    assert status == 400 and "$filter" in data["error"]["message"]
    status, data, _ = _call(client, emu, "GET", f"/subscriptions/{seed.TENANT_ID}/resourcegroups?api-version=2024-11-01")
    assert status == 404 and data["error"]["code"] == "SubscriptionNotFound"


def test_resource_group_check_existence(azure, emu):
    client = azure.loganalytics()
    assert _call(client, emu, "HEAD", f"{SUB}/resourcegroups/{RG}?api-version=2024-11-01")[0] == 204
    assert _call(client, emu, "HEAD", f"{SUB}/resourcegroups/rg-none?api-version=2024-11-01")[0] == 404
    assert _call(azure.loganalytics("nobody"), emu, "HEAD", f"{SUB}/resourcegroups/{RG}?api-version=2024-11-01")[0] == 403


def test_resource_group_delete_takes_what_it_holds(azure, emu):
    client = azure.loganalytics()
    rg_az = f"{SUB}/resourceGroups/rg-az"
    assert _call(client, emu, "PUT", f"{rg_az}?api-version=2024-11-01", {"location": "westeurope"})[0] == 201
    create_table(azure, "MyApp_CL", ("Message", "string"))
    rule = azure.monitor().data_collection_rules.create("rg-az", "dcr-in-az", json.dumps(dcr_body()).encode())
    grant_sender(azure, rule.id)
    grant_sender(azure, f"{SUB}/resourceGroups/{RG}")  # elsewhere: stays
    dce = f"{rg_az}/providers/Microsoft.Insights/dataCollectionEndpoints/dce-in-az"
    assert _call(client, emu, "PUT", f"{dce}?api-version=2023-03-11", {"location": "westeurope"})[0] == 201
    assert _call(azure.loganalytics("nobody"), emu, "DELETE", f"{rg_az}?api-version=2024-11-01")[0] == 403
    status, data, _ = _call(client, emu, "DELETE", f"{rg_az}?api-version=2024-11-01")
    assert (status, data) == (200, None)
    assert _call(client, emu, "HEAD", f"{rg_az}?api-version=2024-11-01")[0] == 404
    rules = _call(client, emu, "GET", f"{SUB}/providers/Microsoft.Insights/dataCollectionRules?api-version=2023-03-11")[1]
    endpoints = _call(client, emu, "GET", f"{SUB}/providers/Microsoft.Insights/dataCollectionEndpoints?api-version=2023-03-11")[1]
    assert rules["value"] == [] and endpoints["value"] == []
    scopes = [a["properties"]["scope"] for a in _call(client, emu, "GET", f"{SUB}/providers/Microsoft.Authorization/"
                                                                        "roleAssignments?api-version=2022-04-01")[1]["value"]]
    assert not [s for s in scopes if s.lower().startswith(rg_az.lower())] and f"{SUB}/resourceGroups/{RG}" in scopes
    status, data, _ = _call(client, emu, "DELETE", f"{rg_az}?api-version=2024-11-01")
    assert status == 404 and data["error"]["code"] == "ResourceGroupNotFound"
    status, data, _ = _call(client, emu, "DELETE", f"{SUB}/resourceGroups/{RG}?api-version=2024-11-01")
    assert status == 409 and "seeded workspaces" in data["error"]["message"]


def test_resource_group_refuses_an_api_version_the_service_does_not_have(azure, emu):
    status, data, _ = _call(azure.loganalytics(), emu, "GET", f"{SUB}/resourcegroups/{RG}?api-version=2024-12-01")
    assert status == 400 and data["error"]["code"] == "NoRegisteredProviderFound"
    assert "2025-04-01" in data["error"]["message"]


# ---------------------------------------------------------------------------------------------- providers
@needs_specs
def test_provider_metadata_validates_and_names_versions_the_routes_accept(azure, emu):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers/microsoft.insights?api-version=2024-11-01")
    assert status == 200 and data["namespace"] == "Microsoft.Insights" and data["registrationState"] == "Registered"
    validate(RES_SPEC, "Providers_Get", 200, data)
    _same_shape(data, _example(RES_EXAMPLES / "GetProvider.json")["responses"]["200"]["body"])
    types = {t["resourceType"]: t for t in data["resourceTypes"]}
    assert set(types) == {"dataCollectionRules", "dataCollectionEndpoints"}
    versions = types["dataCollectionRules"]["apiVersions"]
    assert versions == sorted(versions, reverse=True)  # newest first: az takes the first stable one
    newest = next(v for v in versions if "preview" not in v)
    rule = deploy(azure)
    assert _call(client, emu, "GET", f"{rule.id}?api-version={newest}")[0] == 200
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers/Microsoft.OperationalInsights?api-version=2025-04-01")
    tables = next(t for t in data["resourceTypes"] if t["resourceType"] == "workspaces/tables")
    assert tables["apiVersions"][0] == max(arm.API_VERSIONS["Microsoft.OperationalInsights/workspaces/tables"])


def test_provider_errors(azure, emu):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers/Microsoft.Compute?api-version=2024-11-01")
    assert status == 404 and data["error"] == {"code": "InvalidResourceNamespace",
                                               "message": "The resource namespace 'Microsoft.Compute' is invalid."}
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers/Microsoft.Insights?api-version=2022-12-01")
    assert status == 400 and data["error"]["code"] == "NoRegisteredProviderFound"
    status, _, _ = _call(azure.loganalytics("nobody"), emu, "GET", f"{SUB}/providers/Microsoft.Insights?api-version=2024-11-01")
    assert status == 200  # provider metadata is readable without a role


@needs_specs
def test_provider_list_and_register(azure, emu):
    client = azure.loganalytics()
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers?api-version=2024-11-01")
    assert status == 200 and [p["namespace"] for p in data["value"]] == [
        "Microsoft.Authorization", "Microsoft.Insights", "Microsoft.OperationalInsights", "Microsoft.Resources"]
    validate(RES_SPEC, "Providers_List", 200, data)
    status, data, _ = _call(client, emu, "POST", f"{SUB}/providers/microsoft.insights/register?api-version=2024-11-01")
    assert status == 200 and (data["namespace"], data["registrationState"]) == ("Microsoft.Insights", "Registered")
    validate(RES_SPEC, "Providers_Register", 200, data)
    status, data, _ = _call(azure.loganalytics("nobody"), emu, "POST",
                            f"{SUB}/providers/Microsoft.Insights/register?api-version=2024-11-01")
    assert status == 403 and data["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.Insights/register/action" in data["error"]["message"]
    status, data, _ = _call(client, emu, "POST", f"{SUB}/providers/Microsoft.Compute/register?api-version=2024-11-01")
    assert status == 404 and data["error"]["code"] == "InvalidResourceNamespace"
    status, data, _ = _call(client, emu, "GET", f"{SUB}/providers?api-version=2024-11-01&$top=1")
    assert status == 400 and "$top" in data["error"]["message"]


# ---------------------------------------------------------------------------------------------- Graph
def _graph_client(azure, who: str, resource: str):
    """A pipeline with a token for ``resource`` (az: the cloud's microsoftGraphResourceId, the emulator's URL)."""
    from azure.core import PipelineClient
    from azure.core.pipeline import policies

    credential = azure.credential(who)
    return PipelineClient(azure.emu.url, policies=[
        policies.BearerTokenCredentialPolicy(credential, resource.rstrip("/") + "/.default"),
        policies.RetryPolicy(retry_total=0)], connection_verify=azure.ca)


def test_graph_accepts_tokens_for_the_emulators_own_url(azure, emu):
    for resource in (emu.url + "/", "https://graph.microsoft.com"):
        client = _graph_client(azure, "deployer", resource)
        status, data, _ = _call(client, emu, "GET", f"/v1.0/servicePrincipals?$filter=servicePrincipalNames/any(c:c%20eq%20"
                                                    f"'{seed.SENDER_APP_ID}')")
        assert status == 200 and [p["id"] for p in data["value"]] == [seed.SENDER_OBJECT_ID], resource


def test_a_graph_token_for_the_emulators_url_is_not_an_arm_token(azure, emu):
    status, data, _ = _call(_graph_client(azure, "deployer", emu.url), emu, "GET", f"{seed.WORKSPACE_ID}?api-version=2025-02-01")
    assert status == 401 and data["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_get_by_ids(azure, emu):
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Directory.Read.All"])
    client = _graph_client(azure, "deployer", emu.url)
    body = {"ids": [seed.SENDER_OBJECT_ID, "00000000-0000-4000-8000-00000000dead", seed.DEPLOYER_OBJECT_ID.upper()],
            "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]}
    status, data, _ = _call(client, emu, "POST", "/v1.0/directoryObjects/getByIds", body)
    assert status == 200 and data["@odata.context"].endswith("$metadata#directoryObjects")
    assert [(o["@odata.type"], o["id"], o["appId"]) for o in data["value"]] == [
        ("#microsoft.graph.servicePrincipal", seed.SENDER_OBJECT_ID, seed.SENDER_APP_ID),
        ("#microsoft.graph.servicePrincipal", seed.DEPLOYER_OBJECT_ID, seed.DEPLOYER_APP_ID)]  # unknown ids left out
    assert _call(client, emu, "POST", "/v1.0/directoryObjects/getByIds",
                 {"ids": [seed.SENDER_OBJECT_ID], "types": ["user"]})[1]["value"] == []
    assert len(_call(client, emu, "POST", "/v1.0/directoryObjects/getByIds", {"ids": [seed.SENDER_OBJECT_ID]})[1]["value"]) == 1


def test_get_by_ids_errors(azure, emu):
    client = _graph_client(azure, "deployer", emu.url)
    status, data, _ = _call(client, emu, "POST", "/v1.0/directoryObjects/getByIds", {"ids": [seed.SENDER_OBJECT_ID]})
    assert status == 403 and data["error"]["code"] == "Authorization_RequestDenied"  # Application.Read.All is not enough
    emu.set_graph_roles(seed.DEPLOYER_APP_ID, ["Directory.Read.All"])
    client = _graph_client(azure, "deployer", emu.url)
    for body in ({}, {"ids": []}, {"ids": "x"}, {"ids": [1]}, {"ids": ["x"], "types": "user"},
                 {"ids": [str(i) for i in range(1001)]}):
        status, data, _ = _call(client, emu, "POST", "/v1.0/directoryObjects/getByIds", body)
        assert status == 400 and data["error"]["code"] == "BadRequest", body
    status, _, _ = _call(azure.loganalytics(), emu, "POST", "/v1.0/directoryObjects/getByIds", {"ids": ["x"]})
    assert status == 401  # an ARM token is not a Graph token
