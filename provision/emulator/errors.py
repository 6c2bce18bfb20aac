"""The emulator's error classes: one class per Azure error code, carrying its HTTP status.

Models raise these; the server turns them into Azure's error envelope
``{"error": {"code", "message", "target"?, "details"?}}`` (azure-contract.md §1,
common-types v2 ``ErrorResponse``). Where Azure's exact code is documented or
observed, the class uses it (the docstring names the source); where it is not,
the code is the emulator's choice and is listed as such in docs/emulator.md.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An Azure error response. Subclasses fix ``code`` and ``status``."""

    code = "InternalServerError"
    status = 500
    headers: dict[str, str]  # set per error in __init__ (e.g. Retry-After, WWW-Authenticate)

    def __init__(self, message: str, *, target: str | None = None, details: list[dict] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = dict(headers or {})

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def _error(name: str, status: int, code: str | None = None, doc: str = "") -> type[ServiceError]:
    cls = type(name, (ServiceError,), {"code": code or name, "status": status, "__doc__": doc})
    return cls


# --- ARM front door (azure-contract.md §1, observed ARM texts) ---
MissingApiVersionParameter = _error("MissingApiVersionParameter", 400, doc="azure-contract.md §1")
NoRegisteredProviderFound = _error("NoRegisteredProviderFound", 400, doc="azure-contract.md §1")
InvalidApiVersionParameter = _error("InvalidApiVersionParameter", 400, doc="data plane: unsupported api-version")
ResourceNotFound = _error("ResourceNotFound", 404, doc="azure-contract.md §1")
ParentResourceNotFound = _error("ParentResourceNotFound", 404, doc="ARM: nested resource under a missing parent")
ResourceGroupNotFound = _error("ResourceGroupNotFound", 404, doc="azure-contract.md §1")
SubscriptionNotFound = _error("SubscriptionNotFound", 404, doc="ARM: unknown subscription")
NotFound = _error("NotFound", 404, doc="no route for this path")
MethodNotAllowed = _error("MethodNotAllowed", 405, doc="route exists, method does not")
InvalidRequestContent = _error("InvalidRequestContent", 400, doc="ARM: request body is not valid JSON")
LocationRequired = _error("LocationRequired", 400, doc="ARM: TrackedResource without location")
InvalidResourceLocation = _error("InvalidResourceLocation", 409, doc="ARM: location is create-only")
TransformTimeout = _error("TransformTimeout", 400, doc="emulator: the request's transforms ran past Emulator.transform_seconds "
                                                        "(docs/emulator.md 'What ingestion stores, refuses or drops')")
InvalidResourceName = _error("InvalidResourceName", 400, doc="ARM: name does not match the type's pattern")
PreconditionFailed = _error("PreconditionFailed", 412, doc="azure-contract.md §1 ETag table")

# --- HTTP framing, before any route runs (framing.py; the codes are the emulator's, see docs/emulator.md) ---
BadRequest = _error("BadRequest", 400, doc="malformed framing (RFC 9112 §6.3) or a repeated Authorization header; "
                                           "also Graph's code for a $filter it cannot parse")
TransferCodingNotImplemented = _error("TransferCodingNotImplemented", 501, code="NotImplemented",
                                      doc="a transfer coding other than chunked (RFC 9112 §6.1: 501)")
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413,
                               doc="ARM body over 4 MB (the template and parameter file limit, learn.microsoft.com "
                                   "azure-resource-manager/templates/template-best-practices); ARM's code is undocumented")

# --- authentication and authorization (ARM) ---
AuthenticationFailed = _error("AuthenticationFailed", 401, doc="ARM: missing Authorization header")
InvalidAuthenticationToken = _error("InvalidAuthenticationToken", 401, doc="ARM: token not valid (signature, format)")
ExpiredAuthenticationToken = _error("ExpiredAuthenticationToken", 401, doc="ARM: token expired")
InvalidAuthenticationTokenTenant = _error("InvalidAuthenticationTokenTenant", 401,
                                          doc="ARM: token from another tenant (observed: Azure/azure-sdk-for-net#49391)")
InvalidAuthenticationTokenAudience = _error("InvalidAuthenticationTokenAudience", 401, doc="ARM: wrong audience")
AuthorizationFailed = _error("AuthorizationFailed", 403, doc="ARM: caller lacks the action at the scope")

