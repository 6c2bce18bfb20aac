"""The HTTP Data Collector API (the legacy, SharedKey-signed ``POST /api/logs``): its rules, without state.

What the service documents (learn.microsoft.com/azure/azure-monitor/logs/data-collector-api, "Create a request",
"Authorization", "Record type and properties", "Reserved properties", "Data limits", "Return codes"; cited below
as [DC] with the section):

- ``POST https://<CustomerId>.ods.opinsights.azure.com/api/logs?api-version=2016-04-01``, ``Content-Type:
  application/json``, headers ``Authorization: SharedKey <WorkspaceID>:<Signature>``, ``Log-Type`` (letters, digits,
  ``_``, at most 100 characters), ``x-ms-date`` (RFC 1123), optional ``time-generated-field`` and
  ``x-ms-AzureResourceId``;
- ``Signature = Base64(HMAC-SHA256(key, UTF8("POST\\n" + Content-Length + "\\n" + Content-Type + "\\n" +
  "x-ms-date:" + x-ms-date + "\\n/api/logs")))`` with the workspace's primary or secondary key (Base64);
- the first post of a Log-Type creates ``<Log-Type>_CL``; each property gets a type suffix from its JSON value
  (string ``_s``, boolean ``_b``, number ``_d``, date/time ``_t``, GUID ``_g``); nulls are left out; a value that
  converts to an existing property's type goes there, else a new suffixed property is created;
- ``tenant``, ``TimeGenerated`` and ``RawData`` are reserved property names (an error);
- at most 30 MB per post, 32 KB per field value (longer values are truncated), 500 columns, 45-character names;
- errors are ``{"Error": code, "Message": text}`` (observed: ``{"Error":"InvalidAuthorization","Message":"An
  invalid date format used in the x-ms-date header."}``) with the status codes of [DC] "Return codes".

What the documentation leaves open, and what the emulator does instead, is listed in docs/emulator.md
("The HTTP Data Collector API"). ``ops_datacollector.py`` holds the state side (keys, tables, rows).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from provision.emulator import errors, tables
from provision.kql.values import parse_datetime

API_VERSION = "2016-04-01"  # [DC] "Request URI parameters": the only version
RESOURCE = "/api/logs"
MAX_POST = 30 * 1024 * 1024  # [DC] "Data limits": 30 MB per post
MAX_FIELD = 32 * 1024  # [DC] "Data limits": 32 KB per field value, longer values are truncated
MAX_COLUMNS = tables.MAX_COLUMNS  # [DC] "Data limits": 500 columns
MAX_COLUMN_NAME = 45  # [DC] "Data limits": 45 characters for column names
LOG_TYPE = re.compile(r"^[A-Za-z0-9_]{1,100}$")  # [DC] "Request headers": letters, digits, '_', <= 100
RESERVED = ("tenant", "TimeGenerated", "RawData")  # [DC] "Reserved properties"
_RESERVED_LOWER = {r.lower() for r in RESERVED}
# How far x-ms-date may be from the server's clock. [DC] does not say; Azure Storage's Shared Key (the same scheme)
# refuses a date more than 15 minutes off (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key).
DATE_WINDOW = timedelta(minutes=15)
# [DC] "Request headers", time-generated-field: a value more than 2 days before the received time, or more than a
# day after it, is replaced by the time the message was received.
TIME_PAST, TIME_FUTURE = timedelta(days=2), timedelta(days=1)

# Suffix -> table column type ([DC] "Record type and properties"; GUIDs are stored as strings there, as guid here).
SUFFIX_TYPES = {"_s": "string", "_b": "boolean", "_d": "real", "_t": "dateTime", "_g": "guid"}
TYPE_SUFFIXES = {v: k for k, v in SUFFIX_TYPES.items()}
# Which suffix is tried first for a value of each JSON kind, then the others it converts to.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?$")
_GUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]")


class DataCollectorError(errors.ServiceError):
    """An error of the Data Collector API: its own envelope, ``{"Error": code, "Message": text}``."""

    def body(self) -> dict:
        return {"Error": self.code, "Message": self.message}


def _error(name: str, status: int, doc: str) -> type[DataCollectorError]:
    return type(name, (DataCollectorError,), {"code": name, "status": status, "__doc__": doc})


# [DC] "Return codes" (the table's codes and statuses).
InvalidApiVersion = _error("InvalidApiVersion", 400, "[DC] the API version was not recognized")
MissingApiVersion = _error("MissingApiVersion", 400, "[DC] the API version was not specified")
InvalidCustomerId = _error("InvalidCustomerId", 400, "[DC] the workspace ID is invalid")
InvalidDataFormat = _error("InvalidDataFormat", 400, "[DC] an invalid JSON was submitted")
InvalidLogType = _error("InvalidLogType", 400, "[DC] the log type contained special characters")
MissingContentType = _error("MissingContentType", 400, "[DC] the content type was not specified")
MissingLogType = _error("MissingLogType", 400, "[DC] the log type was not specified")
UnsupportedContentType = _error("UnsupportedContentType", 400, "[DC] the content type was not application/json")
InvalidAuthorization = _error("InvalidAuthorization", 403, "[DC] the service failed to authenticate the request")
ServiceUnavailable = _error("ServiceUnavailable", 503, "[DC] the service is unavailable to receive requests; retry")


class RequestTooLarge(DataCollectorError):
    """[DC] "Return codes": 404 "Either the provided URL is incorrect or the request is too large" (no error code
    is documented; the emulator names it ``RequestTooLarge``)."""

    code = "RequestTooLarge"
    status = 404


TOO_LARGE = (f"The request is too large: a post may hold at most {MAX_POST // (1024 * 1024)} MB; split the data into "
             "smaller posts.")


# ------------------------------------------------------------------ keys and signatures


def new_key() -> str:
    """A shared key as the service hands them out: 64 random bytes, Base64 (88 characters)."""
    import secrets

    return base64.b64encode(secrets.token_bytes(64)).decode()


def signature(key: str, content_length: int, content_type: str, date: str) -> str:
    """[DC] "Authorization": Base64(HMAC-SHA256(Base64-decoded key, UTF-8 string to sign))."""
    text = f"POST\n{content_length}\n{content_type}\nx-ms-date:{date}\n{RESOURCE}"
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_request(query: dict[str, str], headers: dict[str, str], body: bytes, customer_id: str,
                  keys: tuple[str, ...], now: float | None = None) -> str:
    """Check everything but the body's content, in the order the front end can (version, content type, the
    signature, the log type); return the Log-Type. ``headers`` have lower-cased names."""
    version = query.get("api-version")
    if not version:
        raise MissingApiVersion("The api-version query parameter is required: add '?api-version=2016-04-01'.")
    if version != API_VERSION:
        raise InvalidApiVersion(f"The api-version '{version}' is not recognized; the supported version is "
                                f"'{API_VERSION}'.")
    content_type = headers.get("content-type")
    if not content_type:
        raise MissingContentType("The Content-Type header is required: set it to 'application/json'.")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedContentType(f"The Content-Type '{content_type}' is not supported: set it to 'application/json'.")
    _check_authorization(headers, len(body), content_type, customer_id, keys, time.time() if now is None else now)
    log_type = headers.get("log-type")
    if not log_type:
        raise MissingLogType("The Log-Type header is required: it names the record type (the table is <Log-Type>_CL).")
    if not LOG_TYPE.match(log_type):
        raise InvalidLogType(f"The Log-Type '{log_type[:120]}' is not valid: use only letters, digits and '_', at most "
                             "100 characters.")
    return log_type


def _check_authorization(headers: dict[str, str], length: int, content_type: str, customer_id: str,
                         keys: tuple[str, ...], now: float) -> None:
    scheme, _, credential = (headers.get("authorization") or "").strip().partition(" ")
    if scheme != "SharedKey" or ":" not in credential:
        # The observed text for a missing or non-SharedKey header.
        raise InvalidAuthorization("An invalid scheme was specified in the Authorization header")
    workspace, _, sent = credential.strip().partition(":")
    if workspace.lower() != customer_id.lower():
        raise InvalidAuthorization(f"The workspace ID '{workspace}' in the Authorization header is not the workspace "
                                   "this request is sent to.")
    date = headers.get("x-ms-date")
    stamp = _rfc1123(date)
    if stamp is None:
        raise InvalidAuthorization("An invalid date format used in the x-ms-date header.")  # observed text
    if abs(now - stamp) > DATE_WINDOW.total_seconds():
        raise InvalidAuthorization(f"The x-ms-date header ('{date}') is more than {int(DATE_WINDOW.total_seconds() // 60)} "
                                   "minutes away from the server's time: sign each request with the current UTC time.")
    try:
        given = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError):
        given = b""
    # The string to sign holds the Content-Type; senders that send 'application/json; charset=utf-8' (e.g. .NET's
    # StringContent) sign 'application/json', as the documented samples do, so both spellings are tried.
    signed_types = dict.fromkeys((content_type, content_type.split(";", 1)[0].strip()))
    for key in keys:
        for signed_type in signed_types:
            expected = base64.b64decode(signature(key, length, signed_type, str(date)))
            if hmac.compare_digest(given, expected):
                return
    raise InvalidAuthorization("The signature in the Authorization header is not valid: sign 'POST\\n<Content-Length>\\n"
                               "<Content-Type>\\nx-ms-date:<x-ms-date>\\n/api/logs' with the workspace's primary or "
                               "secondary key.")


def _rfc1123(value: str | None) -> float | None:
    """The time of an RFC 1123 date ('Mon, 04 Apr 2016 08:00:00 GMT'), or None."""
    if not value or not value.strip().endswith("GMT"):
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).timestamp()


# ------------------------------------------------------------------ records


def parse_records(body: bytes) -> list[dict]:
    """The records of a post: a JSON array of objects (or one object, as one record)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as problem:
        raise InvalidDataFormat(f"The request body is not valid JSON: {problem}.") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InvalidDataFormat("The request body must be a JSON array of records (objects).")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise InvalidDataFormat(f"Record {index} is not a JSON object; each record is an object of property names "
                                    "and values.")
        for name in record:
            if name.lower() in _RESERVED_LOWER:
                raise InvalidDataFormat(f"Record {index} uses the reserved property name '{name}' (reserved: "
                                        f"{', '.join(RESERVED)}); rename it.")
    return data


