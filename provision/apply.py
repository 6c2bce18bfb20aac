"""Executing a Plan: dependency order, concurrency, LRO waits, verification.

Order: migrations of classic tables (``migrate: true``) -> tables (long-running operations, in parallel) -> DCE -> DCRs (each only
after its own tables report ``provisioningState`` Succeeded) -> role
assignments. There are no global waves: each step starts as soon as the steps
it depends on are done, so the wall time approaches the critical path.

``parallelism`` bounds the requests in flight; by default, as many as ARM lets a
burst of writes through (``azure.DEFAULT_PARALLELISM``), narrowed while ARM answers 429
(``azure.Throttle``: halved on a 429, grown back on successes, nothing new starts
before the Retry-After). A table's long-running operation does not hold a slot
while the service works: the SDK's poller waits on its own thread (azure-core
``LROPoller``), and a table still provisioning is waited for on another pool, so a
waiting poll never holds back a write that is ready to go.

Calls saved: the first status poll of a table operation waits for the Retry-After
of its 202 (azure-core polls once at once, then waits), and verification re-reads
only what a PUT answered without a body (the PUT's response is the resource).

Writes send the rendered bodies verbatim: DCRs, DCEs and role assignments as
JSON bytes through the SDK clients' pipeline (``Session.arm_request``, the PUTs
their operations send, without the models that would drop unknown fields or be
built and thrown away), tables as dicts to azure-mgmt-loganalytics' long-running
operation (sdk-notes.md §2.1, §4.2). Transient failures (429,
5xx, resets) are retried by the SDK's retry policy, which honours Retry-After.
409 ``RoleAssignmentExists`` is success (azure-contract.md §6.1). A failure
stops only what depends on it; what finished stays, and a re-run completes the
rest (every write is an idempotent PUT of the same body under the same name).
"""

from __future__ import annotations

import json
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from provision.azure import ARM_API_VERSIONS, DEFAULT_PARALLELISM, Session, azure_error, error_code
from provision.errors import ApplyError, AzureError
from provision.live import get_resource, raw_json, read_assignment
from provision.plan import CREATE, DELETE, DIFFERS, MIGRATE, NOOP, REPLACE, UPDATE, Change, Plan
from provision.resources import Kind, ResourceId

REPORT_EVERY = 10.0  # seconds between "still waiting" progress lines during long waits
_TERMINAL_OK = "succeeded"
_TERMINAL_BAD = ("failed", "canceled")


@dataclass
class ApplyResult:
    done: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, AzureError]] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    bodies: dict[str, dict | None] = field(default_factory=dict)  # lower id -> live body after apply
    seconds: float = 0.0


def check_allowed(plan: Plan, allow_destructive: bool) -> None:
    """Raise what ``Plan.refusal`` says (the plan's own rule), before anything is written."""
    refusal = plan.refusal(allow_destructive)
    if refusal is not None:
        raise refusal


# --------------------------------------------------------------- steps


@dataclass
class _Step:
    change: Change
    deps: set[str]
    action: str  # create/update/replace/delete, or "wait" (a no-op table still provisioning)

    @property
    def key(self) -> str:
        return self.change.id.lower()


def _steps(plan: Plan) -> dict[str, _Step]:
    pending = {c.id.lower(): c for c in plan.changes if c.is_change}
    steps: dict[str, _Step] = {}
    for cid, change in pending.items():
        steps[cid] = _Step(change, set(), change.action)
    # A replaced DCR comes back as a new resource: re-assert its role assignments; a replaced DCE loses its private
    # link scope associations with its old self: re-create them.
    replaced = {cid for cid, c in pending.items() if c.action == REPLACE and c.kind in (Kind.RULE, Kind.ENDPOINT)}
    for c in plan.changes:
        if c.action != NOOP or c.resource is None:
            continue
        if ((c.kind == Kind.ROLE_ASSIGNMENT and str(c.resource.scope).lower() in replaced)
                or (c.kind == Kind.SCOPED_RESOURCE and any(d.lower() in replaced for d in c.resource.depends_on))):
            steps[c.id.lower()] = _Step(c, set(), CREATE)
    # A no-op table that is still provisioning (an interrupted run) must be waited for by its DCRs.
    for c in plan.changes:
        if c.kind == "table" and c.action == NOOP and c.live is not None and not _succeeded(c.live):
            steps[c.id.lower()] = _Step(c, set(), "wait")
    for key, step in steps.items():
        if step.action == DELETE:
            # Delete after everything that may still point at it (higher-ranked kinds).
            rank = Kind(step.change.kind).rank
            step.deps = {k for k, s in steps.items() if k != key and Kind(s.change.kind).rank > rank}
        else:
            depends_on = step.change.resource.depends_on if step.change.resource is not None else ()
            step.deps = {d.lower() for d in depends_on if d.lower() in steps and d.lower() != key}
    return steps


