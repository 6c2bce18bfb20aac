"""Cloud profiles, credentials and the SDK client factory.

A ``CloudProfile`` names the ARM endpoint, the authority host, the monitor
(ingestion) audience and the Graph endpoint of one cloud. ``connect`` turns a
profile into a ``Session``: a credential plus lazily built SDK clients that all
share the same TLS trust, polling and retry settings.

Real clouds use ``DefaultAzureCredential`` (environment, workload identity,
Azure CLI, managed identity). ``local`` points at the project's emulator: a
running ``provision emulator serve`` when ``PROVISION_LOCAL_URL`` is set (with
the credentials and CA it printed), otherwise one started in process for the
duration of the command, its state under ``.provision/local``. For a non-Microsoft
authority, ``disable_instance_discovery=True`` and an explicit CA are mandatory
(sdk-notes.md §4.4 items 2-3, §5.1).

The Azure SDKs are imported inside functions only, so ``provision --help`` and
``validate`` never load them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

from provision.errors import AzureError, ProvisionError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from provision.emulator import Emulator

DEFAULT_LOCAL_STATE = Path(".provision") / "local"

# ARM's token bucket for writes holds 200 requests per subscription and principal, refilled at 10 per second
# (learn.microsoft.com, azure-resource-manager/management/request-limits-and-throttling, "Regional throttling and
# token bucket algorithm": subscription writes 200 / 10 per second, reads 250 / 25): a burst of 200 writes goes
# through at once, so by default apply lets that many into flight. The cap keeps the threads and connections of
# one process reasonable on a small machine (each request in flight is a thread and a kept-alive connection);
# ARM's 429s narrow it further (Throttle).
ARM_WRITE_BURST = 200
MAX_PARALLELISM = 128
DEFAULT_PARALLELISM = min(ARM_WRITE_BURST, MAX_PARALLELISM)

# Connections kept open per host by the ARM clients' one requests session: the cap on requests in flight, so no
# connection is closed after use and reopened with a new TLS handshake (requests keeps 10 by default).
MAX_CONNECTIONS = MAX_PARALLELISM

# api-versions of the reads live.py sends through the SDK pipeline itself: the versions the SDK operations they
# replace send (azure-mgmt-loganalytics 14: 2025-07-01; azure-mgmt-monitor 7 data collection rules and endpoints:
# 2023-03-11; azure-mgmt-authorization 4 role assignments, its default profile: 2022-04-01), so the bodies read are
# the ones the SDK's own get returned (tests/test_live_lists.py compares them).
ARM_API_VERSIONS = {"table": "2025-07-01", "workspace": "2025-07-01", "rule": "2023-03-11", "endpoint": "2023-03-11",
                    "role_assignment": "2022-04-01",
                    # azure-mgmt-monitor 7 has no private link scope operations: the newest version of
                    # privateLinkScopes_API.json (2023-06-01-preview; no stable one exists)
                    "private_link_scope": "2023-06-01-preview", "scoped_resource": "2023-06-01-preview"}


class Throttle:
    """What ARM's 429s say about how many requests may be in flight, shared by every ARM client of a session.

    ARM throttles with a token bucket per subscription, principal and operation type (writes: 200 tokens,
    refilled at 10 per second; reads: 250 and 25; learn.microsoft.com, azure-resource-manager/management/
    request-limits-and-throttling, "Regional throttling and token bucket algorithm") and answers 429 with
    Retry-After once a bucket is empty. azure-core's RetryPolicy retries that one request after Retry-After; this
    also narrows the window of requests apply lets into flight: halved on a 429 (once per Retry-After wait, so a
    burst of 429s is one signal), grown back by about one request per window of successes (additive increase,
    multiplicative decrease), and no new request starts before the Retry-After has passed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: float | None = None  # None: not throttled, the caller's bound applies
        self._upper = MAX_CONNECTIONS
        self._cut_until = 0.0
        self.not_before = 0.0  # monotonic time before which no new request should start
        self.throttled = 0  # 429s seen

    def window(self, upper: int) -> int:
        """How many requests may be in flight now, at most ``upper``."""
        with self._lock:
            self._upper = upper
            if self._window is None:
                return upper
            return max(1, min(upper, int(self._window)))

    def wait_seconds(self) -> float:
        import time

        return max(0.0, self.not_before - time.monotonic())

    def observe(self, status: int, retry_after: float | None) -> None:
        import time

        if status != 429 and self._window is None:
            return  # the common case: no lock, nothing to do
        with self._lock:
            now = time.monotonic()
            if status == 429:
                self.throttled += 1
                wait = retry_after if retry_after is not None else 1.0
                self.not_before = max(self.not_before, now + wait)
                if now >= self._cut_until:  # one cut per Retry-After wait
                    self._window = max(1.0, (self._window or float(self._upper)) / 2)
                    self._cut_until = now + wait
            elif status < 400 and self._window is not None:
                self._window += 1.0 / self._window
                if self._window >= self._upper:
                    self._window = None

    def policy(self):
        """An azure-core pipeline policy (placed after RetryPolicy, so it sees every attempt) feeding ``observe``."""
        from azure.core.pipeline.policies import SansIOHTTPPolicy
        from azure.core.polling.base_polling import get_retry_after

        throttle = self

        class ObserveThrottling(SansIOHTTPPolicy):
            def on_response(self, request, response):
                http = response.http_response
                retry_after = get_retry_after(response) if http.status_code == 429 else None
                throttle.observe(http.status_code, retry_after)

        return ObserveThrottling()