def detect_suffix(value: object) -> str:
    """[DC] type detection of a new property: the suffix its JSON value gets."""
    if isinstance(value, bool):
        return "_b"
    if isinstance(value, (int, float)):
        return "_d"
    if isinstance(value, str):
        if _GUID.match(value):
            return "_g"
        if _ISO.match(value) and parse_datetime(value) is not None:
            return "_t"
    return "_s"  # strings, and nested objects and arrays (stored as their JSON text)


def convert(value: object, suffix: str) -> object | None:
    """``value`` as a property of ``suffix``'s type would store it, or None when it does not convert ([DC]: strings
    convert to the type they spell, e.g. "42" to a _d property; a number does not go into a _s property)."""
    if suffix == "_s":
        if isinstance(value, str):
            return _truncate(value)
        if isinstance(value, (dict, list)):
            return _truncate(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        return None
    if suffix == "_b":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return None
    if suffix == "_d":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _NUMBER.match(value):
            return float(value)
        return None
    if suffix == "_t":
        if isinstance(value, str) and _ISO.match(value):
            moment = parse_datetime(value)
            return None if moment is None else iso(moment)
        return None
    if suffix == "_g":
        if isinstance(value, str) and _GUID.match(value):
            hexdigits = value.replace("-", "").lower()  # [DC] note: dashes are inserted when missing
            return f"{hexdigits[:8]}-{hexdigits[8:12]}-{hexdigits[12:16]}-{hexdigits[16:20]}-{hexdigits[20:]}"
        return None
    return None


def _truncate(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_FIELD:
        return text
    return data[:MAX_FIELD].decode("utf-8", errors="ignore")  # [DC] "Data limits": truncated, not refused


def iso(moment: datetime) -> str:
    """A naive UTC datetime as the ISO text rows carry ('2026-01-01T00:00:00.5Z')."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def column_base(name: str) -> str:
    """The property name as a column name takes it: characters other than letters, digits and '_' become '_'
    ([DC] allows only those in property names; what the service does with others is undocumented)."""
    return _NAME_CHARS.sub("_", name)


@dataclass
class Outcome:
    """What one post does: the rows to store, the columns to add, and what was left out (and why)."""

    rows: list[dict] = field(default_factory=list)
    added: list[dict] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # property -> why it was not stored


def map_records(records: list[dict], columns: list[dict], *, may_add: bool, time_field: str | None,
                resource_id: str | None, received: float) -> Outcome:
    """Rows for ``records`` in a table that has ``columns``. ``may_add``: new properties add columns (classic
    tables); after migration the API writes existing columns only (the migration guide, "The Data Collector API
    will continue to ingest data into existing columns, but won't create any new columns")."""
    out = Outcome()
    known = {c["name"]: c["type"] for c in columns}
    by_base: dict[str, list[str]] = {}
    for name, ctype in known.items():
        base, suffix = name[:-2], name[-2:]
        if suffix in SUFFIX_TYPES and SUFFIX_TYPES[suffix] == ctype:
            by_base.setdefault(base, []).append(suffix)
    arrival = datetime.fromtimestamp(received, UTC).replace(tzinfo=None)
    for record in records:
        row: dict[str, object] = {"TimeGenerated": iso(arrival)}
        for prop, value in record.items():
            if value is None:
                continue  # [DC]: a property with a null value is not included in that record
            base = column_base(prop)
            suffix, stored = _place(value, by_base.get(base, []))
            if suffix is None:
                suffix = detect_suffix(value)
                stored = convert(value, suffix)
                name = base + suffix
                why = _cannot_add(name, may_add, len(known))
                if why:
                    out.dropped.setdefault(prop, why)
                    continue
                known[name] = SUFFIX_TYPES[suffix]
                by_base.setdefault(base, []).append(suffix)
                out.added.append({"name": name, "type": SUFFIX_TYPES[suffix]})
            row[base + suffix] = stored
        if time_field:
            row["TimeGenerated"] = _time_generated(record.get(time_field), arrival)
        if resource_id:
            row["_ResourceId"] = resource_id.lower()  # [DC] x-ms-AzureResourceId populates _ResourceId
        out.rows.append(row)
    return out


def _place(value: object, suffixes: list[str]) -> tuple[str | None, object]:
    """The existing property (by suffix) the value goes to: its detected type first, then any it converts to."""
    detected = detect_suffix(value)
    for suffix in sorted(suffixes, key=lambda s: s != detected):
        stored = convert(value, suffix)
        if stored is not None:
            return suffix, stored
    return None, None


def _cannot_add(name: str, may_add: bool, count: int) -> str:
    if not may_add:
        return ("the table was migrated: the Data Collector API writes existing columns only (add the column with the "
                "Tables API and send it through the Logs Ingestion API)")
    if len(name) > MAX_COLUMN_NAME or not tables.COLUMN_NAME.match(name) or name.lower() in tables._RESERVED_LOWER:
        return f"'{name}' is not a valid column name (a letter first, letters, digits and '_', at most 45 characters)"
    if count >= MAX_COLUMNS:
        return f"the table has {MAX_COLUMNS} columns, the most a table may have"
    return ""


def _time_generated(value: object, arrival: datetime) -> str:
    """[DC] time-generated-field: the field's ISO 8601 value, unless missing, unreadable, more than 2 days before
    or more than a day after the received time (then the received time)."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or moment < arrival - TIME_PAST or moment > arrival + TIME_FUTURE:
        return iso(arrival)
    return iso(moment)