def _succeeded(body: dict | None) -> bool:
    state = ((body or {}).get("properties") or {}).get("provisioningState")
    return state is None or str(state).lower() == _TERMINAL_OK


# ------------------------------------------------------------ executor


# How long a table PUT waits for an operation already running on the table (409 Conflict) before it
# fails: a table's own operations take minutes at most (azure-contract.md §3, provisioningState).
TABLE_BUSY_SECONDS = 600.0


class _Runner:
    """Runs steps on a thread pool; LRO pollers report back through ``events``."""

    def __init__(self, session: Session, parallelism: int, progress, principal_retry_seconds: float):
        self.session = session
        self.parallelism = max(1, parallelism)
        self.progress = progress or (lambda *a: None)
        self.principal_retry_seconds = principal_retry_seconds
        self.events: queue.Queue = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="provision-apply")
        # waits for a table's provisioningState: they sleep between GETs, so they hold no slot of ``parallelism``
        self.waits = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="provision-wait")
        self.in_flight = 0

    def can_start(self) -> bool:
        """Whether one more request may go into flight: under ``parallelism`` as narrowed by ARM's 429s, and
        not before the Retry-After of the last one."""
        throttle = self.session.throttle
        return self.in_flight < throttle.window(self.parallelism) and throttle.wait_seconds() == 0

    # Each worker returns ("done", body) or ("poll", poller); exceptions become ("error", AzureError).
    def submit(self, step: _Step, fn, *args, waiting: bool = False) -> None:
        if not waiting:
            self.in_flight += 1

        def run():
            try:
                outcome = fn(step, *args)
            except AzureError as error:
                outcome = ("error", error)
            except Exception as error:  # an SDK error type we did not map: keep its message
                outcome = ("error", _as_azure_error(error, step))
            self.events.put((step, "waiter" if waiting else "worker", outcome))

        (self.waits if waiting else self.pool).submit(run)

    # ---- one request per kind -------------------------------------------------

    def start(self, step: _Step):
        change, s = step.change, self.session
        p = ResourceId.parse(change.id)
        body = change.resource.body if change.resource is not None else {}
        if step.action == "wait":
            return "wait", None
        if step.action == DELETE:
            return self._delete(change, p)
        if step.action == REPLACE:
            self._delete(change, p)
        try:
            if change.kind == Kind.MIGRATION:
                # POST .../tables/{name}/migrate: 200, no body; idempotent (custom-logs-migrate.md), so a re-run after a
                # lost answer is harmless.
                self.session.loganalytics(p.subscription).tables.migrate(p.resource_group, p.parent, p.name)
                return "done", None
            if change.kind == Kind.TABLE:
                return "poll", self._put_table(p, body, change)
            if change.kind in (Kind.ENDPOINT, Kind.RULE):
                # the PUT the SDK's create sends (its api-version, the body verbatim), without its model
                return "done", s.arm_request("PUT", p.subscription, change.id, ARM_API_VERSIONS[change.kind],
                                             body=_bytes(body))
            if change.kind == Kind.ROLE_ASSIGNMENT:
                return "done", self._assign(p, body, change)
            if change.kind == Kind.SCOPED_RESOURCE:
                # privateLinkScopes_API.json allows 202 (accepted, finished later): then its provisioningState is awaited
                answer = s.arm_request("PUT", p.subscription, change.id, ARM_API_VERSIONS[change.kind], body=_bytes(body),
                                       accepted=(202,))
                return self.wait_provisioned(step, answer or {"properties": {"provisioningState": "Accepted"}})
        except AzureError:
            raise
        except Exception as error:
            raise _as_azure_error(error, step) from None
        raise ValueError(f"unknown kind {change.kind}")

    def _put_table(self, p: ResourceId, body: dict, change: Change):
        """Start the table PUT; while another operation runs on the table (a lost response's, or a
        concurrent apply's), the service answers 409 Conflict: wait for it as for our own, with a bound."""
        def busy(error) -> bool:
            return error.status_code == 409 and error_code(error) == "Conflict"

        def say(delay: float) -> None:
            self.progress("waiting", change, f"another operation is running on the table (409 Conflict): retrying in {delay:.0f} s")

        return _with_backoff(lambda: self.session.loganalytics(p.subscription).tables.begin_create_or_update(
            p.resource_group, p.parent, p.name, body, cls=raw_json, **_polling(self.session)),
            busy, TABLE_BUSY_SECONDS, 2.0, 30.0, say)

    def _assign(self, p: ResourceId, body: dict, change: Change | None = None) -> dict | None:
        from azure.core.exceptions import HttpResponseError

        def create():
            try:
                return self.session.arm_request("PUT", p.subscription, p.text, ARM_API_VERSIONS[Kind.ROLE_ASSIGNMENT],
                                                body=_bytes(body))
            except HttpResponseError as error:
                if error_code(error) == "RoleAssignmentExists":  # the same triple exists under another name: done
                    return None
                raise

        def say(delay: float) -> None:
            if change is not None and delay == 1.0:  # once, on the first wait
                self.progress("waiting", change, "principal not found yet: retrying for up to "
                              f"{self.principal_retry_seconds:g} s while it replicates")

        # a new service principal replicates slowly (azure-contract.md §6.1)
        return _with_backoff(create, lambda error: error_code(error) == "PrincipalNotFound",
                             self.principal_retry_seconds, 1.0, 15.0, say)

    def _delete(self, change: Change, p: ResourceId):
        s = self.session
        if change.kind == Kind.TABLE:
            s.loganalytics(p.subscription).tables.begin_delete(p.resource_group, p.parent, p.name).result()
        elif change.kind == Kind.RULE:
            s.monitor(p.subscription).data_collection_rules.delete(p.resource_group, p.name)
        elif change.kind == Kind.ENDPOINT:
            s.monitor(p.subscription).data_collection_endpoints.delete(p.resource_group, p.name)
        elif change.kind == Kind.ROLE_ASSIGNMENT:
            s.authorization(p.subscription).role_assignments.delete(p.scope, p.name)
        elif change.kind == Kind.SCOPED_RESOURCE:
            # 200, 202 (the association is removed in the background) or 204 (already gone): privateLinkScopes_API.json
            s.arm_request("DELETE", p.subscription, change.id, ARM_API_VERSIONS[change.kind], accepted=(202, 204))
        return "done", None

    def wait_provisioned(self, step: _Step, body: dict | None):
        """GET the resource (a table, a scoped resource) until ``provisioningState`` is terminal (ARM: absent means
        Succeeded)."""
        delay = self.session.polling_interval if self.session.polling_interval is not None else 5.0
        label = step.change.label
        while not _succeeded(body):
            state = str(((body or {}).get("properties") or {}).get("provisioningState", "")).lower()
            if state in _TERMINAL_BAD:
                raise AzureError(f"{label} ended in provisioningState {state.title()}")
            shown = ((body or {}).get("properties") or {}).get("provisioningState") or "unknown"
            self.progress("waiting", step.change, f"provisioningState {shown}")
            time.sleep(delay)
            body = get_resource(self.session, step.change.kind, step.change.id)
            if body is None:
                raise AzureError(f"{label} disappeared while provisioning")
        return "done", body

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.waits.shutdown(wait=False, cancel_futures=True)