@dataclass(frozen=True)
class CloudProfile:
    name: str
    arm: str  # resource manager endpoint (also the ARM token audience)
    authority: str  # Entra ID authority host
    monitor_audience: str  # Logs Ingestion token audience (azure-contract.md §7)
    graph: str  # Microsoft Graph endpoint (also its token audience)

    @property
    def arm_scope(self) -> str:
        return self.arm.rstrip("/") + "/.default"

    @property
    def monitor_scope(self) -> str:
        return self.monitor_audience.rstrip("/") + "/.default"

    @property
    def graph_scope(self) -> str:
        return self.graph.rstrip("/") + "/.default"


CLOUDS = {
    "public": CloudProfile("public", "https://management.azure.com", "https://login.microsoftonline.com",
                           "https://monitor.azure.com", "https://graph.microsoft.com"),
    "usgov": CloudProfile("usgov", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us",
                          "https://monitor.azure.us", "https://graph.microsoft.us"),
    "china": CloudProfile("china", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
                          "https://monitor.azure.cn", "https://microsoftgraph.chinacloudapi.cn"),
    # local: the emulator serves ARM, Entra ID and Graph on one URL, filled in by connect();
    # tokens keep the public-cloud audiences, which the emulator checks (sdk-notes.md §4.4 item 4).
    "local": CloudProfile("local", "https://management.azure.com", "", "https://monitor.azure.com",
                          "https://graph.microsoft.com"),
}


def cloud_name(name: str | None = None, environ=None) -> str:
    """The cloud to use: ``name``, else ``$PROVISION_CLOUD``, else ``public``."""
    environ = os.environ if environ is None else environ
    return (name or environ.get("PROVISION_CLOUD") or "public").strip().lower()


def get_cloud(name: str | None = None) -> CloudProfile:
    key = cloud_name(name)
    try:
        return CLOUDS[key]
    except KeyError:
        raise ProvisionError(f"unknown cloud '{name}'", hint=f"use one of: {', '.join(CLOUDS)}") from None


