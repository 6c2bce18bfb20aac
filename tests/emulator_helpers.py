"""Shared builders for the emulator tests: request bodies and a deployed table + DCR + role."""

from __future__ import annotations

import json
import uuid

from provision.emulator import seed

RG = seed.RESOURCE_GROUP
WS = seed.WORKSPACE_NAME
MMP = f"/subscriptions/{seed.SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{seed.MONITORING_METRICS_PUBLISHER_ROLE_ID}"


def table_body(*columns, **props) -> dict:
    cols = [{"name": "TimeGenerated", "type": "dateTime"}] + [{"name": n, "type": t} for n, t in columns]
    return {"properties": {"schema": {"columns": cols}, **props}}


def dcr_body(table="MyApp_CL", stream="Custom-MyApp", columns=(("TimeGenerated", "datetime"), ("Message", "string")),
             transform="source", location=seed.LOCATION, workspace=seed.WORKSPACE_ID, kind="Direct", **props) -> dict:
    return {
        "location": location, "kind": kind,
        "properties": {
            "streamDeclarations": {stream: {"columns": [{"name": n, "type": t} for n, t in columns]}},
            "destinations": {"logAnalytics": [{"workspaceResourceId": workspace, "name": "law"}]},
            "dataFlows": [{"streams": [stream], "destinations": ["law"], "transformKql": transform,
                           "outputStream": f"Custom-{table}"}],
            **props,
        },
    }


def create_table(azure, name="MyApp_CL", *columns):
    la = azure.loganalytics()
    return la.tables.begin_create_or_update(RG, WS, name, table_body(*(columns or (("Message", "string"),)))).result()


def create_dcr(azure, name="dcr-myapp", body=None):
    return azure.monitor().data_collection_rules.create(RG, name, json.dumps(body or dcr_body()).encode())


def grant_sender(azure, scope: str, principal: str = seed.SENDER_OBJECT_ID, name: str | None = None):
    return azure.authorization().role_assignments.create(scope, name or str(uuid.uuid4()), {
        "properties": {"roleDefinitionId": MMP, "principalId": principal, "principalType": "ServicePrincipal"}})


def deploy(azure, table="MyApp_CL", columns=(("Message", "string"),), rule="dcr-myapp", body=None, grant=True):
    """Table + DCR (+ Monitoring Metrics Publisher for the sender on the DCR); returns the DCR."""
    create_table(azure, table, *columns)
    rule_resource = create_dcr(azure, rule, body or dcr_body(table=table))
    if grant:
        grant_sender(azure, rule_resource.id)
    return rule_resource