def _with_backoff(call, retryable, seconds: float, first_delay: float, max_delay: float, on_wait):
    """``call()``, retried with doubling waits (``on_wait(delay)`` before each) while it raises an
    ``HttpResponseError`` that ``retryable`` accepts and ``seconds`` have not passed."""
    from azure.core.exceptions import HttpResponseError

    deadline = time.monotonic() + seconds
    delay = first_delay
    while True:
        try:
            return call()
        except HttpResponseError as error:
            if not retryable(error) or time.monotonic() >= deadline:
                raise
            on_wait(delay)
            time.sleep(delay)
            delay = min(delay * 2, max_delay)


def _polling(session: Session) -> dict:
    """``polling=`` for table operations: Retry-After when the service sends it, else a short backoff.

    The SDK's fixed interval is either slow (30 s default) or chatty (0 s); starting at a
    tenth of the cap and growing by half each poll finishes close to the operation's end
    with few status calls (sdk-notes.md §4.3 delay rule)."""
    cap = session.polling_interval
    if cap is None:
        return {}
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    class BackoffPolling(ARMPolling):
        def __init__(self):
            super().__init__(cap, path_format_arguments={"endpoint": session.base_url or session.cloud.arm})
            self._next = cap / 10

        def _extract_delay(self) -> float:
            from azure.core.polling.base_polling import get_retry_after

            retry_after = get_retry_after(self._pipeline_response)
            if retry_after:
                return retry_after
            delay, self._next = self._next, min(cap, self._next * 1.5)
            return delay

        def resource(self):
            # The final body as the service sent it. azure-mgmt-loganalytics' deserialisation callback would build
            # a Table model first (then cls=raw_json throws it away): ~13% of apply's CPU at 200 tables (py-spy),
            # spent in the thread that collects the result (issue 13).
            return raw_json(self._pipeline_response, None, None)

        def _poll(self) -> None:
            # azure-core's LROBasePolling._poll asks for the status at once, then waits between polls; a 202 that
            # says Retry-After has said the answer would be "InProgress" until then: wait first, one poll fewer.
            from azure.core.polling.base_polling import get_retry_after

            if not self.finished() and get_retry_after(self._pipeline_response):
                self._delay()
            super()._poll()

    return {"polling": BackoffPolling()}


