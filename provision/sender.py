"""``provision send``: post rows through the real Logs Ingestion endpoint as the sending identity.

Uses the official ``LogsIngestionClient`` (chunking and gzip as in
sdk-notes.md §4.5), signed in as the publisher (``sender_identity``): its client id
with a secret, certificate or federated token; on ``local`` by default the emulator's
seeded sending identity; the deploying identity only when asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from provision.errors import AzureError


def sample_rows(columns, count: int) -> list[dict]:
    """``count`` rows that fit a stream declaration (one value per declared type)."""
    now = datetime.now(UTC)
    makers = {
        "string": lambda i, n: f"{n}-{i}",
        "int": lambda i, n: i,
        "long": lambda i, n: 10_000_000_000 + i,
        "real": lambda i, n: i + 0.5,
        "boolean": lambda i, n: i % 2 == 0,
        "datetime": lambda i, n: (now - timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "dynamic": lambda i, n: {"sample": i},
    }
    rows = []
    for i in range(count):
        row = {}
        for col in columns:
            kind = str(col.type).lower()
            row[col.name] = str(uuid.uuid4()) if "id" in col.name.lower() and kind == "string" else \
                makers.get(kind, makers["string"])(i, col.name)
        rows.append(row)
    return rows


# Where ``send`` finds the publisher's sign-in (README §send); options win over these.
SENDER_ENV = {
    "client_id": "PROVISION_SENDER_CLIENT_ID",
    "tenant_id": "PROVISION_SENDER_TENANT_ID",
    "secret": "PROVISION_SENDER_CLIENT_SECRET",
    "certificate": "PROVISION_SENDER_CERTIFICATE_PATH",
    "certificate_password": "PROVISION_SENDER_CERTIFICATE_PASSWORD",
    "token_file": "PROVISION_SENDER_FEDERATED_TOKEN_FILE",
}


@dataclass(frozen=True)
class SenderIdentity:
    """The credential ``send`` uses and how to say who it is (never the secret)."""

    credential: Any
    description: str


def token_tenant(session) -> str | None:
    """The tenant (``tid``) of the session's ARM token: read from its claims, not verified (it is our own token,
    already issued to us; azure-identity caches it, so this makes no call when the session has signed in)."""
    import base64
    import json

    try:
        token = session.credential.get_token(session.cloud.arm_scope).token
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:  # not a JWT, or no sign-in: the caller says the tenant is unknown
        return None
    tenant = claims.get("tid") if isinstance(claims, dict) else None
    return str(tenant) if tenant else None


def sender_identity(session, publishers=(), *, client_id: str | None = None, tenant_id: str | None = None,
                    certificate: str | None = None, token_file: str | None = None, as_deployer: bool = False,
                    environ=None) -> SenderIdentity:
    """Who ``send`` signs in as: the publisher (its client id with a secret, a certificate or a federated token,
    from the options or ``SENDER_ENV``); on ``local`` without those, the emulator's seeded sending app; the
    deploying identity only with ``as_deployer``. A smoke test as the deploying identity would test the wrong
    identity: it holds no publisher role unless someone gave it one (issue 14)."""
    import os

    environ = os.environ if environ is None else environ
    if as_deployer:
        return SenderIdentity(session.credential, "the deploying identity (--as-deployer; it needs Monitoring Metrics "
                                                  "Publisher on the DCR to send)")
    client_id = client_id or environ.get(SENDER_ENV["client_id"]) or None
    secret = environ.get(SENDER_ENV["secret"]) or None
    certificate = certificate or environ.get(SENDER_ENV["certificate"]) or None
    token_file = token_file or environ.get(SENDER_ENV["token_file"]) or None
    given = [name for name, value in (("secret", secret), ("certificate", certificate), ("federated token", token_file)) if value]
    local = session.cloud.name == "local"
    seeded = session.environ.get("PROVISION_LOCAL_SENDER_CLIENT_ID"), session.environ.get("PROVISION_LOCAL_SENDER_CLIENT_SECRET")
    if not client_id and not given and local and all(seeded):
        from provision.azure import credential_for

        return SenderIdentity(credential_for(session, seeded[0], seeded[1]),
                              f"the local Azure's sending app {seeded[0]} (PROVISION_LOCAL_SENDER_CLIENT_ID)")
    how = (f"give the publisher's client id (--client-id or {SENDER_ENV['client_id']}) and one of: a secret "
           f"({SENDER_ENV['secret']}), a certificate (--certificate or {SENDER_ENV['certificate']}), a federated token "
           f"(--federated-token-file or {SENDER_ENV['token_file']}); or --as-deployer to send as the deploying identity")
    if not client_id:
        app_ids = sorted({p.app_id for p in publishers if p.app_id})
        if len(app_ids) != 1 or not given:
            raise AzureError("send signs in as a publisher of the scenario, and none is given", hint=how)
        client_id = app_ids[0]
    if len(given) != 1:
        raise AzureError(f"send needs exactly one sign-in for publisher {client_id}, "
                         + (f"not {len(given)} ({', '.join(given)})" if given else "and none is given"), hint=how)
    tenant = tenant_id or environ.get(SENDER_ENV["tenant_id"]) or environ.get("AZURE_TENANT_ID") or token_tenant(session)
    if not tenant:
        raise AzureError(f"the tenant of publisher {client_id} is unknown",
                         hint=f"pass --tenant-id or set {SENDER_ENV['tenant_id']} (or AZURE_TENANT_ID)")
    kwargs: dict[str, Any] = {"authority": session.cloud.authority}
    if local:
        kwargs = {"authority": session.base_url, "disable_instance_discovery": True, "connection_verify": session.verify}
    from azure.identity import CertificateCredential, ClientAssertionCredential, ClientSecretCredential

    if secret:
        credential: Any = ClientSecretCredential(tenant, client_id, secret, **kwargs)
        source = f"its secret from {SENDER_ENV['secret']}"
    elif certificate:
        credential = CertificateCredential(tenant, client_id, certificate_path=certificate,
                                           password=environ.get(SENDER_ENV["certificate_password"]) or None, **kwargs)
        source = f"the certificate {certificate}"
    else:
        path = str(token_file)

        def assertion() -> str:  # read on every token request: workload identity rotates the file
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()

        credential = ClientAssertionCredential(tenant, client_id, assertion, **kwargs)
        source = f"the federated token in {path}"
    return SenderIdentity(credential, f"publisher {client_id} (tenant {tenant}) with {source}")


def send_rows(session, rule, rule_outputs: dict, stream: str, rows=None, sample: int | None = None,
              wait_seconds: float = 0.0, progress=None, identity: SenderIdentity | None = None) -> int:
    """Upload ``rows`` (or ``sample`` generated rows) to ``stream``; returns the number sent.

    With ``wait_seconds``, rows refused with 403 are sent again (backing off) until the deadline:
    a new role assignment can take minutes to reach the ingestion endpoint (azure-contract.md §6.1).
    """
    import time

    if rows is None:
        rows = sample_rows(rule.streams[stream], sample or 1)
    endpoint, immutable_id = rule_outputs["logs_ingestion_endpoint"], rule_outputs["immutable_id"]
    identity = identity or sender_identity(session)
    client = session.ingestion(endpoint, credential=identity.credential)
    deadline, delay, pending = time.monotonic() + wait_seconds, 1.0, rows
    try:
        while True:
            errors: list = []
            client.upload(rule_id=immutable_id, stream_name=stream, logs=pending, on_error=errors.append)
            if not errors:
                return len(rows)
            status = getattr(errors[0].error, "status_code", None)
            if status != 403 or time.monotonic() + delay > deadline:
                break
            if progress:
                progress(f"403 from the ingestion endpoint: waiting {delay:.0f} s for the role to propagate")
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
            pending = [row for e in errors for row in e.failed_logs]
    finally:
        client.close()
    from provision.azure import azure_error

    raised = azure_error(errors[0].error, f"sending to {stream}")
    hint = raised.hint
    if getattr(errors[0].error, "status_code", None) == 403:
        hint = ("the sending identity needs Monitoring Metrics Publisher on the DCR; a new assignment can take up "
                "to 30 minutes to apply (azure-contract.md §6.1): retry, or pass --wait SECONDS")
    raise AzureError(raised.message + f" ({sum(len(e.failed_logs) for e in errors)} row(s) refused)", hint=hint)
