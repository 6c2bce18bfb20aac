"""The Logs Ingestion data plane: body decoding, limits, and mapping rows through a DCR's flows.

What the service does (azure-contract.md §7, §8; data-collection-rule-structure.md):
the body is a JSON array (plain or gzip), at most 1 MB per call (413 beyond);
columns not declared in the stream are dropped; each flow's ``transformKql``
runs per record (``None`` = filtered by ``where``; a runtime error drops the
record and counts it); the output keeps only the destination table's columns;
string values longer than 64 KB are truncated.

What a call may hold, and what happens otherwise (docs/emulator.md, "What ingestion stores, refuses or
drops"): the whole call is refused with 400 ``InvalidContent`` for a body that is not strict JSON
(RFC 8259: no NaN/Infinity, nothing after the gzip stream), an element that is not an object, or nesting
deeper than ``MAX_DEPTH``; on flows without a transform, a record whose values do not fit the table's
column types, or without a valid ``TimeGenerated``, is dropped and counted in ``Stats`` with its reason
(the service validates records after accepting the call and reports them in DCRLogErrors).
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from provision import kql
from provision.emulator import errors, tables
from provision.emulator.dcr import output_table
from provision.kql.functions import to_guid
from provision.kql.values import parse_datetime

MAX_BODY = 1024 * 1024  # "The maximum message size is currently 1 MB per call" (tutorial-logs-ingestion-code.md)
MAX_FIELD = 64 * 1024   # azure-contract.md §8: longer field values are truncated
TOO_LARGE = "The message is too large. The maximum message size is currently 1 MB per call."


# Nesting limit of a body, counting its array as level 1 (a row object is level 2). The service's limit is not
# documented; 64 is the default maximum depth of both .NET JSON readers (System.Text.Json JsonReaderOptions.MaxDepth,
# Json.NET 13 JsonSerializerSettings.MaxDepth), so a deeper body is one the service's parser refuses too.
MAX_DEPTH = 64

_LONG_CHARS = MAX_FIELD // 4  # a str of at most this many characters is at most 64 KB in UTF-8
_INTEGER = re.compile(r"\s*[-+]?\d+\s*")
_DECIMAL = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")  # not Python's extras: '1_0', 'nan', 'inf'


def _integer_check(bits: int) -> Callable[[object], bool]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def accepts(value: object) -> bool:
        if type(value) is int:
            return low <= value <= high
        if type(value) is float:  # 3.0 is a whole number; 3.5 is not an integer
            return value.is_integer() and low <= value <= high
        if type(value) is str and _INTEGER.fullmatch(value):  # Kusto converts numeric strings on ingestion
            return low <= int(value) <= high
        return False

    return accepts


def _real(value: object) -> bool:
    if type(value) is int or type(value) is float:
        return math.isfinite(value)
    if type(value) is str and _DECIMAL.fullmatch(value):
        return math.isfinite(float(value))
    return False


def _boolean(value: object) -> bool:
    if type(value) is bool:
        return True
    if type(value) is int:
        return value in (0, 1)
    return type(value) is str and value.strip().lower() in ("true", "false")


def _datetime(value: object) -> bool:
    return type(value) is str and parse_datetime(value) is not None  # the formats Kusto reads (kql/values.py)


def _guid(value: object) -> bool:
    return type(value) is str and to_guid(value) is not None  # the engine's guid rule (kql/functions.py)


# Table column type -> does a JSON value fit it (Kusto scalar types: int 32-bit, long 64-bit, real a finite double,
# bool, datetime, guid). string and dynamic columns take any value, as Kusto converts it.
VALUE_CHECKS: dict[str, Callable[[object], bool]] = {
    "int": _integer_check(32), "long": _integer_check(64), "real": _real, "boolean": _boolean,
    "dateTime": _datetime, "guid": _guid,
}


def record_problem(flow: FlowPlan, record: dict) -> str | None:
    """Why the service would not store ``record`` (a flow without a transform) in ``flow``'s table, or None."""
    return flow.problem(record)


