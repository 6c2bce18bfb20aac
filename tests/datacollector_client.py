"""A Data Collector API sender for tests, written from the documented algorithm, not from the emulator's code.

learn.microsoft.com/azure/azure-monitor/logs/data-collector-api, "Authorization" and its Python sample: the string
to sign is "POST\n{Content-Length}\napplication/json\nx-ms-date:{date}\n/api/logs", signed with HMAC-SHA256
under the Base64-decoded workspace key, the result Base64-encoded, sent as "SharedKey {workspace id}:{signature}".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import format_datetime

import requests

from provision.emulator import seed

WORKSPACE = seed.WORKSPACE_CUSTOMER_ID


def rfc1123(moment: datetime | None = None) -> str:
    return format_datetime(moment or datetime.now(UTC), usegmt=True)


def build_signature(customer_id: str, shared_key: str, date: str, content_length: int) -> str:
    # The documented string to sign, HMAC-SHA256 with the Base64-decoded key, Base64 result.
    string_to_hash = f"POST\n{content_length}\napplication/json\nx-ms-date:{date}\n/api/logs"
    decoded_key = base64.b64decode(shared_key)
    encoded_hash = base64.b64encode(hmac.new(decoded_key, string_to_hash.encode("utf-8"), digestmod=hashlib.sha256).digest())
    return f"SharedKey {customer_id}:{encoded_hash.decode()}"


def post_data(emu, shared_key: str, body: bytes | str, log_type: str = "AppEvents", *, customer_id: str = WORKSPACE,
              date: str | None = None, time_field: str | None = None, resource_id: str | None = None,
              headers: dict | None = None, api_version: str = "2016-04-01") -> requests.Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    date = date or rfc1123()
    sent = {"content-type": "application/json", "Authorization": build_signature(customer_id, shared_key, date, len(data)),
            "Log-Type": log_type, "x-ms-date": date}
    if time_field:
        sent["time-generated-field"] = time_field
    if resource_id:
        sent["x-ms-AzureResourceId"] = resource_id
    sent.update(headers or {})
    url = f"{emu.data_collector_url(customer_id)}/api/logs?api-version={api_version}"
    return requests.post(url, data=data, headers=sent, verify=str(emu.ca_path), timeout=30)
