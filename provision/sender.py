"""``provision send``: post rows through the real Logs Ingestion endpoint as the sending identity.

Uses the official ``LogsIngestionClient`` (chunking and gzip as in
sdk-notes.md §4.5). On ``local`` the sender is the emulator's seeded sending
identity; on real clouds it is whatever ``DefaultAzureCredential`` signs in as.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

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


def _sender_credential(session):
    """On ``local``, the sending identity the emulator advertised (the session carries its variables)."""
    sender = session.environ.get("PROVISION_LOCAL_SENDER_CLIENT_ID"), session.environ.get("PROVISION_LOCAL_SENDER_CLIENT_SECRET")
    if session.cloud.name == "local" and all(sender):
        from provision.azure import credential_for

        return credential_for(session, *sender)
    return session.credential


def send_rows(session, rule, rule_outputs: dict, stream: str, rows=None, sample: int | None = None,
              wait_seconds: float = 0.0, progress=None) -> int:
    """Upload ``rows`` (or ``sample`` generated rows) to ``stream``; returns the number sent.

    With ``wait_seconds``, rows refused with 403 are sent again (backing off) until the deadline:
    a new role assignment can take minutes to reach the ingestion endpoint (azure-contract.md §6.1).
    """
    import time

    if rows is None:
        rows = sample_rows(rule.streams[stream], sample or 1)
    endpoint, immutable_id = rule_outputs["logs_ingestion_endpoint"], rule_outputs["immutable_id"]
    client = session.ingestion(endpoint, credential=_sender_credential(session))
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