_MISSING_TIME = "TimeGenerated is missing or null (every record needs a valid datetime TimeGenerated)"
_BAD_TIME = "TimeGenerated is not a valid datetime (ISO 8601 expected)"


def check_values(checks: tuple[tuple[str, str, Callable[[object], bool]], ...], record: dict) -> str | None:
    """``record_problem`` for a flow's ``checks``, one check call per value: the reference ``value_checker``'s
    generated code is tested against."""
    for name, ctype, accepts in checks:
        value = record.get(name)
        if value is None:
            if name == "TimeGenerated":
                return _MISSING_TIME
            continue
        if not accepts(value):
            if name == "TimeGenerated":
                return _BAD_TIME
            return f"column '{name}' is {ctype} and the value does not convert to {ctype}"
    return None


# What a value of the common JSON type needs to fit a column, tested inline by ``value_checker`` before it calls the
# column type's check (which decides every other value): the same answer as VALUE_CHECKS, without a call.
_INLINE_ACCEPTS = {
    "int": "type(v) is int and -2147483648 <= v <= 2147483647",
    "long": "type(v) is int and -9223372036854775808 <= v <= 9223372036854775807",
    "real": "type(v) is float and _isfinite(v)",
    "boolean": "type(v) is bool",
    "dateTime": "type(v) is str and _parse_dt(v) is not None",
}


def value_checker(checks: tuple[tuple[str, str, Callable[[object], bool]], ...]) -> Callable[[dict], str | None]:
    """``check_values`` for ``checks`` as one generated function (built once per flow): the per-value checks
    without a loop and, for a value of the column's usual JSON type, without a call. Column names enter the
    source only through ``repr()``."""
    env: dict = {"_isfinite": math.isfinite, "_parse_dt": parse_datetime}
    lines = ["def problem(record):", "    get = record.get"]
    for i, (name, ctype, accepts) in enumerate(checks):
        env[f"_a{i}"] = accepts
        env[f"_m{i}"] = _BAD_TIME if name == "TimeGenerated" else \
            f"column '{name}' is {ctype} and the value does not convert to {ctype}"
        inline = _INLINE_ACCEPTS.get(ctype)
        # VALUE_CHECKS['dateTime'] is exactly its inline test; the others decide the values the inline test refuses.
        test = inline if ctype == "dateTime" else (f"({inline}) or _a{i}(v)" if inline else f"_a{i}(v)")
        lines.append(f"    v = get({name!r})")
        if name == "TimeGenerated":
            env["_missing"] = _MISSING_TIME
            lines += ["    if v is None:", "        return _missing", f"    if not ({test}):", f"        return _m{i}"]
        else:
            lines += [f"    if v is not None and not ({test}):", f"        return _m{i}"]
    lines.append("    return None")
    exec(compile("\n".join(lines), "<value checks>", "exec"), env)  # noqa: S102 - names via repr()
    return env["problem"]


@dataclass
class FlowPlan:
    """One data flow of a rule, compiled: the transform and where its output goes."""

    transform: kql.Transform | None  # None: 'source' (identity, no per-record call)
    table_key: str
    table_name: str
    columns: frozenset[str]
    # Auxiliary plan, TimeGenerated not transformed: one call's TimeGenerated values must span under 30 minutes
    auxiliary_window: bool = False
    # Columns whose values are checked on flows without a transform: (name, table type, accepts(value)).
    checks: tuple[tuple[str, str, Callable[[object], bool]], ...] = ()
    problem: Callable[[dict], str | None] = field(init=False, repr=False, compare=False)  # value_checker(checks)

    def __post_init__(self) -> None:
        self.problem = value_checker(self.checks)


@dataclass
class RulePlan:
    """A DCR compiled for ingestion (built once per DCR version)."""

    dcr_id: str
    immutable_id: str
    streams: dict[str, tuple[str, ...]]
    flows: dict[str, list[FlowPlan]]
    direct: bool = False  # kind Direct: the rule has its own ingestion endpoint
    endpoint_id: str = ""  # dataCollectionEndpointId: the DCE the rule is bound to
    warnings: list[str] = field(default_factory=list)