# --- tables (azure-contract.md §3.2; codes are the emulator's where Azure's are undocumented) ---
InvalidTableName = _error("InvalidTableName", 400)
InvalidColumnName = _error("InvalidColumnName", 400)
ReservedColumnName = _error("ReservedColumnName", 400)
InvalidColumnType = _error("InvalidColumnType", 400, doc="sdk-notes.md §4.3 shows (InvalidColumnType)")
MissingTimeGenerated = _error("MissingTimeGenerated", 400, doc="observed: 'MSG 1005: Table missing mandatory TimeGenerated column'")
TooManyColumns = _error("TooManyColumns", 400, doc="azure-contract.md §8: 500 columns per table")
ColumnTypeChangeNotAllowed = _error("ColumnTypeChangeNotAllowed", 400)
InvalidRetention = _error("InvalidRetention", 400, doc="Tables.json retentionInDays 4..730, totalRetentionInDays 4..4383, -1")
InvalidPlan = _error("InvalidPlan", 400, doc="Tables.json TablePlanEnum")
InvalidTableOperation = _error("InvalidTableOperation", 400, doc="Azure tables cannot be deleted (create-custom-table.md)")
Conflict = _error("Conflict", 409)

# --- DCR / DCE (azure-contract.md §5.3: InvalidPayload with details) ---
InvalidPayload = _error("InvalidPayload", 400, doc="azure-contract.md §5.3")
InvalidProperty = _error("InvalidProperty", 400, doc="azure-contract.md §5.2 description length")

# --- role assignments (azure-contract.md §6.1) ---
RoleAssignmentExists = _error("RoleAssignmentExists", 409, doc="azure-contract.md §6.1")
PrincipalNotFound = _error("PrincipalNotFound", 400, doc="azure-contract.md §6.1")
UnmatchedPrincipalType = _error("UnmatchedPrincipalType", 400,
                                doc="ARM authorization: principalType is not the principal's (code and text: Azure/azure-dev#5814; "
                                    "400 as ARM's other assignment-body refusals, the sources show no status)")
RoleDefinitionDoesNotExist = _error("RoleDefinitionDoesNotExist", 400, doc="ARM authorization")
InvalidRoleAssignmentId = _error("InvalidRoleAssignmentId", 400, doc="ARM authorization: name must be a GUID")
RoleAssignmentUpdateNotPermitted = _error("RoleAssignmentUpdateNotPermitted", 400, doc="ARM authorization")
RoleAssignmentNotFound = _error("RoleAssignmentNotFound", 404, doc="ARM authorization")
RoleDefinitionNotFound = _error("RoleDefinitionNotFound", 404, doc="ARM authorization")
MissingProperty = _error("MissingProperty", 400, doc="required body property absent")

# --- Graph ---
GraphNotFound = _error("GraphNotFound", 404, code="Request_ResourceNotFound", doc="Graph: unknown object")
GraphAuthorizationDenied = _error("GraphAuthorizationDenied", 403, code="Authorization_RequestDenied",
                                  doc="Graph: the app lacks the permission ('Insufficient privileges to complete the operation.')")
GraphUnsupportedQuery = _error("GraphUnsupportedQuery", 400, code="Request_UnsupportedQuery",
                               doc="Graph: a $filter clause it does not support (observed: microsoftgraph/microsoft-graph-docs#18795)")

# --- Logs Ingestion data plane (azure-contract.md §7) ---
OperationFailed = _error("OperationFailed", 403, doc="azure-contract.md §7: 403 text")
ContentLengthLimitExceeded = _error("ContentLengthLimitExceeded", 413, doc="azure-contract.md §7: 413 text")
InvalidContent = _error("InvalidContent", 400, doc="body not a JSON array (exact code undocumented)")
DataCollectionRuleNotFound = _error("DataCollectionRuleNotFound", 404, doc="unknown immutable id (exact code undocumented)")
StreamNotFound = _error("StreamNotFound", 404, doc="unknown stream (exact code undocumented)")
InvalidToken = _error("InvalidToken", 401, doc="data plane 401")
TooManyRequests = _error("TooManyRequests", 429, doc="azure-contract.md §7: 429 with Retry-After")
PublicNetworkAccessDisabled = _error(
    "PublicNetworkAccessDisabled", 403,
    doc="ingestion through a DCE whose networkAcls.publicNetworkAccess is Disabled; the service's status and code for this "
        "are not documented (azure-contract.md §7), so 403 and this code are the emulator's choice (docs/emulator.md)")
EndpointNotEmulated = _error("EndpointNotEmulated", 501, code="NotImplemented",
                             doc="emulator limitation: a DCR/DCE's metricsIngestion or configurationAccess endpoint "
                                 "(advertised as Azure does, not served; docs/emulator.md)")
InternalServerError = _error("InternalServerError", 500)
ServiceUnavailable = _error("ServiceUnavailable", 503)

# --- Entra ID token endpoint: OAuth errors, not the ARM envelope ---


class TokenError(Exception):
    """An OAuth2 error from the token endpoint (AADSTS-style), e.g. invalid_client."""

    def __init__(self, status: int, error: str, aadsts: int, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = f"AADSTS{aadsts}: {description}"

    def body(self, trace_id: str) -> dict:
        return {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.aadsts],
            "trace_id": trace_id,
            "correlation_id": trace_id,
        }
