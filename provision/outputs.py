"""Outputs for senders and CI: ingestion endpoint, immutable ID, stream URLs, ids, audience.

``outputs_from_live`` is pure (live bodies in, ``Outputs`` out);
``provision.pipeline.collect_outputs`` reads live state first. ``format_outputs`` renders one of: ``text`` (people),
``json`` (programs; the shape below), ``env`` (``KEY=VALUE`` lines),
``github`` (appended to ``$GITHUB_OUTPUT``) and ``azure-devops``
(``##vso[task.setvariable]`` lines).

JSON shape::

    {"rules": {"<dcr>": {"id", "immutable_id", "logs_ingestion_endpoint",
                         "streams": {"<stream>": {"url"}}}},
     "tables": {"<table>": {"id"}},
     "endpoint": {"name", "id", "logs_ingestion_endpoint"} | null,
     "audience": "https://monitor.azure.com"}

The POST URL is ``{endpoint}/dataCollectionRules/{immutableId}/streams/{stream}
?api-version=2023-01-01`` (azure-contract.md §7).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from dataclasses import dataclass, field

from provision import ids, secrets
from provision.diagnostics import printable
from provision.errors import ProvisionError

INGESTION_API_VERSION = "2023-01-01"
FORMATS = ("text", "json", "env", "github", "azure-devops", "snippet")


@dataclass
class Outputs:
    rules: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    endpoint: dict | None = None
    audience: str = "https://monitor.azure.com"
    tenant_id: str | None = None  # what a sender signs in to (add_sender_details)
    publishers: list = field(default_factory=list)  # [{"app_id"|"object_id"|"group_id": ...}] of the scenario

    def to_dict(self) -> dict:
        data: dict = {"rules": self.rules, "tables": self.tables, "endpoint": self.endpoint, "audience": self.audience}
        if self.tenant_id:
            data["tenant_id"] = self.tenant_id
        if self.publishers:
            data["publishers"] = self.publishers
        return data


def add_sender_details(outputs: Outputs, scenario, tenant_id: str | None) -> Outputs:
    """What a sender's code needs besides the URL: the tenant, the publishers' client ids, each stream's columns
    (name and DCR type, as the sender must post them)."""
    outputs.tenant_id = tenant_id
    outputs.publishers = [{k: v for k, v in (("app_id", p.app_id), ("object_id", p.object_id), ("group_id", p.group_id)) if v}
                          for p in scenario.publishers]
    for name, rule in outputs.rules.items():
        declared = scenario.rules[name].streams if name in scenario.rules else {}
        for stream, entry in rule["streams"].items():
            entry["columns"] = [{"name": c.name, "type": c.type} for c in declared.get(stream, ())]
    return outputs


def stream_url(endpoint: str, immutable_id: str, stream: str) -> str:
    return f"{endpoint.rstrip('/')}/dataCollectionRules/{immutable_id}/streams/{stream}?api-version={INGESTION_API_VERSION}"


def outputs_from_live(resources, bodies: dict, audience: str) -> Outputs:
    """Outputs from live bodies (``bodies``: lower-cased id -> body) of the rendered ``resources``."""
    out = Outputs(audience=audience)
    dce_endpoint = None
    for r in resources:
        if r.kind == "endpoint" and r.ensure != "absent" and r.body is not None:
            body = bodies.get(r.id.lower()) or {}
            dce_endpoint = ((body.get("properties") or {}).get("logsIngestion") or {}).get("endpoint")
            out.endpoint = {"name": r.name, "id": body.get("id") or r.id, "logs_ingestion_endpoint": dce_endpoint}
    for r in resources:
        if r.ensure == "absent" or r.body is None:
            continue
        body = bodies.get(r.id.lower())
        if r.kind == "table":
            out.tables[r.name] = {"id": (body or {}).get("id") or r.id}
        elif r.kind == "rule":
            props = (body or {}).get("properties") or {}
            immutable_id = props.get("immutableId")
            own = (props.get("endpoints") or {}).get("logsIngestion")
            endpoint = dce_endpoint if (props.get("dataCollectionEndpointId") and dce_endpoint) else own
            streams = (r.body.get("properties") or {}).get("streamDeclarations") or {}
            out.rules[r.name] = {
                "id": (body or {}).get("id") or r.id,
                "immutable_id": immutable_id,
                "logs_ingestion_endpoint": endpoint,
                "streams": {s: {"url": stream_url(endpoint, immutable_id, s) if endpoint and immutable_id else None}
                            for s in streams},
            }
    return out


# ---------------------------------------------------------------- formats


def variables(outputs: Outputs) -> list[tuple[str, str]]:
    """Flat (KEY, value) pairs for env, GitHub and Azure DevOps outputs.

    Raises ProvisionError when two resources would share a variable name (``dcr-a`` and ``dcr_a``
    both give ``DCR_DCR_A_ID``): one value would silently replace the other.
    """
    clashes = ids.output_key_clashes({n: list(r["streams"]) for n, r in outputs.rules.items()}, list(outputs.tables))
    if clashes:
        key, first, second = clashes[0]
        same = [k for k, a, b in clashes if (a, b) == (first, second)]
        if len(same) > 1:  # e.g. the short name and its older spelling: DCR_ORDERS_ID, DCR_DCR_ORDERS_ID
            key = f"{key}, {same[1]} and {len(same) - 2} more" if len(same) > 2 else f"{key} and {same[1]}"
        raise ProvisionError(f"output variable {key} would be set by both {first} and {second}",
                             hint="rename one of them, or use --format json (keyed by the exact names)")
    pairs = [("PROVISION_AUDIENCE", outputs.audience)]
    if outputs.tenant_id:
        pairs.append(("PROVISION_TENANT_ID", outputs.tenant_id))
    if outputs.endpoint:
        pairs += [("DCE_ID", outputs.endpoint["id"]),
                  ("DCE_LOGS_INGESTION_ENDPOINT", outputs.endpoint.get("logs_ingestion_endpoint") or "")]
    for name, rule in outputs.rules.items():
        for suffix, value in (("ID", rule["id"]), ("IMMUTABLE_ID", rule["immutable_id"] or ""), ("ENDPOINT", rule["logs_ingestion_endpoint"] or "")):
            pairs += [(key, value) for key in ids.output_names("DCR", name, suffix)]
        pairs += [(key, s["url"] or "") for stream, s in rule["streams"].items() for key in ids.output_names("DCR", name, stream, "URL")]
    pairs += [(key, t["id"]) for name, t in outputs.tables.items() for key in ids.output_names("TABLE", name, "ID")]
    return pairs


def format_outputs(outputs: Outputs, fmt: str = "text", environ=None) -> str:
    """The outputs as text; for ``github`` also appends them to ``$GITHUB_OUTPUT``. Values of secret
    variables (secrets.py) are written as ``***``."""
    return secrets.redact(_format(outputs, fmt, environ))


def _format(outputs: Outputs, fmt: str, environ) -> str:
    if fmt == "json":
        return json.dumps(outputs.to_dict(), indent=2)
    if fmt == "env":
        return "\n".join(f"{k}={_shell_value(k, v)}" for k, v in variables(outputs))
    if fmt == "azure-devops":
        return "\n".join(f"##vso[task.setvariable variable={k};isOutput=true]{_devops_value(v)}" for k, v in variables(outputs))
    if fmt == "github":
        target = github_output_path(environ)
        pairs = variables(outputs)
        try:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(secrets.redact("".join(_github_line(k.lower(), v) for k, v in pairs)))
        except OSError as error:
            raise _unwritable(target, error) from None
        return f"wrote {len(pairs)} outputs to $GITHUB_OUTPUT"
    if fmt == "text":
        return _text(outputs)
    if fmt == "snippet":
        from provision.snippet import python_sender

        return python_sender(outputs)
    raise ProvisionError(f"unknown output format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")


# Values are names and URLs the scenario chose; validate refuses control characters in names, and these
# escapes keep a value on its own line even so (issue 12 item 4).
_SHELL_SAFE = re.compile(r"[A-Za-z0-9_./:?=%@+,-]*")


def _shell_value(key: str, value: str) -> str:
    """``value`` as the right side of ``KEY=value`` in a file for ``set -a; . file`` (quoted when it needs it).

    POSIX sh has no one-line escape for a line break, and a second line printed to a CI log is read
    as a command there, so such a value is refused rather than written."""
    if _SHELL_SAFE.fullmatch(value):
        return value
    if not value.isprintable():
        raise ProvisionError(f"the value of {key} holds a line break or control character: {printable(value)}",
                             hint="use --format json (or github / azure-devops, which escape it), and rename what holds it")
    return shlex.quote(value)


def _devops_value(value: str) -> str:
    """Azure DevOps logging-command escapes for a value: % -> %AZP25, CR -> %0D, LF -> %0A
    (learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands, "Formatting commands")."""
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _github_line(key: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry; a value with a line break uses the documented ``key<<DELIMITER`` form
    with a delimiter that does not occur in it (docs.github.com/actions/reference/workflows-and-actions/
    workflow-commands#multiline-strings)."""
    if "\n" not in value and "\r" not in value:
        return f"{key}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def github_output_path(environ=None) -> str:
    """``$GITHUB_OUTPUT``, checked to be appendable; commands call this before talking to Azure, so that
    ``apply --format github`` outside GitHub Actions fails before changing anything."""
    environ = os.environ if environ is None else environ
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        raise ProvisionError("--format github needs $GITHUB_OUTPUT (set by GitHub Actions)",
                             hint="use --format env outside GitHub Actions")
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise _unwritable(target, error) from None
    return target


