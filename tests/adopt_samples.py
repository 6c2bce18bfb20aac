"""Real public DCR/table/DCE definitions, as their sources deploy them, for the import round trips.

Each ``SAMPLES`` entry gives the request bodies with the template parameters filled in for the local
Azure (workspace id, DCE id, location, names); everything else is as published.

1. ``tutorial``: Microsoft Learn, "Tutorial: Send data to Azure Monitor using Logs ingestion API
   (Resource Manager templates)", MicrosoftDocs/azure-docs
   articles/azure-monitor/logs/tutorial-logs-ingestion-api.md (commit 033d2b40): the MyTable_CL table
   (Tables API body), the DCE template and the DCR template (no `kind`, bound to the DCE, destination
   `clv2ws1`, a parse_json transform).
2. ``sentinel_syslog``: SecureHats/Sentinel-playground .artifacts/tables/Syslog.bicep: a DCE and a DCR
   without `kind` sending stream Custom-LogCollection to the Azure table Syslog (`Microsoft-Syslog`),
   destination named after the workspace, transform `source | extend TimeGenerated = now()`.
3. ``guardrails``: ssc-spc-ccoe-cei/azure-guardrails-solution-accelerator setup/IaC/modules/dcrdce.bicep
   (commit 374363c4): the DCE (`kind: Logs`, tags) and DCR 2 (`kind: Direct`, tags, two flows with
   `_s`-suffix transforms). The module declares its tables as `existing`; their columns here are the
   ones its transforms project (TimeGenerated datetime, the `_s` columns string).
"""

from __future__ import annotations

from provision.emulator import seed

RG = seed.RESOURCE_GROUP
WS = seed.WORKSPACE_ID
LOCATION = seed.LOCATION


def dce_id(name: str) -> str:
    return f"/subscriptions/{seed.SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/dataCollectionEndpoints/{name}"


def _columns(*pairs) -> list[dict]:
    return [{"name": n, "type": t} for n, t in pairs]