@dataclass
class Session:
    """A credential and the SDK clients for one cloud (and the local emulator, when started here)."""

    cloud: CloudProfile
    credential: TokenCredential
    base_url: str | None = None  # ARM base URL when not the profile's (local)
    graph_url: str | None = None
    verify: str | bool = True  # CA bundle path for the emulator
    polling_interval: float | None = None
    retry: dict = field(default_factory=dict)
    emulator: Emulator | None = None  # the Emulator started by connect(), stopped by close()
    environ: dict = field(default_factory=dict)  # variables scenarios may use (PROVISION_LOCAL_*)
    throttle: Throttle = field(default_factory=Throttle)
    _clients: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- clients -----------------------------------------------------------

    def _transport_kwargs(self) -> dict:
        """Retry settings and TLS trust, shared by every SDK client."""
        kwargs = dict(self.retry)
        if self.verify is not True:
            kwargs["connection_verify"] = self.verify
        return kwargs

    def _arm_transport(self):
        """One requests session for every ARM client: a connection pool as large as apply's cap on requests in
        flight (requests' default of 10 closes the connections beyond it after each call, so every later call
        pays a new TLS handshake), and the environment (proxies, CA bundle) read once here instead of on every
        call (requests' ``trust_env`` costs ~0.2 ms per call in ``merge_environment_settings``)."""
        transport = self._clients.get("arm-transport")
        if transport is None:
            import requests
            from azure.core.pipeline.transport import RequestsTransport
            from azure.core.pipeline.transport._requests_basic import BiggerBlockSizeHTTPAdapter
            from urllib3.util.retry import Retry

            session = requests.Session()
            session.trust_env = False
            session.proxies = requests.utils.get_environ_proxies(self.base_url or self.cloud.arm)
            # azure-core's RetryPolicy retries; urllib3 must not (what RequestsTransport._init_session mounts)
            adapter = BiggerBlockSizeHTTPAdapter(max_retries=Retry(total=False, redirect=False, raise_on_status=False),
                                                 pool_maxsize=MAX_CONNECTIONS)
            for prefix in ("http://", "https://"):
                session.mount(prefix, adapter)
            verify = self.verify
            if verify is True:  # what trust_env would have read on each call
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            transport = RequestsTransport(session=session, session_owner=False, connection_verify=verify)
            self._clients["arm-transport"] = transport
            self._clients["arm-session"] = session
        return transport

    def _client_kwargs(self) -> dict:
        kwargs = self._transport_kwargs()
        kwargs["transport"] = self._arm_transport()
        kwargs["per_retry_policies"] = [self.throttle.policy()]
        if self.cloud.name != "public" or self.base_url:
            kwargs["base_url"] = self.base_url or self.cloud.arm
            kwargs["credential_scopes"] = [self.cloud.arm_scope]
        if self.polling_interval is not None:
            kwargs["polling_interval"] = self.polling_interval
        return kwargs

    def _client(self, kind: str, subscription: str):
        key = (kind, subscription.lower())
        with self._lock:
            if key not in self._clients:
                self._clients[key] = _CLIENT_FACTORIES[kind](self.credential, subscription, **self._client_kwargs())
            return self._clients[key]

    def monitor(self, subscription: str):
        return self._client("monitor", subscription)

    def loganalytics(self, subscription: str):
        return self._client("loganalytics", subscription)

    def authorization(self, subscription: str):
        return self._client("authorization", subscription)

    def arm_get(self, subscription: str, path: str, api_version: str, params: dict | None = None) -> dict:
        """GET ``path`` (or a list's absolute ``nextLink``): see ``arm_request``."""
        return self.arm_request("GET", subscription, path, api_version, params)

    def arm_request(self, method: str, subscription: str, path: str, api_version: str, params: dict | None = None,
                    body: bytes | None = None, accepted: tuple[int, ...] = ()) -> dict:
        """``method`` ``path`` through an SDK client's pipeline (its retry, token and ARM policies), returning the
        JSON as the service sent it: no SDK model is built and thrown away (the generated operations deserialise
        into one even when ``cls=`` returns the raw body, issue 13). ``body``: JSON bytes, sent verbatim.

        Success is 200, or 201 for a PUT (ARM's create answer), or a status in ``accepted`` (e.g. 202 or 204 where an
        operation's spec allows them; such an answer may have no body: ``{}``). Errors are raised as the generated operations
        raise them: 401/404/409 as azure-core's mapped types, others as ``HttpResponseError`` in ARM's error
        format (so ``error_code`` and ``azure_error`` read them alike)."""
        import json

        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError, ResourceNotFoundError, map_error
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        query = None if "?" in path else {"api-version": api_version, **(params or {})}
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HttpRequest(method, path, params=query, headers=headers, content=body)
        response = self.loganalytics(subscription).send_request(request)
        if response.status_code not in ((200, 201) if method == "PUT" else (200,)) + accepted:
            map_error(status_code=response.status_code, response=response,
                      error_map={401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError})
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        answer = response.content  # bytes: json detects UTF-8/16/32 itself, without requests' charset guessing
        try:
            return json.loads(answer) if answer else {}
        except ValueError:
            return {}

    def warm_up(self) -> None:
        """Acquire the ARM token once before fanning out, so parallel first calls share it."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            self.credential.get_token(self.cloud.arm_scope)
        except ClientAuthenticationError as error:
            transport = transport_problem(str(error), self.cloud.name == "local")
            if transport:
                raise AzureError(f"signing in to {self.cloud.name} failed: {transport[0]}", hint=transport[1]) from None
            raise AzureError(f"signing in to {self.cloud.name} failed: {str(error).splitlines()[0]}",
                             hint="sign in (az login, workload identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/"
                                  "AZURE_CLIENT_SECRET); on --cloud local check the emulator's variables") from None

    def ingestion(self, endpoint: str, credential=None):
        """A ``LogsIngestionClient`` for ``endpoint`` (as ``credential``, default: the deploying identity)."""
        from azure.monitor.ingestion import LogsIngestionClient

        kwargs = {**self._transport_kwargs(), "credential_scopes": [self.cloud.monitor_scope]}
        return LogsIngestionClient(endpoint=endpoint, credential=credential or self.credential, **kwargs)

    def graph_get(self, path: str) -> dict | None:
        """GET ``{graph}/v1.0/{path}`` with a Graph token; None on 404. No msgraph SDK needed."""
        from azure.core import PipelineClient
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.core.pipeline import policies
        from azure.core.rest import HttpRequest

        with self._lock:
            client = self._clients.get("graph")
            if client is None:
                config_policies = [
                    policies.HeadersPolicy(),
                    policies.RetryPolicy(**{k: v for k, v in self.retry.items() if k.startswith("retry_")}),
                    policies.BearerTokenCredentialPolicy(self.credential, self.cloud.graph_scope),
                ]
                client = PipelineClient(base_url=self.graph_url or self.cloud.graph, policies=config_policies,
                                        connection_verify=self.verify)
                self._clients["graph"] = client
        url = f"{(self.graph_url or self.cloud.graph).rstrip('/')}/v1.0/{path}"
        response = client.send_request(HttpRequest("GET", url), connection_verify=self.verify)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            try:
                response.raise_for_status()
            except HttpResponseError as error:
                raise azure_error(error, f"reading {path} from Microsoft Graph") from None
        try:
            return response.json()
        except (ValueError, ResourceNotFoundError):
            return None

    def close(self) -> None:
        for client in list(self._clients.values()):
            closer = getattr(client, "close", None)
            if closer:
                with contextlib.suppress(Exception):  # closing is best effort
                    closer()
        self._clients.clear()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _monitor(credential, subscription, **kwargs):
    from azure.mgmt.monitor import MonitorManagementClient

    kwargs.pop("polling_interval", None)  # monitor has no long-running operation we use
    return MonitorManagementClient(credential, subscription, **kwargs)


def _loganalytics(credential, subscription, **kwargs):
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient

    return LogAnalyticsManagementClient(credential, subscription, **kwargs)


def _authorization(credential, subscription, **kwargs):
    from azure.mgmt.authorization import AuthorizationManagementClient

    kwargs.pop("polling_interval", None)
    return AuthorizationManagementClient(credential, subscription, **kwargs)


_CLIENT_FACTORIES = {"monitor": _monitor, "loganalytics": _loganalytics, "authorization": _authorization}


# ---------------------------------------------------------------- connect


def connect(cloud: str | CloudProfile | None = None, state_dir=None, *, environ=None, emulator=None,
            identity: tuple[str, str] | None = None, polling_interval: float | None = None,
            retry_total: int | None = None, retry_backoff_factor: float | None = None) -> Session:
    """A ``Session`` for ``cloud``. For ``local``: ``emulator`` if given, else ``$PROVISION_LOCAL_URL``,
    else an emulator started here with its state in ``state_dir`` (default ``.provision/local``).
    ``identity`` (client id, secret) signs in as another emulator identity (tests: the sender, 'nobody')."""
    environ = dict(os.environ if environ is None else environ)
    if isinstance(cloud, CloudProfile):
        profile = cloud
    elif not cloud and environ.get("PROVISION_CLOUD") and cloud_name(None, environ) not in CLOUDS:
        raise ProvisionError(f"unknown cloud '{environ['PROVISION_CLOUD']}' (from $PROVISION_CLOUD)",
                             hint=f"set PROVISION_CLOUD (or --cloud) to one of: {', '.join(CLOUDS)}")
    else:
        profile = get_cloud(cloud_name(cloud, environ))
    retry: dict[str, float] = {}
    if retry_total is not None:
        retry["retry_total"] = retry_total
    if retry_backoff_factor is not None:
        retry["retry_backoff_factor"] = retry_backoff_factor
    if profile.name != "local":
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(authority=profile.authority)
        # Status polls back off up to 15 s unless Azure's Retry-After says otherwise (apply._polling).
        return Session(profile, credential, polling_interval=15.0 if polling_interval is None else polling_interval,
                       retry=retry, environ={})
    started = None
    if emulator is not None:
        local_env = dict(emulator.env())
    elif environ.get("PROVISION_LOCAL_URL"):
        local_env = environ
    elif (serving := _serving(Path(state_dir or DEFAULT_LOCAL_STATE))) is not None:
        local_env = serving  # a `provision emulator serve` on this state dir: use it, never a second writer
    else:
        from provision.emulator import Emulator, StateDirError

        debug = environ.get("PROVISION_DEBUG", "") not in ("", "0")  # then the request log, as `serve --log -` writes it
        started = emulator = Emulator(state_dir=Path(state_dir or DEFAULT_LOCAL_STATE),
                                      request_log=sys.stderr if debug else None)
        try:
            emulator.start()
        except StateDirError as error:
            raise ProvisionError(str(error), hint="pass --state DIR with a directory you can write, or run `provision "
                                 "emulator serve` and export the variables it prints (PROVISION_LOCAL_URL, ...)") from None
        except OSError as error:
            raise ProvisionError(f"cannot start the local emulator on 127.0.0.1: {error.strerror or error}",
                                 hint="run `provision emulator serve --port N` and export the variables it prints") from None
        local_env = emulator.env()
    if identity is not None:
        local_env = {**local_env, "AZURE_CLIENT_ID": identity[0], "AZURE_CLIENT_SECRET": identity[1]}
    try:
        return _local_session(profile, local_env, polling_interval, retry, started)
    except BaseException:
        if started is not None:
            started.stop()
        raise


def _serving(state_dir: Path) -> dict[str, str] | None:
    """The client variables of the emulator serving ``state_dir`` (its lock file says where), or None when none does."""
    from provision.emulator import client_env, running_emulator

    running = running_emulator(state_dir)
    if running is None:
        return None
    if not running.get("url"):
        raise ProvisionError(f"an emulator (pid {running.get('pid')}) holds the state directory {state_dir} but has not said "
                             "where it listens", hint="wait for it to start, or stop it and run the command again")
    return client_env(running["url"], running["ca"])


def _local_session(profile, env: dict, polling_interval, retry, started) -> Session:
    from azure.identity import ClientSecretCredential

    url = env.get("PROVISION_LOCAL_URL") or env.get("AZURE_AUTHORITY_HOST")
    missing = [k for k in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET") if not env.get(k)]
    if not url or missing:
        raise ProvisionError(
            "the local cloud needs the variables `provision emulator serve` prints: "
            + ", ".join(["PROVISION_LOCAL_URL"] * (not url) + missing) + " missing",
            hint="export the variables `provision emulator serve` prints (or source its --env-file), or unset "
                 "PROVISION_LOCAL_URL to let the command start the emulator itself")
    ca: str | bool = env.get("PROVISION_LOCAL_CA") or env.get("REQUESTS_CA_BUNDLE") or True
    if isinstance(ca, str) and not Path(ca).is_file():
        raise ProvisionError(f"the emulator's CA file {ca} (REQUESTS_CA_BUNDLE) does not exist",
                             hint="re-export the variables `provision emulator serve` printed (source its --env-file), "
                                  "or unset PROVISION_LOCAL_URL to let the command start the emulator itself")
    authority = env.get("AZURE_AUTHORITY_HOST") or url
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=authority, disable_instance_discovery=True, connection_verify=ca,
                                        **retry)
    if polling_interval is None:
        polling_interval = 0.5  # the longest wait between status polls (apply backs off up to it)
    local = {k: v for k, v in env.items() if k.startswith("PROVISION_LOCAL_")}
    return Session(profile, credential, base_url=url, graph_url=env.get("PROVISION_LOCAL_GRAPH_URL") or url,
                   verify=ca, polling_interval=polling_interval, retry=retry, emulator=started, environ=local)


def credential_for(session: Session, client_id: str, secret: str, tenant: str | None = None):
    """Another identity on the same cloud (e.g. the sender, for `send` and tests)."""
    from azure.identity import ClientSecretCredential

    if session.cloud.name != "local":
        raise ProvisionError("credential_for() is only for the local cloud; use DefaultAzureCredential elsewhere")
    tenant = tenant or getattr(session.credential, "_tenant_id", None)
    if not tenant:
        raise ProvisionError("credential_for() needs the tenant: the session's credential does not name one")
    return ClientSecretCredential(tenant, client_id, secret, authority=session.base_url,
                                  disable_instance_discovery=True, connection_verify=session.verify)


# ---------------------------------------------------------------- errors


_LOCAL_RESTART = ("is `provision emulator serve` still running? Start it again and export the variables it prints "
                  "(source its --env-file), or unset PROVISION_LOCAL_URL to let the command start the emulator itself")


def transport_problem(text: str, local: bool | None = None) -> tuple[str, str] | None:
    """(what, hint) for connection and TLS failures, which the SDKs report as long generic messages.
    ``local`` None: the hint covers both the emulator and a real cloud."""
    import re

    host = re.search(r"host='([^']+)', port=(\d+)", text)
    where = f"https://{host[1]}:{host[2]}" if host else "the service"
    bundle = re.search(r"invalid path: (\S+)", text)
    if bundle:
        local_hint = "re-export the variables `provision emulator serve` printed: REQUESTS_CA_BUNDLE is its state dir's ca.pem"
        cloud_hint = "fix or unset REQUESTS_CA_BUNDLE"
        what = f"the CA bundle {bundle[1]} (REQUESTS_CA_BUNDLE) does not exist"
    elif "CERTIFICATE_VERIFY_FAILED" in text:
        local_hint = ("REQUESTS_CA_BUNDLE must be the ca.pem of the running emulator's state dir (a CA from another "
                      "state dir does not match): re-export the variables `provision emulator serve` printed")
        cloud_hint = "behind a TLS-inspecting proxy, set REQUESTS_CA_BUNDLE to a bundle holding its CA"
        what = f"the TLS certificate of {where} is not trusted (CERTIFICATE_VERIFY_FAILED)"
    elif re.search(r"Connection refused|Failed to establish a new connection|Name or service not known", text):
        local_hint, cloud_hint = _LOCAL_RESTART, "check the network, DNS, proxy (HTTPS_PROXY) and firewall"
        what = f"cannot connect to {where} ({'connection refused' if 'refused' in text else 'no connection'})"
    else:
        return None
    if local is None:
        return what, f"on --cloud local: {local_hint}; on Azure: {cloud_hint}"
    return what, local_hint if local else cloud_hint


def azure_error(error, doing: str) -> AzureError:
    """One clear paragraph from an SDK exception: what was being done, the service's code and message."""
    if type(error).__name__ in ("ServiceRequestError", "ServiceResponseError"):
        transport = transport_problem(str(error))
        if transport:
            raised = AzureError(f"{doing} failed: {transport[0]}", hint=transport[1])
            raised.status, raised.code = None, ""
            return raised
    code, message = _error_parts(error)
    status = getattr(getattr(error, "response", None), "status_code", None) or getattr(error, "status_code", None)
    text = f"{doing} failed"
    if status:
        text += f" (HTTP {status}"
        text += f", {code})" if code else ")"
    text += f": {message}" if message else ""
    text += request_ids(error)
    hint = ""
    if status == 403 or code in ("AuthorizationFailed", "Authorization_RequestDenied"):
        hint = ("the deploying identity lacks permission: it needs Contributor (or Log Analytics Contributor + "
                "Monitoring Contributor) on the resource group and User Access Administrator (or Owner) to assign "
                "roles on the DCR")
    elif status == 401 or type(error).__name__ == "ClientAuthenticationError":
        hint = "sign in (az login, workload identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)"
    raised = AzureError(text, hint=hint)
    raised.status, raised.code = status, code  # for callers that refine the hint (e.g. Graph 403)
    return raised


