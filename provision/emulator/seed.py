"""Fixed, documented identities and resources the local Azure is seeded with.

The same on every machine, so scenarios and docs can name them. None of these
secrets protect anything outside the emulator on 127.0.0.1.
"""

TENANT_ID = "22222222-2222-4222-8222-222222222222"
SUBSCRIPTION_ID = "11111111-1111-4111-8111-111111111111"
RESOURCE_GROUP = "rg-local"
LOCATION = "westeurope"

WORKSPACE_NAME = "law-local"
WORKSPACE_CUSTOMER_ID = "33333333-3333-4333-8333-333333333333"
WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    f"/providers/Microsoft.OperationalInsights/workspaces/{WORKSPACE_NAME}"
)

# A second workspace in another region, for region-mismatch tests.
OTHER_WORKSPACE_NAME = "law-local-east"
OTHER_WORKSPACE_LOCATION = "eastus"
OTHER_WORKSPACE_CUSTOMER_ID = "33333333-3333-4333-8333-333333333334"

# The deploying identity: Owner on the subscription.
DEPLOYER_APP_ID = "a1a1a1a1-0000-4000-8000-000000000001"
DEPLOYER_OBJECT_ID = "b1b1b1b1-0000-4000-8000-000000000001"
DEPLOYER_SECRET = "local-deployer-secret"
# Its Microsoft Graph application permission, so it may resolve publishers' app ids to service principals.
# The sender and "nobody" have none: Graph answers them 403 Authorization_RequestDenied.
DEPLOYER_GRAPH_ROLES = ("Application.Read.All",)

# The sending identity: no roles until one is assigned.
SENDER_APP_ID = "a2a2a2a2-0000-4000-8000-000000000002"
SENDER_OBJECT_ID = "b2b2b2b2-0000-4000-8000-000000000002"
SENDER_SECRET = "local-sender-secret"

# An identity that may sign in but holds no role anywhere (permission tests).
NOBODY_APP_ID = "a3a3a3a3-0000-4000-8000-000000000003"
NOBODY_OBJECT_ID = "b3b3b3b3-0000-4000-8000-000000000003"
NOBODY_SECRET = "local-nobody-secret"

# An Entra security group whose one member is the sender's service principal: a publisher given as `group_id`
# grants the sender through its membership (Azure RBAC: a role assigned to a group applies to its members).
# The deployer and "nobody" are not members.
SENDERS_GROUP_ID = "c4c4c4c4-0000-4000-8000-000000000004"
SENDERS_GROUP_NAME = "provision-local-senders"
# A group whose one member is the group above, for nested membership: Azure RBAC's group assignments are
# transitive, so a role assigned to it reaches the sender too.
PUBLISHERS_GROUP_ID = "c5c5c5c5-0000-4000-8000-000000000005"
PUBLISHERS_GROUP_NAME = "provision-local-publishers"

OWNER_ROLE_ID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
MONITORING_METRICS_PUBLISHER_ROLE_ID = "3913510d-42f4-4e42-8a64-420c390055eb"

# The tenant's verified domain: Entra accepts it in place of the tenant id in authority URLs
# (login.microsoftonline.com/{tenant}: "the tenant ID or one of its domain names"); tokens carry the id as tid.
TENANT_DOMAIN = "provisionlocal.onmicrosoft.com"