def _bytes(body) -> bytes:
    return json.dumps(body).encode()


def _as_azure_error(error, step: _Step) -> AzureError:
    verb = {CREATE: "creating", UPDATE: "updating", REPLACE: "recreating", DELETE: "deleting",
            MIGRATE: "migrating"}.get(step.action, "waiting for")
    return azure_error(error, f"{verb} {step.change.label}")


def apply_plan(session: Session, plan: Plan, parallelism: int | None = None, allow_destructive: bool = False,
               progress=None, verify: bool = True, principal_retry_seconds: float = 60.0) -> ApplyResult:
    """Execute ``plan``; raise ``ApplyError`` listing what failed (what finished stays in place).
    ``parallelism``: at most this many requests in flight (default ``azure.DEFAULT_PARALLELISM``)."""
    check_allowed(plan, allow_destructive)
    parallelism = DEFAULT_PARALLELISM if parallelism is None else parallelism
    started = time.monotonic()
    steps = _steps(plan)
    result = ApplyResult(bodies={c.id.lower(): c.live for c in plan.changes})
    runner = _Runner(session, parallelism, progress, principal_retry_seconds)
    # sorted() is stable: steps of one rank keep the plan's order
    order = sorted(steps, key=lambda k: Kind(steps[k].change.kind).rank if steps[k].action != DELETE else 9)
    waiting = list(order)  # not started, in priority order
    finished: set[str] = set()
    blocked: set[str] = set()
    active: set[str] = set()
    last_report = time.monotonic()
    try:
        while waiting or active:
            _launch_ready(runner, steps, waiting, finished, blocked, active)
            if not active:
                break
            try:
                # timeout keeps Ctrl-C responsive, and wakes up when a Retry-After has passed
                step, what, outcome = runner.events.get(timeout=min(0.25, runner.session.throttle.wait_seconds()
                                                                    or 0.25))
            except queue.Empty:
                if time.monotonic() - last_report >= REPORT_EVERY:
                    last_report = time.monotonic()
                    names = ", ".join(steps[k].change.name for k in sorted(active)[:3])
                    runner.progress("tick", None, f"{len(active)} in progress ({names}{', ...' if len(active) > 3 else ''}), "
                                                  f"{time.monotonic() - started:.0f} s elapsed")
                continue
            _handle(runner, step, what, outcome, steps, result, finished, blocked, active)
    except KeyboardInterrupt:
        runner.shutdown()
        raise
    runner.shutdown()
    if waiting and not result.failed and not blocked:
        # Nothing failed yet steps remain: their dependencies form a cycle (e.g. a rule that still writes to a
        # table marked absent). Say so instead of reporting success.
        raise ApplyError("apply cannot order these changes (each waits for another): "
                         + ", ".join(steps[k].change.label for k in waiting),
                         hint="a resource marked `ensure: absent` is probably still used by another one: remove the "
                              "use (e.g. the rule's flow to that table) or keep the resource")
    failed_ids = {c.id.lower() for c, _ in result.failed}
    result.skipped = [steps[k].change for k in steps if k in blocked and k not in failed_ids]
    result.skipped += [steps[k].change for k in waiting]
    result.seconds = time.monotonic() - started
    if result.failed:
        raise _apply_failed(result)
    if verify:
        _verify(session, steps, result, parallelism)
    return result