def request_ids(error) -> str:
    """``x-ms-request-id``, ``x-ms-correlation-request-id`` and the time of a failed call, on a line of their own:
    what Azure support asks for first (every ARM response carries both ids, azure-contract.md §1; the time is the
    response's Date header, else now, in UTC)."""
    from datetime import UTC, datetime

    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        found = [(name, headers.get(name)) for name in ("x-ms-request-id", "x-ms-correlation-request-id")]
        when = headers.get("Date")
    except Exception:  # a response object without a usable headers mapping
        return ""
    ids = [f"{name} {value}" for name, value in found if value]
    if response is None:
        return ""
    moment = when or datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return "\n  " + ", ".join([*ids, f"at {moment}"]) + (" (quote these to Azure support)" if ids else "")


def _error_parts(error) -> tuple[str, str]:
    odata = getattr(error, "error", None)
    code = getattr(odata, "code", None) or ""
    message = getattr(odata, "message", None) or ""
    details = getattr(odata, "details", None) or []
    if details:
        message += "".join(f"\n  - {getattr(d, 'code', '')}: {getattr(d, 'message', '')}"
                           + (f" (target {d.target})" if getattr(d, "target", None) else "") for d in details)
    if not message:
        response = getattr(error, "response", None)
        try:
            body = response.json() if response is not None else {}
            err = body.get("error") or {}
            code = code or err.get("code", "")
            message = err.get("message", "") or str(error)
        except Exception:
            message = str(getattr(error, "message", "") or error).splitlines()[0] if str(error) else ""
    return code, message


def error_code(error) -> str:
    return _error_parts(error)[0]