@dataclass
class Stats:
    requests: int = 0
    received: int = 0
    stored: int = 0
    filtered: int = 0
    dropped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # why records were dropped -> how many

    def drop(self, reason: str) -> None:
        self.dropped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class _Unrunnable:
    """A flow whose transform does not compile: every record is dropped (and counted)."""

    def __init__(self, reason: str):
        self.reason = reason

    def run(self, record: dict):
        raise kql.TransformRuntimeError(self.reason)

    def run_many(self, records, deadline: float | None = None):
        """As ``Transform.run_many``: every record dropped, with the reason."""
        return [], 0, [(index, self.reason) for index in range(len(records))]


class Quota:
    """Per-DCR limits per clock minute (azure-contract.md §8): 12,000 requests and 2 GB of data; 429 + Retry-After beyond."""

    def __init__(self, requests_per_minute: int = 12_000, bytes_per_minute: int = 2 * 10**9):
        self.requests_per_minute = requests_per_minute
        self.bytes_per_minute = bytes_per_minute
        self._minute: dict[str, tuple[int, int, int]] = {}  # immutable id -> (minute, requests, bytes)

    def charge(self, immutable_id: str, size: int, now: float) -> None:
        minute = int(now // 60)
        current, requests, used = self._minute.get(immutable_id, (minute, 0, 0))
        if current != minute:
            requests, used = 0, 0
        if requests + 1 > self.requests_per_minute or used + size > self.bytes_per_minute:
            retry_after = max(1, int(60 - now % 60))
            raise errors.TooManyRequests(
                f"API limits have been exceeded for data collection rule '{immutable_id}' (at most {self.requests_per_minute} "
                f"requests and {self.bytes_per_minute} bytes per minute). Retry after {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)})
        self._minute[immutable_id] = (minute, requests + 1, used + size)


def table_key(customer_id: str, table: str) -> str:
    return f"{customer_id.lower()}/{table.lower()}"


def compile_rule(dcr: dict, lookup) -> RulePlan:
    """Compile a stored DCR: stream columns, transforms (compiled once), destination tables."""
    props = dcr["properties"]
    streams = {name: tuple(c["name"] for c in (decl.get("columns") or []))
               for name, decl in (props.get("streamDeclarations") or {}).items()}
    destinations = {d["name"].lower(): d for d in (props.get("destinations") or {}).get("logAnalytics") or []}
    plan = RulePlan(dcr["id"], props["immutableId"], streams, {}, direct=(dcr.get("kind") or "").strip().lower() == "direct",
                    endpoint_id=(props.get("dataCollectionEndpointId") or "").lower())
    for index, flow in enumerate(props.get("dataFlows") or []):
        flow_streams = flow.get("streams") or []
        output_stream = flow.get("outputStream") or (flow_streams[0] if len(flow_streams) == 1 else "")
        parsed = output_table(output_stream)
        query = (flow.get("transformKql") or "source").strip()
        for dest_name in flow.get("destinations") or []:
            destination = destinations.get(str(dest_name).lower())
            workspace = lookup.workspace(destination["workspaceResourceId"]) if destination else None
            table = lookup.table_state(workspace["id"], parsed[0]) if workspace and parsed else None
            if workspace is None or table is None:
                continue  # validated at PUT; the table may have been deleted since (rows are then lost, as in Azure)
            for stream in flow_streams:
                transform = None
                if query != "source":
                    declared = (props.get("streamDeclarations") or {}).get(stream) or {}
                    try:
                        transform = kql.compile_transform(query, [(c["name"], c["type"]) for c in declared.get("columns", [])])
                    except kql.TransformCompileError as error:
                        # Accepted at PUT (compat checker) but not runnable: rows of this flow are dropped, as Azure drops
                        # records its pipeline cannot transform; the warning says why.
                        plan.warnings.append(f"dataFlows[{index}]: {error}; its records are dropped")
                        transform = _Unrunnable(str(error))
                    if getattr(transform, "identity_fallback", False):
                        plan.warnings.append(f"dataFlows[{index}]: transformKql is applied as the identity (the KQL engine "
                                             "cannot run it yet)")
                columns = tables.destination_columns(table)
                plan.flows.setdefault(stream, []).append(FlowPlan(
                    transform, table_key(workspace["customerId"], table["name"]), table["name"],
                    frozenset(n for n, _ in columns), table.get("plan") == "Auxiliary" and not kql.sets_time_generated(query),
                    tuple((n, t, VALUE_CHECKS[t]) for n, t in columns if t in VALUE_CHECKS)))
    return plan


def _gunzip(raw: bytes) -> bytes:
    """Every member of a gzip body (RFC 1952 §2.2: a file is a series of members), strictly: 400 for a truncated
    stream or bytes after it that are not another member; 413 beyond the decompressed limit."""
    # The SDK counts 1 MiB of records without the '[', ',' separators (sdk-notes.md §4.5): allow that slack.
    budget = 2 * MAX_BODY
    out: list[bytes] = []
    rest = raw
    try:
        while True:
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            part = decoder.decompress(rest, budget + 1)
            if decoder.unconsumed_tail or len(part) > budget:
                raise errors.ContentLengthLimitExceeded(TOO_LARGE)
            if not decoder.eof:
                raise errors.InvalidContent("The request body is not valid gzip: the compressed stream is truncated.")
            out.append(part)
            budget -= len(part)
            rest = decoder.unused_data
            if not rest:
                return b"".join(out)
            if not rest.startswith(b"\x1f\x8b"):
                raise errors.InvalidContent(
                    f"The request body is not valid gzip: {len(rest)} bytes after the end of the compressed stream.")
    except (zlib.error, EOFError, gzip.BadGzipFile) as error:
        raise errors.InvalidContent(f"The request body is not valid gzip: {error}.") from None


def decode_body(raw: bytes, content_encoding: str | None) -> tuple[list, bytes]:
    """(rows, JSON text) of a request: 413 beyond 1 MB (compressed or not), 400 for anything but a strict JSON
    array of objects (``check_rows``)."""
    rows, text, _ = decode_request(raw, content_encoding)
    return rows, text


def decode_request(raw: bytes, content_encoding: str | None) -> tuple[list, bytes, bool]:
    """``decode_body``, and whether a row holds a string that may need truncating (``check_rows``' answer), so
    ``passthrough`` and ``map_rows`` need not look at every value again."""
    if len(raw) > MAX_BODY:
        raise errors.ContentLengthLimitExceeded(TOO_LARGE)
    text = _gunzip(raw) if (content_encoding or "").strip().lower() == "gzip" else raw
    try:
        rows = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested too deep to parse
        raise errors.InvalidContent(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(rows, list):
        raise errors.InvalidContent("The request body must be a JSON array of objects.")
    # 1 MB of records: the JSON minus the array punctuation the SDK does not count.
    if len(text) - 2 * len(rows) > MAX_BODY:
        raise errors.ContentLengthLimitExceeded(TOO_LARGE)
    return rows, text, check_rows(rows)


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _not_finite(index: int) -> errors.ServiceError:
    return errors.InvalidContent(
        f"The request body is not valid JSON: element {index} holds NaN, Infinity or a number beyond the range of a "
        "double; JSON has no such values (RFC 8259 §6).")


def _check_nested(value: dict | list, depth: int, index: int) -> None:
    """``value`` (at ``depth``) holds only finite numbers and nests at most ``MAX_DEPTH`` levels. Recursive, but
    never deeper than ``MAX_DEPTH`` calls: it refuses before going further (faster than an explicit stack)."""
    if depth > MAX_DEPTH:
        raise errors.InvalidContent(
            f"The request body is nested too deeply: element {index} goes deeper than {MAX_DEPTH} levels "
            f"(the body's array is level 1); at most {MAX_DEPTH} are accepted.")
    for child in (value.values() if isinstance(value, dict) else value):
        kind = type(child)
        if kind is dict or kind is list:
            _check_nested(child, depth + 1, index)
        elif kind is float and not math.isfinite(child):
            raise _not_finite(index)


def check_rows(rows: list) -> bool:
    """400 unless every element is an object (the API's body is ``array of object``, azure-contract.md §7) whose
    numbers are finite and whose nesting stays within ``MAX_DEPTH``. Returns whether a row holds a string longer
    than ``_LONG_CHARS`` characters (one that may be over 64 KB and need truncating: ``map_rows``)."""
    long_strings = False
    for index, row in enumerate(rows):
        if type(row) is not dict:
            raise errors.InvalidContent(
                f"The request body must be a JSON array of objects; element {index} is {_kind(row)}.")
        for value in row.values():
            kind = type(value)
            if kind is str:  # the common case first: this runs for every value of every row
                if len(value) > _LONG_CHARS:
                    long_strings = True
            elif kind is int:
                continue
            elif kind is dict or kind is list:
                _check_nested(value, 3, index)  # the array is level 1, the row level 2
            elif kind is float and not math.isfinite(value):
                raise _not_finite(index)
    return long_strings


def passthrough(plan: RulePlan, stream: str, rows: list, text: bytes, stats: Stats,
                long_strings: bool | None = None) -> tuple[str, bytes] | None:
    """(table key, text) when the request can be stored as sent: one flow, no transform, every row an object whose
    columns the stream declares and the table has, with values that fit the table's types, no field near the 64 KB
    limit. Else None (map_rows does the work). ``long_strings``: ``check_rows``' answer for ``rows`` (None: look)."""
    flows = plan.flows.get(stream, [])
    if len(flows) != 1 or flows[0].transform is not None or flows[0].auxiliary_window:
        return None
    allowed = frozenset(plan.streams[stream])
    if not allowed <= flows[0].columns:
        return None
    if long_strings:
        return None  # a value may need truncating (map_rows does it)
    # Only a body over 64 KB can hold a field over 64 KB; check_rows has looked already when it answered.
    check_long = long_strings is None and len(text) > MAX_FIELD
    flow = flows[0]
    for row in rows:
        if type(row) is not dict or not row.keys() <= allowed or flow.problem(row) is not None:
            return None
        if check_long:
            # A value that may need truncating (map_rows does it). Checked on the parsed values, so escaped
            # quotes inside a string cannot hide a long one (a scan of the JSON text for quote-free runs could).
            for value in row.values():
                if type(value) is str and len(value) > _LONG_CHARS:
                    return None
    stats.received += len(rows)
    stats.stored += len(rows)
    return flows[0].table_key, text


AUXILIARY_WINDOW_SECONDS = 30 * 60


def check_auxiliary_window(flow: FlowPlan, rows: list) -> None:
    """Auxiliary tables whose flow does not transform TimeGenerated: one call's TimeGenerated values must span under
    30 minutes (azure-contract.md §8, [DOC-LIMITS-LIA]: "when TimeGenerated is not transformed"; a transform that
    leaves it as sent keeps the limit). The service's exact answer is undocumented: 400 here."""
    if not flow.auxiliary_window:
        return
    stamps = []
    for row in rows:
        value = row.get("TimeGenerated") if type(row) is dict else None
        if isinstance(value, str):
            try:
                stamps.append(datetime.fromisoformat(value).timestamp())
            except ValueError:
                continue
    if stamps and max(stamps) - min(stamps) >= AUXILIARY_WINDOW_SECONDS:
        raise errors.InvalidContent(
            f"TimeGenerated values sent to Auxiliary table '{flow.table_name}' in one call span "
            f"{(max(stamps) - min(stamps)) / 60:.0f} minutes; unless the transformation sets TimeGenerated they must span less than 30 minutes. "
            "Split the upload by time, or set TimeGenerated in the transformKql.")


def _truncate_long_fields(record: dict) -> None:
    for key, value in record.items():
        if type(value) is str and len(value) > MAX_FIELD // 4 and len(value.encode()) > MAX_FIELD:
            record[key] = value.encode()[:MAX_FIELD].decode(errors="ignore")


def map_rows(plan: RulePlan, stream: str, rows: list, stats: Stats, body_size: int = MAX_BODY,
             deadline: float | None = None, long_strings: bool | None = None) -> dict[str, list[dict]]:
    """Rows per destination table key after the stream filter, the transform (or, without one, the type checks of
    ``record_problem``) and the table filter. The Auxiliary window is checked by the caller, once per request.

    ``deadline`` (a ``time.monotonic()`` instant) bounds the transforms' work, checked by ``Transform.run_many``
    before each record: past it, TransformTimeout, and the caller stores nothing of the request.
    ``long_strings``: ``check_rows``' answer for ``rows`` (None: look at every value)."""
    declared = plan.streams[stream]
    flows = plan.flows.get(stream, [])
    out: dict[str, list[dict]] = {flow.table_key: [] for flow in flows}
    # Only a body longer than 64 KB can hold a field longer than 64 KB.
    check_long = body_size > MAX_FIELD and long_strings is not False
    declared_set = frozenset(declared)
    stats.received += len(rows)
    if not check_long and all(flow.transform is not None for flow in flows) and all(type(row) is dict for row in rows):
        # A transform reads only the stream's columns (its input columns): the rows serve as they came.
        records = rows
    else:
        records = []
        for row in rows:
            if type(row) is not dict:  # decode_body refuses such a call; kept for callers that did not decode
                stats.drop("the element is not a JSON object")
                continue
            record = {name: row[name] for name in declared if name in row}
            if check_long:
                _truncate_long_fields(record)
            records.append(record)
    for flow in flows:
        target = out[flow.table_key]
        columns = flow.columns
        if flow.transform is not None:
            try:
                kept, filtered, dropped = flow.transform.run_many(records, deadline)
            except kql.EvaluationTimeout as timeout:
                raise errors.TransformTimeout(
                    f"The transformations of this request ran past the emulator's bound after {timeout.processed} of "
                    f"{len(records)} record(s); nothing of the request was stored. Send smaller batches, or simplify "
                    "the transformKql.") from None
            stats.filtered += filtered
            for _, reason in dropped:
                stats.drop(f"transformKql failed: {reason}")
            # The output keeps only the table's columns; a row that has no others is stored as it is.
            target.extend(row if row.keys() <= columns else {k: v for k, v in row.items() if k in columns} for row in kept)
            continue
        for record in records:
            if (problem := flow.problem(record)) is not None:
                stats.drop(problem)
            elif declared_set <= columns:
                target.append(record)  # identity flow, every stream column is a table column
            else:
                target.append({k: v for k, v in record.items() if k in columns})
    stats.stored += sum(len(v) for v in out.values())
    return out


def forbidden(immutable_id: str, dcr_id: str, tenant: str, object_id: str, *, rbac: bool = False,
              binding: bool | None = None) -> errors.ServiceError:
    """The service's 403 text (azure-contract.md §7, azure-sdk-for-net PR #37173 TROUBLESHOOTING.md).

    ``binding`` is None on the rule's own endpoint (the service leaves the field empty there) and says
    whether the rule names the DCE when the request came through a DCE.
    """
    reason = (f"Required authorization action was not found for tenantId {tenant} objectId {object_id} on resourceId {dcr_id}"
              if not rbac else "The data collection rule is not associated with this data collection endpoint "
                               "(its dataCollectionEndpointId names another endpoint or none)")
    binding_text = "" if binding is None else str(binding)
    return errors.OperationFailed(
        "The authentication token provided does not have access to ingest data for the data collection rule with immutable Id "
        f"'{immutable_id}' PipelineAccessResult: AccessGranted: False, IsRbacPresent: {rbac}, IsDcrDceBindingValid: {binding_text}, "
        f"DcrArmId: {dcr_id}, Message: {reason} ConfigurationId: {immutable_id}.."
    )