def _unwritable(target: str, error: OSError) -> ProvisionError:
    return ProvisionError(f"cannot append to $GITHUB_OUTPUT ({target}): {error.strerror or error}",
                          hint="GitHub Actions sets GITHUB_OUTPUT to a writable file; unset it or point it at one")


def _text(outputs: Outputs) -> str:
    lines = [f"audience: {outputs.audience}"]
    if outputs.tenant_id:
        lines.append(f"tenant id: {outputs.tenant_id}")
    for publisher in outputs.publishers:
        if "app_id" in publisher:
            lines.append(f"publisher: client id {publisher['app_id']}")
        elif "object_id" in publisher:
            lines.append(f"publisher: service principal object id {publisher['object_id']}")
        else:  # a group: its members send, each with its own client id
            lines.append(f"publisher: group object id {publisher['group_id']} (its members may send)")
    if outputs.endpoint:
        lines += [f"endpoint {outputs.endpoint['name']}", f"  id: {outputs.endpoint['id']}",
                  f"  logs ingestion endpoint: {outputs.endpoint.get('logs_ingestion_endpoint')}"]
    for name, rule in outputs.rules.items():
        lines += [f"rule {name}", f"  id: {rule['id']}", f"  immutable id: {rule['immutable_id']}",
                  f"  logs ingestion endpoint: {rule['logs_ingestion_endpoint']}"]
        for stream, s in rule["streams"].items():
            lines.append(f"  stream {stream}: POST {s['url']}")
            if s.get("columns"):
                lines.append("    columns: " + ", ".join(f"{c['name']} {c['type']}" for c in s["columns"]))
    for name, table in outputs.tables.items():
        lines.append(f"table {name}: {table['id']}")
    return "\n".join(lines)