def _launch_ready(runner: _Runner, steps, waiting: list, finished: set, blocked: set, active: set) -> None:
    for key in list(waiting):
        step = steps[key]
        if step.deps & blocked:
            waiting.remove(key)
            blocked.add(key)  # something it needs failed: leave it for the re-run
            continue
        if step.deps <= finished:
            if step.action == "wait":
                waiting.remove(key)
                active.add(key)
                runner.submit(step, lambda st: runner.wait_provisioned(st, st.change.live), waiting=True)
                continue
            if not runner.can_start():
                continue  # writes wait for a slot; a later "wait" step may still start
            waiting.remove(key)
            active.add(key)
            runner.progress("start", step.change, "")
            runner.submit(step, runner.start)


def _handle(runner: _Runner, step: _Step, what: str, outcome, steps, result: ApplyResult,
            finished: set, blocked: set, active: set) -> None:
    kind, value = outcome
    if what == "worker":
        runner.in_flight -= 1
    if kind == "poll":
        poller = value
        fired: list = []

        def on_done(_polling_method):
            if not fired:  # azure-core may call a callback twice around completion
                fired.append(1)
                runner.events.put((step, "polled", ("polled", poller)))

        runner.progress("waiting", step.change, "long-running operation")
        poller.add_done_callback(on_done)
        return
    if kind == "polled":
        try:
            body = value.result()
        except Exception as error:
            kind, value = "error", _as_azure_error(error, step)
        else:
            if _succeeded(body):
                kind, value = "done", body
            else:
                runner.submit(step, runner.wait_provisioned, body, waiting=True)
                return
    if kind == "error":
        active.discard(step.key)
        blocked.add(step.key)
        result.failed.append((step.change, value))
        runner.progress("failed", step.change, value.message)
        return
    active.discard(step.key)
    finished.add(step.key)
    if step.action != "wait":
        result.done.append(step.change)
        runner.progress("done", step.change, "")
    result.bodies[step.key] = None if step.action == DELETE else value


def _apply_failed(result: ApplyResult) -> ApplyError:
    lines = [f"{c.action} {c.label}: {e.format()}" for c, e in result.failed]
    text = f"apply stopped: {len(result.failed)} step(s) failed"
    text += "".join("\n  - " + ln.replace("\n", "\n    ") for ln in lines)
    if result.done:
        text += f"\n{len(result.done)} step(s) finished and stay in place"
    if result.skipped:
        text += f"; {len(result.skipped)} not started: " + ", ".join(c.label for c in result.skipped)
    error = ApplyError(text, hint="fix the cause, then run the same command again: it completes what is missing")
    error.result = result
    return error


# ------------------------------------------------------------- verify


def _verify(session: Session, steps: dict, result: ApplyResult, parallelism: int) -> None:
    """Check that what was written matches, from the body Azure answered it with: the LRO's final GET for a
    table, the PUT's response (the resource as stored) for the others; re-read only what was answered without
    one (e.g. 409 RoleAssignmentExists: the same triple under another name)."""
    to_read = [s for s in steps.values() if s.action not in (DELETE, "wait") and s.change.kind not in (Kind.TABLE, Kind.MIGRATION)
               and not result.bodies.get(s.key)]

    def read(step: _Step):
        if step.change.kind == Kind.ROLE_ASSIGNMENT:
            return step, read_assignment(session, step.change.resource)
        return step, get_resource(session, step.change.kind, step.change.id)

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        reread = list(pool.map(read, to_read))
    mismatches = []
    for step, body in reread:
        result.bodies[step.key] = body
    for step in steps.values():
        if step.action in (DELETE, "wait"):
            continue
        if step.change.kind == Kind.MIGRATION:
            continue  # the table's own step (or the next plan) shows what the table became
        body = result.bodies.get(step.key)
        if body is None:
            mismatches.append(f"{step.change.kind} {step.change.name}: not found after apply")
            continue
        diffs = DIFFERS[step.change.kind](step.change.resource.body, body)
        if diffs:
            mismatches.append(f"{step.change.kind} {step.change.name}: " + ", ".join(d.path for d in diffs))
    if mismatches:
        raise ApplyError("after apply, Azure does not hold what was sent:\n  " + "\n  ".join(mismatches),
                         hint="the service changed the request; run `provision plan` to see the difference")