def tutorial() -> dict:
    table = {"properties": {"schema": {"name": "MyTable_CL", "columns": [
        {"name": "TimeGenerated", "type": "datetime", "description": "The time at which the data was generated"},
        {"name": "AdditionalContext", "type": "dynamic", "description": "Additional message properties"},
        {"name": "ExtendedColumn", "type": "string", "description": "An additional column extended at ingestion time"},
    ]}}}
    dce = {"location": LOCATION, "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}}}
    dcr = {"location": LOCATION, "properties": {
        "dataCollectionEndpointId": dce_id("dce-tutorial"),
        "streamDeclarations": {"Custom-MyTableRawData": {"columns": _columns(
            ("Time", "datetime"), ("Computer", "string"), ("AdditionalContext", "string"))}},
        "destinations": {"logAnalytics": [{"workspaceResourceId": WS, "name": "clv2ws1"}]},
        "dataFlows": [{"streams": ["Custom-MyTableRawData"], "destinations": ["clv2ws1"],
                       "transformKql": "source | extend jsonContext = parse_json(AdditionalContext) | project TimeGenerated = "
                                       "Time, Computer, AdditionalContext = jsonContext, ExtendedColumn=tostring(jsonContext.CounterName)",
                       "outputStream": "Custom-MyTable_CL"}],
    }}
    return {"tables": {"MyTable_CL": table}, "dce": ("dce-tutorial", dce), "dcrs": {"dcr-tutorial": dcr}}


def sentinel_syslog() -> dict:
    dce = {"location": LOCATION, "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}}}
    dcr = {"location": LOCATION, "properties": {
        "dataCollectionEndpointId": dce_id("Syslog"),
        "streamDeclarations": {"Custom-LogCollection": {"columns": _columns(
            ("SourceSystem", "string"), ("TimeGenerated", "datetime"), ("Computer", "string"), ("EventTime", "datetime"),
            ("Facility", "string"), ("HostName", "string"), ("SeverityLevel", "string"), ("SyslogMessage", "string"),
            ("ProcessID", "int"), ("HostIP", "string"), ("ProcessName", "string"), ("Type", "string"))}},
        "destinations": {"logAnalytics": [{"workspaceResourceId": WS, "name": seed.WORKSPACE_NAME}]},
        "dataFlows": [{"streams": ["Custom-LogCollection"], "destinations": [seed.WORKSPACE_NAME],
                       "outputStream": "Microsoft-Syslog", "transformKql": "source | extend TimeGenerated = now()"}],
    }}
    return {"tables": {}, "dce": ("Syslog", dce), "dcrs": {"Syslog": dcr}}


def guardrails() -> dict:
    tags = {"releaseVersion": "2.1.0", "releaseDate": "2025-06-01"}
    users = ("UserId_s", "DisplayName_s", "GivenName_s", "UserPrincipalName_s", "Comments_s", "ReportTime_s", "itsgcode_s")
    external = ("Comments_s", "DisplayName_s", "ItemName_s", "Mail_s", "PrivilegedRole_s", "ReportTime_s", "Role_s",
                "Subscription_s", "itsgcode_s")

    def table(name, columns):
        return {"properties": {"schema": {"name": name, "columns": _columns(("TimeGenerated", "datetime"),
                                                                           *((c, "string") for c in columns))}}}

    dce = {"location": LOCATION, "tags": tags, "kind": "Logs",
           "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}}}
    dcr = {"location": LOCATION, "tags": tags, "kind": "Direct", "properties": {
        "dataCollectionEndpointId": dce_id("guardrails-dce"),
        "dataFlows": [
            {"streams": ["Custom-GR2UsersWithoutGroups"], "destinations": ["guardrails-law"],
             "transformKql": "source | extend UserId_s = tostring(UserId), DisplayName_s = tostring(DisplayName), GivenName_s = "
                             "tostring(GivenName), UserPrincipalName_s = tostring(UserPrincipalName), Comments_s = tostring(Comments), "
                             "ReportTime_s = tostring(ReportTime), itsgcode_s = tostring(itsgcode) | project TimeGenerated, UserId_s, "
                             "DisplayName_s, GivenName_s, UserPrincipalName_s, Comments_s, ReportTime_s, itsgcode_s",
             "outputStream": "Custom-GR2UsersWithoutGroups_CL"},
            {"streams": ["Custom-GR2ExternalUsers"], "destinations": ["guardrails-law"],
             "transformKql": "source | extend Comments_s = tostring(Comments), DisplayName_s = tostring(DisplayName), ItemName_s = "
                             "tostring(ItemName), Mail_s = tostring(Mail), PrivilegedRole_s = tostring(PrivilegedRole), ReportTime_s = "
                             "tostring(ReportTime), Role_s = tostring(Role), Subscription_s = tostring(Subscription), itsgcode_s = "
                             "tostring(itsgcode) | project TimeGenerated, Comments_s, DisplayName_s, ItemName_s, Mail_s, "
                             "PrivilegedRole_s, ReportTime_s, Role_s, Subscription_s, itsgcode_s",
             "outputStream": "Custom-GR2ExternalUsers_CL"},
        ],
        "destinations": {"logAnalytics": [{"name": "guardrails-law", "workspaceResourceId": WS}]},
        "streamDeclarations": {
            "Custom-GR2UsersWithoutGroups": {"columns": _columns(
                ("TimeGenerated", "datetime"), ("UserId", "string"), ("DisplayName", "string"), ("GivenName", "string"),
                ("UserPrincipalName", "string"), ("Comments", "string"), ("ReportTime", "string"), ("itsgcode", "string"))},
            "Custom-GR2ExternalUsers": {"columns": _columns(
                ("TimeGenerated", "datetime"), ("Comments", "string"), ("DisplayName", "string"), ("ItemName", "string"),
                ("Mail", "string"), ("PrivilegedRole", "string"), ("ReportTime", "string"), ("Role", "string"),
                ("Subscription", "string"), ("itsgcode", "string"))},
        },
    }}
    return {"tables": {"GR2UsersWithoutGroups_CL": table("GR2UsersWithoutGroups_CL", users),
                       "GR2ExternalUsers_CL": table("GR2ExternalUsers_CL", external)},
            "dce": ("guardrails-dce", dce), "dcrs": {"guardrails-dcr-2": dcr}}


SAMPLES = {"tutorial": tutorial, "sentinel_syslog": sentinel_syslog, "guardrails": guardrails}
