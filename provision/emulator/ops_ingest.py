"""The Logs Ingestion upload: routing, token, RBAC and DCE binding, limits, mapping and storage.

Rows are stored before the 204 is sent (issue 12 items 2, 7): a 204 means the rows are in the state file,
and anything that fails while storing answers 500 instead of a 204 followed by a loss. Rules, endpoints and
role assignments are found through the store's index (issue 8), not by decoding every stored one.
"""

from __future__ import annotations

import time

from provision.emulator import arm, dcr, errors, identity, ingest, rbac
from provision.emulator.base import Request, Response
from provision.emulator.core import BackendCore


class IngestOperations(BackendCore):
    """Mixed into ``Backend`` (backend.py), which provides the store, tokens, RBAC checks and LRO settling."""

    # ================================================================== ingestion
    def _rule_plan(self, immutable_id: str) -> ingest.RulePlan:
        cached = self._plans.get(immutable_id)
        if cached and cached[0] == self._version:
            return cached[1]
        with self.lock:
            version = self._version
            rule = next(iter(self.store.find(dcr.DCR_TYPE, immutable_id)), None)
            if rule is None:
                raise errors.DataCollectionRuleNotFound(
                    f"Data collection rule with immutable Id '{immutable_id}' not found. Check the 'immutableId' of the rule "
                    "(properties.immutableId) and the endpoint it is sent to.")
            plan = ingest.compile_rule(rule, self)
            for warning in plan.warnings:
                message = f"{rule['name']}: {warning}"
                if message not in self.warnings:
                    self.warnings.append(message)
                    self.store.add_event("warning", {"dcr": rule["id"], "message": warning})
            self._plans[immutable_id] = (version, plan)
        return plan

    def Ingest_Upload(self, req: Request, endpoint_kind: str, endpoint_key: str, rule_id: str, stream: str) -> Response:
        deadline = time.monotonic() + self.transform_seconds
        arm.check_plain_api_version(req.query, arm.INGESTION_API_VERSIONS)
        claims = self.authenticate(req, identity.MONITOR_AUDIENCE, data_plane=True)
        self.settle()
        dce_id = None
        if endpoint_kind == "dce":
            dce = next(iter(self.store.find(dcr.DCE_TYPE, endpoint_key)), None)
            if dce is None:
                raise errors.NotFound(f"No data collection endpoint is served at '/ingest/dce/{endpoint_key}'.")
            dce_id = dce["id"]
            # Every request reaching the emulator comes over its public endpoint (there is no private link here), so a
            # DCE that allows private-link traffic only refuses all of it, as Azure refuses senders outside the link.
            access = ((dce.get("properties") or {}).get("networkAcls") or {}).get("publicNetworkAccess")
            if str(access).lower() == "disabled":
                raise errors.PublicNetworkAccessDisabled(
                    f"Public network access is disabled on data collection endpoint '{dce_id}' "
                    "(properties.networkAcls.publicNetworkAccess: Disabled); send through a private endpoint of the Azure Monitor "
                    "private link scope the endpoint belongs to, or set publicNetworkAccess to Enabled.")
        elif endpoint_key.lower() != rule_id.lower():
            raise errors.DataCollectionRuleNotFound(
                f"Data collection rule with immutable Id '{rule_id}' is not served by this endpoint; use the rule's own "
                "endpoints.logsIngestion or a data collection endpoint.")
        plan = self._rule_plan(rule_id)
        if dce_id is None and not plan.direct:
            raise errors.DataCollectionRuleNotFound(
                f"Data collection rule '{rule_id}' has no endpoint of its own (only kind 'Direct' rules do); send through the "
                "data collection endpoint named in its dataCollectionEndpointId.")
        if stream not in plan.streams:
            raise errors.StreamNotFound(
                f"Stream '{stream}' is not declared in data collection rule '{rule_id}'. Declared streams: "
                f"{', '.join(plan.streams) or '(none)'}.")
        has_role = rbac.is_authorized(rbac.assignments_of(self.store, claims.oid), claims.oid, "Microsoft.Insights/Telemetry/Write",
                                      plan.dcr_id, data=True, propagation_seconds=self.role_propagation_seconds)
        binding = None if dce_id is None else plan.endpoint_id == dce_id.lower()
        if not has_role or binding is False:
            raise ingest.forbidden(rule_id, plan.dcr_id, claims.tid, claims.oid, rbac=has_role, binding=binding)
        rows, text, long_strings = ingest.decode_request(req.body, req.headers.get("content-encoding"))
        self.quota.charge(plan.immutable_id.lower(), len(text), time.time())
        flows = plan.flows.get(stream, [])
        for flow in flows:  # once per request, before anything is stored (a refused call stores nothing)
            ingest.check_auxiliary_window(flow, rows)
        stats = self.stats.setdefault(rule_id.lower(), ingest.Stats())
        stats.requests += 1
        with self.storing():
            verbatim = ingest.passthrough(plan, stream, rows, text, stats, long_strings)
            if verbatim is not None:
                if rows:
                    self.store.add_rows(verbatim[0], rows, verbatim[1])
            else:
                self.store.add_batches(list(ingest.map_rows(plan, stream, rows, stats, len(text), deadline,
                                                            long_strings).items()))
        # Stored (autocommitted to the WAL file) before answering: what a 204 acknowledges survives a crash.
        return Response(204)

    def Ingest_NotEmulated(self, req: Request, endpoint_kind: str, endpoint_key: str, surface: str, rest: str = "") -> Response:
        """The endpoints a DCR or DCE advertises besides logs ingestion (``metricsIngestion``, ``configurationAccess``:
        Azure returns them, DataCollectionRulesCreateEmbeddedDCE.json and DataCollectionEndpointsGet.json in the
        2024-03-11 specs) are kept in the responses, as Azure's, and answered, authenticated, with 501: the emulator
        serves no metrics ingestion (Prometheus remote write) or agent configuration (docs/emulator.md, "Identity,
        the request log and the state lock": emulator limitations)."""
        what = "metrics ingestion" if surface.lower() == "metrics" else "agent configuration access"
        raise errors.EndpointNotEmulated(f"The local emulator does not serve {what} ({req.method} {req.path}); it serves "
                                         "logs ingestion only (properties.endpoints.logsIngestion / logsIngestion.endpoint).")

