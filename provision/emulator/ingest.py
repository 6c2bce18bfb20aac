"""The Logs Ingestion data plane: body decoding, limits, and mapping rows through a DCR's flows.

What the service does (azure-contract.md §7, §8; data-collection-rule-structure.md):
the body is a JSON array (plain or gzip), at most 1 MB per call (413 beyond);
columns not declared in the stream are dropped; each flow's ``transformKql``
runs per record (``None`` = filtered by ``where``; a runtime error drops the
record and counts it); the output keeps only the destination table's columns;
string values longer than 64 KB are truncated.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from provision import kql
from provision.emulator import errors, tables
from provision.emulator.dcr import output_table

MAX_BODY = 1024 * 1024  # "The maximum message size is currently 1 MB per call" (tutorial-logs-ingestion-code.md)
MAX_FIELD = 64 * 1024   # azure-contract.md §8: longer field values are truncated
TOO_LARGE = "The message is too large. The maximum message size is currently 1 MB per call."


@dataclass
class FlowPlan:
    """One data flow of a rule, compiled: the transform and where its output goes."""

    transform: kql.Transform | None  # None: 'source' (identity, no per-record call)
    table_key: str
    table_name: str
    columns: frozenset[str]
    auxiliary: bool = False  # Auxiliary plan: the 30-minute TimeGenerated window applies without a transform


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


class _Unrunnable:
    """A flow whose transform does not compile: every record is dropped (and counted)."""

    def __init__(self, reason: str):
        self.reason = reason

    def run(self, record: dict):
        raise kql.TransformRuntimeError(self.reason)


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
                plan.flows.setdefault(stream, []).append(FlowPlan(
                    transform, table_key(workspace["customerId"], table["name"]), table["name"],
                    frozenset(n for n, _ in tables.destination_columns(table)), table.get("plan") == "Auxiliary"))
    return plan


def decode_body(raw: bytes, content_encoding: str | None) -> tuple[list, bytes]:
    """(rows, JSON text) of a request: 413 beyond 1 MB (compressed or not), 400 for anything not an array."""
    if len(raw) > MAX_BODY:
        raise errors.ContentLengthLimitExceeded(TOO_LARGE)
    if (content_encoding or "").strip().lower() == "gzip":
        try:
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            # The SDK counts 1 MiB of records without the '[', ',' separators (sdk-notes.md §4.5): allow that slack.
            text = decoder.decompress(raw, 2 * MAX_BODY)
            if decoder.unconsumed_tail:
                raise errors.ContentLengthLimitExceeded(TOO_LARGE)
        except (zlib.error, EOFError, gzip.BadGzipFile) as error:
            raise errors.InvalidContent(f"The request body is not valid gzip: {error}.") from None
    else:
        text = raw
    try:
        rows = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested too deep to parse
        raise errors.InvalidContent(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(rows, list):
        raise errors.InvalidContent("The request body must be a JSON array of objects.")
    # 1 MB of records: the JSON minus the array punctuation the SDK does not count.
    if len(text) - 2 * len(rows) > MAX_BODY:
        raise errors.ContentLengthLimitExceeded(TOO_LARGE)
    return rows, text


_LONG_CHARS = MAX_FIELD // 4  # a str of at most this many characters is at most 64 KB in UTF-8


def passthrough(plan: RulePlan, stream: str, rows: list, text: bytes, stats: Stats) -> tuple[str, bytes] | None:
    """(table key, text) when the request can be stored as sent: one flow, no transform, every row an object whose
    columns the stream declares and the table has, no field near the 64 KB limit. Else None (map_rows does the work)."""
    flows = plan.flows.get(stream, [])
    if len(flows) != 1 or flows[0].transform is not None or flows[0].auxiliary:
        return None
    allowed = frozenset(plan.streams[stream])
    if not allowed <= flows[0].columns:
        return None
    check_long = len(text) > MAX_FIELD  # only a body over 64 KB can hold a field over 64 KB
    for row in rows:
        if type(row) is not dict or not row.keys() <= allowed:
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
    """Auxiliary tables, no transformation: one call's TimeGenerated values must span under 30 minutes
    (azure-contract.md §8, [DOC-LIMITS-LIA]). The service's exact answer is undocumented: 400 here."""
    if not flow.auxiliary or flow.transform is not None:
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
            f"{(max(stamps) - min(stamps)) / 60:.0f} minutes; without a transformation they must span less than 30 minutes. "
            "Split the upload by time, or add a transformKql.")


def _truncate_long_fields(record: dict) -> None:
    for key, value in record.items():
        if type(value) is str and len(value) > MAX_FIELD // 4 and len(value.encode()) > MAX_FIELD:
            record[key] = value.encode()[:MAX_FIELD].decode(errors="ignore")


def map_rows(plan: RulePlan, stream: str, rows: list, stats: Stats, body_size: int = MAX_BODY) -> dict[str, list[dict]]:
    """Rows per destination table key after the stream filter, the transform and the table filter."""
    declared = plan.streams[stream]
    flows = plan.flows.get(stream, [])
    out: dict[str, list[dict]] = {flow.table_key: [] for flow in flows}
    # Only a body longer than 64 KB can hold a field longer than 64 KB.
    check_long = body_size > MAX_FIELD
    declared_set = frozenset(declared)
    for flow in flows:
        check_auxiliary_window(flow, rows)
    stats.received += len(rows)
    for row in rows:
        if type(row) is not dict:
            stats.dropped += 1
            continue
        record = {name: row[name] for name in declared if name in row}
        if check_long:
            _truncate_long_fields(record)
        for flow in flows:
            result = record
            if flow.transform is not None:
                try:
                    result = flow.transform.run(record)
                except kql.TransformRuntimeError:
                    stats.dropped += 1
                    continue
                if result is None:
                    stats.filtered += 1
                    continue
            elif declared_set <= flow.columns:
                out[flow.table_key].append(record)  # identity flow, every stream column is a table column
                continue
            columns = flow.columns
            out[flow.table_key].append({k: v for k, v in result.items() if k in columns})
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
