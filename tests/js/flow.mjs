// The Azure SDK for JavaScript against the local emulator, as a Node.js sender's pipeline would use it
// (tests/js/test_js_sdk.py runs it). Input: one JSON object on stdin (the emulator's URL, ids, credentials, the
// federated token file). Output: one JSON object on stdout saying what each step saw. The CA comes from
// NODE_EXTRA_CA_CERTS, as `provision emulator serve` tells Node users; MSAL's instance discovery is off
// (disableInstanceDiscovery), since MSAL would otherwise ask login.microsoftonline.com about the authority.
import { ClientSecretCredential, WorkloadIdentityCredential } from "@azure/identity";
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { MonitorClient } from "@azure/arm-monitor";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { LogsIngestionClient } from "@azure/monitor-ingestion";
import { randomUUID } from "node:crypto";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

const ARM_SCOPE = ["https://management.azure.com/.default"];
const authority = { authorityHost: input.url, disableInstanceDiscovery: true };
const deployer = new ClientSecretCredential(input.tenantId, input.deployerId, input.deployerSecret, authority);
const sender = new ClientSecretCredential(input.tenantId, input.senderId, input.senderSecret, authority);
// Clients generated from TypeSpec take `endpoint`; the older AutoRest ones (arm-authorization 9) also
// `credentialScopes`, which otherwise default to `${endpoint}/.default` (the emulator's URL is no ARM audience).
const arm = { endpoint: input.url, credentials: { scopes: ARM_SCOPE }, credentialScopes: ARM_SCOPE };
const result = {};

const logs = new OperationalInsightsManagementClient(deployer, input.subscriptionId, arm);
// The TypeSpec-generated models (arm-operationalinsights 11, arm-monitor 8) flatten `properties`.
const table = await logs.tables.createOrUpdate(input.resourceGroup, input.workspace, input.table, {
  schema: { name: input.table, columns: [
    { name: "TimeGenerated", type: "dateTime" }, { name: "Message", type: "string" }, { name: "Seq", type: "int" }] },
}, { updateIntervalInMs: 50 });
result.table = { name: table.name, provisioningState: table.provisioningState };

const monitor = new MonitorClient(deployer, input.subscriptionId, arm);
const rule = await monitor.dataCollectionRules.create(input.resourceGroup, input.rule, { body: {
  location: input.location, kind: "Direct",
  streamDeclarations: { "Custom-JsApp": { columns: [
    { name: "TimeGenerated", type: "datetime" }, { name: "Message", type: "string" }, { name: "Seq", type: "int" }] } },
  destinations: { logAnalytics: [{ workspaceResourceId: input.workspaceId, name: "law" }] },
  dataFlows: [{ streams: ["Custom-JsApp"], destinations: ["law"], transformKql: "source", outputStream: `Custom-${input.table}` }],
} });
result.rule = { id: rule.id, immutableId: rule.immutableId, logsIngestion: rule.endpoints?.logsIngestion };

const authorization = new AuthorizationManagementClient(deployer, input.subscriptionId, arm);
const assignment = await authorization.roleAssignments.create(rule.id, randomUUID(), {
  roleDefinitionId: `/subscriptions/${input.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${input.publisherRoleId}`,
  principalId: input.senderObjectId, principalType: "ServicePrincipal",
});
result.roleAssignment = { principalId: assignment.principalId, scope: assignment.scope };

const ingestion = new LogsIngestionClient(rule.endpoints.logsIngestion, sender);
// ~420 bytes a row: the rows weigh over 1 MB, so the client must split them into several requests.
const rows = Array.from({ length: input.rows }, (_, seq) => ({
  TimeGenerated: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(), Message: `row ${seq} `.padEnd(400, "x"), Seq: seq,
}));
await ingestion.upload(rule.immutableId, "Custom-JsApp", rows, { maxConcurrency: 2 });
result.uploaded = rows.length;

// Workload identity federation: the token file the emulator's issuer minted, exchanged for an ARM token.
const workload = new WorkloadIdentityCredential({ tenantId: input.tenantId, clientId: input.deployerId,
  tokenFilePath: input.federatedTokenFile, ...authority });
const viaWorkload = new OperationalInsightsManagementClient(workload, input.subscriptionId, arm);
result.workloadIdentity = { workspace: (await viaWorkload.workspaces.get(input.resourceGroup, input.workspace)).name };

// A token for the wrong audience (Monitor's, sent to ARM): ARM's 401, as a RestError.
const wrong = new OperationalInsightsManagementClient(deployer, input.subscriptionId,
  { ...arm, credentials: { scopes: ["https://monitor.azure.com/.default"] }, retryOptions: { maxRetries: 0 } });
try {
  await wrong.workspaces.get(input.resourceGroup, input.workspace);
  result.wrongAudience = { status: 200 };
} catch (error) {
  result.wrongAudience = { status: error.statusCode, code: error.code };
}

process.stdout.write(JSON.stringify(result) + "\n");
