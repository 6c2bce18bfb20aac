"""The HTTPS server and the ``Emulator`` object: start/stop, knobs, call log, env for clients.

Stdlib only: ``ThreadingHTTPServer`` + ``ssl`` (TLS 1.2 minimum), bound to
127.0.0.1 and nothing else. Every response carries ``Content-Length`` (requests
keeps connections alive, sdk-notes.md §4.1) and ``x-ms-request-id``. A request is judged by its headers
before its body is read (framing, a repeated Authorization header, the token, the declared length; see
framing.py and docs/emulator.md "HTTP framing, tokens and Graph queries"), and the body is read within the
route's limit.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import struct
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qsl, urlsplit

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]  # the lock is advisory; without flock it is skipped

from provision.emulator import errors, framing, ingest, routes, seed, tls
from provision.emulator.backend import Backend, Request, Response
from provision.emulator.core import TRANSFORM_SECONDS
from provision.emulator.knobs import Fault, FaultInjector, Latency
from provision.emulator.requestlog import RequestLog
from provision.emulator.store import Store

LOOPBACK = "127.0.0.1"
DB_FILE = "state.sqlite3"
MAX_CALLS = 200_000
LINGER_SECONDS = 2.0  # how long an unread body is drained after an early answer (a thread is held that long at most)
LINGER_IDLE = 0.25  # the drain also ends when the client sends nothing for this long (loopback only: it has read the answer)
LINGER_BYTES = 16 * 1024 * 1024  # and at most this much of it; then the connection is closed regardless


class Call(tuple):
    """One answered request: a ``(method, path, status)`` tuple that also carries ``operation`` (the route's name)."""

    operation: str

    def __new__(cls, method: str, path: str, status: int, operation: str):
        call = super().__new__(cls, (method, path, status))
        call.operation = operation
        return call

    @property
    def method(self) -> str:
        return self[0]

    @property
    def path(self) -> str:
        return self[1]

    @property
    def status(self) -> int:
        return self[2]

    def __repr__(self):
        return f"Call({self.method} {self.path} -> {self.status}, {self.operation})"


class StateDirError(Exception):
    """The state directory cannot be used: not a directory, not writable, or not an emulator's SQLite file."""


class StateDirInUse(StateDirError):
    """Another emulator (this process or another) serves the state directory: two writers would corrupt each other's
    view of it (issue 11). ``running`` is what that emulator wrote in the lock file (pid, url, ca)."""

    def __init__(self, message: str, running: dict):
        super().__init__(message)
        self.running = running


LOCK_FILE = "emulator.lock"


def client_env(url: str, ca_path: Path | str) -> dict[str, str]:
    """Everything a client needs to reach the emulator at ``url`` (what ``serve`` prints; ``Emulator.env``)."""
    return {
        "PROVISION_LOCAL_URL": url,
        "AZURE_AUTHORITY_HOST": url,
        "AZURE_TENANT_ID": seed.TENANT_ID,
        "AZURE_CLIENT_ID": seed.DEPLOYER_APP_ID,
        "AZURE_CLIENT_SECRET": seed.DEPLOYER_SECRET,
        "AZURE_SUBSCRIPTION_ID": seed.SUBSCRIPTION_ID,
        "PROVISION_LOCAL_WORKSPACE_ID": seed.WORKSPACE_ID,
        "PROVISION_LOCAL_SENDER_CLIENT_ID": seed.SENDER_APP_ID,
        "PROVISION_LOCAL_SENDER_CLIENT_SECRET": seed.SENDER_SECRET,
        "PROVISION_LOCAL_SENDER_APP_ID": seed.SENDER_APP_ID,
        "REQUESTS_CA_BUNDLE": str(ca_path),
    }


def _try_lock(fd: int, exclusive: bool) -> bool:
    """Take an advisory lock on ``fd`` without waiting (flock: released when the process dies, even by SIGKILL)."""
    if fcntl is None:  # no flock (Windows): the state dir is not guarded there
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def running_emulator(state_dir: Path | str, wait: float = 5.0) -> dict | None:
    """What the emulator serving ``state_dir`` wrote in its lock file ({"pid", "url", "ca"}), or None when none does.
    A starting emulator holds the lock before it knows its port: wait up to ``wait`` seconds for the url."""
    path = Path(state_dir) / LOCK_FILE
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # no lock file (or no such directory): nobody serves it; start() says what is wrong with it
            return None
        try:
            if _try_lock(fd, exclusive=False):
                return None  # nobody holds it (a lock file left by a stopped or killed emulator)
            try:
                info = json.loads(os.read(fd, 65536) or b"{}")
            except ValueError:
                info = {}
        finally:
            os.close(fd)
        if isinstance(info, dict) and info.get("url"):
            return info
        if time.monotonic() >= deadline:
            return {"pid": info.get("pid") if isinstance(info, dict) else None, "url": None, "ca": None}
        time.sleep(0.05)


def _framing_error(problem: framing.FramingError) -> errors.ServiceError:
    if problem.status == 501:
        return errors.TransferCodingNotImplemented(problem.message)
    return errors.BadRequest(problem.message)


def _too_large(group: str, limit: int) -> errors.ServiceError:
    """413 in the words of the route's service: ingestion's documented text, else the emulator's."""
    if group == "ingest":
        return errors.ContentLengthLimitExceeded(ingest.TOO_LARGE)
    return errors.RequestEntityTooLarge(f"The request content is over the {limit // (1024 * 1024)} MB this endpoint "
                                        "accepts.")


class _Reset(Exception):
    """Internal: drop the connection with a TCP reset (fault kind 'reset')."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, context, emulator):
        self.ssl_context = context
        self.emulator = emulator
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        """A client that fails the TLS handshake or drops mid-request is not the emulator's error: stay quiet."""

    def get_request(self):
        sock, address = self.socket.accept()
        # Handshake in the request thread, not in the accept loop.
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's, written in one piece by _send
    protocol_version = "HTTP/1.1"
    server_version = "provision-local-azure"
    sys_version = ""
    timeout = 60

    def setup(self):
        super().setup()
        try:
            # One segment per response and no Nagle delay (else delayed ACKs add ~40 ms per call).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            self.connection.do_handshake()
        except (OSError, ValueError):
            self.close_connection = True
            self.rfile = self.wfile = None

    def handle(self):
        if self.rfile is None:
            return
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def log_message(self, format, *args):  # the call log replaces stderr logging
        pass

    def _framing(self) -> framing.Framing:
        """The body's framing from the headers alone (400/501 when they cannot delimit it)."""
        try:
            return framing.body_framing(self.headers)
        except framing.FramingError as problem:
            raise _framing_error(problem) from None

    def _refuse_repeated_authorization(self) -> None:
        """With two Authorization headers, which one a server honours is a guess (RFC 9110 §5.3: a field that
        is not a list may not be sent twice), so neither is: 400."""
        authorizations = self.headers.get_all("Authorization") or []
        if len(authorizations) > 1:
            raise errors.BadRequest(f"The request has {len(authorizations)} 'Authorization' headers; send exactly one "
                                    "(RFC 9110 §5.3).")

    def _read_body(self, declared: framing.Framing, group: str) -> bytes:
        limit = routes.body_limit(group)
        try:
            return framing.read_body(self.rfile, declared, limit)
        except framing.FramingError as problem:
            raise _framing_error(problem) from None
        except framing.BodyTooLarge:
            raise _too_large(group, limit) from None

    def _dispatch(self):
        emulator: Emulator = self.server.emulator
        split = urlsplit(self.path)
        path = "/" + "/".join(p for p in split.path.split("/") if p)  # ARM collapses '//' (sdk-notes.md §2.3)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        route, params, known = routes.match(self.command, path)
        operation = route.operation if route else "Unknown"
        group = route.group if route else "arm"
        request = Request(self.command, path, query, headers, b"")
        declared: framing.Framing | None = None
        error_code = ""
        unread = True  # until the body is read, an answer leaves it in the stream: the connection is then closed
        try:
            # Everything that can refuse a request without its body does so before reading it: framing, the
            # Authorization header, the token (401 first, so an anonymous client cannot make the server hold its
            # upload), the declared length.
            declared = self._framing()
            self._refuse_repeated_authorization()
            audience, data_plane = routes.token_audience(route)
            if audience:
                emulator.backend.authenticate(request, audience, data_plane=data_plane)
            if declared.length > routes.body_limit(group):
                raise _too_large(group, routes.body_limit(group))
            request.body = self._read_body(declared, group)
            unread = False
            lose_response = emulator._before(operation, group, f"{self.command} {path}")
            if route is None:
                if known:
                    raise errors.MethodNotAllowed(f"The requested resource does not support http method '{self.command}'.")
                raise errors.NotFound(f"No HTTP resource was found that matches the request URI '{path}'.")
            # ARM writes take the backend lock inside; ingestion runs concurrently (the store locks itself).
            response = getattr(emulator.backend, route.operation)(request, **params)
            if lose_response:  # carried out, then the answer is lost on the way back
                raise _Reset()
        except _Reset:
            emulator._log(self.command, path, 0, operation)
            emulator.request_log.write(self.command, self.path, 0, started, request, "connection-reset")
            self._reset()
            return
        except errors.TokenError as error:
            response = Response(error.status, error.body(request_id))
            error_code = f"AADSTS{error.aadsts}"
        except errors.ServiceError as error:
            error_code = error.code
            extra = {"x-ms-error-code": error.code} if group == "ingest" else {}
            body = error.body()
            if group == "graph":  # Graph's envelope adds innerError (date, request-id, client-request-id)
                body["error"]["innerError"] = {"date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                                               "request-id": request_id,
                                               "client-request-id": headers.get("client-request-id", request_id)}
            response = Response(error.status, body, {**error.headers, **extra})
        except Exception as error:  # a bug in the emulator: answer like Azure would, keep serving
            error_code = "InternalServerError"
            response = Response(500, {"error": {"code": "InternalServerError",
                                                "message": f"emulator error: {type(error).__name__}: {error}"}})
        linger = unread and (declared is None or declared.has_body)
        if linger:
            response.headers["Connection"] = "close"  # send_header sets close_connection too
        emulator._log(self.command, path, response.status, operation)  # before answering: the client may read the log next
        emulator.request_log.write(self.command, self.path, response.status, started, request, error_code)
        self._send(response, request_id, headers.get("x-ms-client-request-id"), headers.get("x-ms-correlation-request-id"))
        if linger:
            self._discard_unread()

    def _discard_unread(self) -> None:
        """After answering a request whose body was not read: read and drop what the client is still sending, for
        a bounded time and size, before closing. Closing with unread data makes the kernel send a reset, which
        can reach the client before it has read the answer (the "lingering close" of RFC 9112 §9.6). Memory
        stays constant: each block is dropped as soon as it is read."""
        deadline = time.monotonic() + LINGER_SECONDS
        dropped = 0
        try:
            while dropped < LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.connection.settimeout(min(remaining, LINGER_IDLE))
                block = self.rfile.read1(65536)
                if not block:
                    break
                dropped += len(block)
        except (OSError, ValueError):
            pass
        self.close_connection = True

    def _send(self, response: Response, request_id: str, client_request_id: str | None, correlation_id: str | None = None):
        if response.body is None:
            payload = b""
        elif isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-correlation-request-id", correlation_id or request_id)  # echoed or generated (RPC)
        if client_request_id:
            self.send_header("x-ms-client-request-id", client_request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        # Headers and body in one write (one TCP segment for small answers); HEAD gets the headers only.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def _reset(self):
        """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _dispatch


class Emulator:
    """A local Azure: Entra ID, ARM (workspaces, tables, DCRs, DCEs, RBAC), Graph and Logs Ingestion over HTTPS.

    ``state_dir`` None uses a fresh temp dir. Knobs (all off by default):
    ``latency`` (seconds, or {operation|group|'*': seconds}), ``lro_seconds``
    (how long table operations stay InProgress), ``role_propagation_seconds``
    (403 until a new role assignment has propagated), ``faults`` (list of
    ``Fault`` or their text form, see knobs.py), ``fault_seed``. ``request_log``: a text stream that gets one
    line per request (requestlog.py), e.g. ``sys.stderr``.
    """

    def __init__(self, state_dir=None, *, port: int = 0, latency=None, lro_seconds: float = 0.0,
                 role_propagation_seconds: float = 0.0, faults=None, fault_seed: int = 0, host: str = LOOPBACK,
                 graph_roles: dict | None = None, request_log=None):
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"the emulator binds {LOOPBACK} only, refusing to bind {host!r}")
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="provision-emulator-")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir).resolve()
        self.ca_path = self.state_dir / tls.CA_FILE
        self.port = port
        self._defaults = (latency, lro_seconds, role_propagation_seconds)
        self.latency = Latency(latency)
        self.faults = FaultInjector(faults, fault_seed)
        self._fault_seed = fault_seed
        self.calls: list[Call] = []
        self.backend: Backend | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._lro_seconds = lro_seconds
        self._propagation = role_propagation_seconds
        self._graph_roles = {self._app(k): tuple(v) for k, v in (graph_roles or {}).items()}
        self.request_log = RequestLog(request_log)  # a text stream (serve --log, PROVISION_DEBUG) or None: off

    @property
    def running(self) -> Backend:
        """The backend of a started emulator (``start()`` opens it; calling before that is a bug)."""
        if self.backend is None:
            raise RuntimeError("the emulator is not started: call start() first")
        return self.backend

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Open the state dir (``StateDirError`` if it cannot be used) and serve (``OSError`` if the port is taken)."""
        if self._server is not None:
            return self
        store = None
        if self.state_dir.exists() and not self.state_dir.is_dir():
            raise StateDirError(f"cannot use '{self.state_dir}' as the emulator's state directory: it is a file")
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._lock_state()
        except OSError as error:
            raise StateDirError(f"cannot use '{self.state_dir}' as the emulator's state directory: "
                                f"{error.strerror or error}") from None
        try:
            self.ca_path = tls.ensure_certificates(self.state_dir)
            store = Store(self.state_dir / DB_FILE)
            self.backend = Backend(store, lro_seconds=self._lro_seconds, role_propagation_seconds=self._propagation)
            self.running.store.set_meta("opened", str(time.time()))  # fails now, not mid-request, if read-only
        except (OSError, sqlite3.Error) as error:
            if store is not None:
                store.close()
            self._unlock_state()
            reason = getattr(error, "strerror", None) or str(error)
            raise StateDirError(f"cannot use '{self.state_dir}' as the emulator's state directory: {reason}") from None
        self.running.graph_roles = dict(self._graph_roles)
        self.running.fail_next_lro = lambda line: self.faults.pick("lro", "arm", line, lro=True) is not None
        try:
            self._server = self._bind(tls.server_context(self.state_dir))
        except OSError:
            self.running.store.close()
            self._unlock_state()
            raise
        self.port = self._server.server_address[1]
        self._write_lock_info()
        self.running.store.set_meta("last-port", str(self.port))
        self.running.base_url = self.url
        self.running.tokens.issuer_base = self.url  # the authority a wrong-tenant 401 points at
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _lock_state(self) -> None:
        """Hold the state dir's lock file while serving; StateDirInUse when another emulator holds it."""
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd, exclusive=True):
            os.close(fd)
            running = running_emulator(self.state_dir, wait=1.0) or {}
            where = f" at {running['url']}" if running.get("url") else ""
            raise StateDirInUse(f"the state directory '{self.state_dir}' is in use by another emulator (pid "
                                f"{running.get('pid', '?')}{where}); one emulator per state directory", running)
        self._lock_fd = fd

    def _write_lock_info(self) -> None:
        """Say in the lock file who serves this state dir and where, for ``running_emulator`` (``--cloud local``)."""
        if self._lock_fd is None:
            return
        info = json.dumps({"pid": os.getpid(), "url": self.url, "ca": str(self.ca_path)}).encode()
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, info, 0)

    def _unlock_state(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.ftruncate(self._lock_fd, 0)  # a stale file then says nothing; the lock itself goes with the close
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    def _bind(self, context) -> _Server:
        """Bind the requested port; with port 0, first the state dir's previous port, so endpoints stay the same
        across restarts (e.g. `--cloud local` runs), else any free port."""
        if self.port == 0:
            last = self.running.store.meta("last-port")
            if last:
                try:
                    return _Server((LOOPBACK, int(last)), _Handler, context, self)
                except OSError:
                    pass
        return _Server((LOOPBACK, self.port), _Handler, context, self)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self.running.wait_ingested()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.running.store.close()
        self._server = None
        self._unlock_state()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    def env(self) -> dict[str, str]:
        """What ``provision emulator serve`` prints: everything a client needs to reach this emulator."""
        return client_env(self.url, self.ca_path)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Back to the seeded state: resources, rows, call log, faults and knobs as constructed."""
        self.running.reset()
        self.calls.clear()
        self.faults.clear()
        self.faults.reseed(self._fault_seed)
        latency, lro, propagation = self._defaults
        self.latency.set(latency)
        self.set_lro_seconds(lro)
        self.set_role_propagation_seconds(propagation)
        self.set_transform_seconds(TRANSFORM_SECONDS)
        self.running.graph_roles = dict(self._graph_roles)

    def rows(self, table: str, limit: int | None = None, workspace: str | None = None) -> list[dict]:
        """Rows stored in ``table`` (any seeded workspace unless ``workspace`` names one), oldest first;
        with ``limit``, the most recent ``limit`` rows."""
        return self.running.rows(table, limit, workspace)

    def ingestion_stats(self, immutable_id: str | None = None) -> dict:
        """Per-DCR counters since start/reset: requests, received, stored, filtered (by where), dropped."""
        self.running.wait_ingested()
        stats = {k: vars(v).copy() for k, v in self.running.stats.items()}
        return stats.get(immutable_id.lower(), {}) if immutable_id else stats

    @property
    def warnings(self) -> list[str]:
        """Things the emulator could not do faithfully (e.g. a transform applied as the identity)."""
        return list(self.running.warnings)

    def issue_token(self, app_id: str, audience: str, lifetime: float = 3599, *, tenant: str = seed.TENANT_ID,
                    not_before: float | None = None) -> str:
        """A token signed by this emulator (tests: expired, wrong-audience, other-tenant or not-yet-valid tokens)."""
        from provision.emulator.identity import APPS

        return self.running.tokens.issue(APPS[app_id.lower()], audience, lifetime, tenant=tenant,
                                         roles=self.running.graph_roles_of(app_id), not_before=not_before)

    # ------------------------------------------------------------------ knobs
    def set_latency(self, latency) -> None:
        self.latency.set(latency)

    def set_transform_seconds(self, seconds: float) -> None:
        """Bound on one ingestion request's transform evaluation (default 20 s); past it, 400 TransformTimeout."""
        self.running.transform_seconds = seconds

    def set_lro_seconds(self, seconds: float) -> None:
        self._lro_seconds = seconds
        self.running.lro_seconds = seconds

    def set_graph_roles(self, app_id: str, roles=None) -> None:
        """The Microsoft Graph application permissions of a seeded app from its next token on (None: as seeded).
        E.g. ``set_graph_roles(seed.DEPLOYER_APP_ID, ())``: Graph refuses it 403 Authorization_RequestDenied."""
        if roles is None:
            self.running.graph_roles.pop(self._app(app_id), None)
        else:
            self.running.graph_roles[self._app(app_id)] = tuple(roles)

    @staticmethod
    def _app(app_id: str) -> str:
        from provision.emulator.identity import APPS

        app = APPS.get(app_id.lower())
        if app is None:
            raise ValueError(f"unknown app id {app_id!r}; the seeded apps are {', '.join(APPS)}")
        return app.app_id

    # ------------------------------------------------------------------ app credentials and the federated issuer
    @property
    def issuer_url(self) -> str:
        """The emulator's own OIDC issuer of federated tokens (``federated_token``)."""
        from provision.emulator.identity import ISSUER_PATH

        return self.url + ISSUER_PATH

    def add_certificate(self, app_id: str, certificate_pem: str) -> str:
        """Register a certificate credential (PEM, RSA key) on a seeded app, as uploading its public certificate does;
        ``ClientCertificateCredential`` with the private key then signs in. Returns the hex SHA-1 thumbprint."""
        return self.running.add_certificate(self._app(app_id), certificate_pem).thumbprint

    def add_federated_credential(self, app_id: str, issuer: str, subject: str, audiences=None, name: str | None = None) -> None:
        """Add a federated identity credential to a seeded app (Graph federatedIdentityCredential): a token from
        ``issuer`` for ``subject`` with an audience in ``audiences`` (default api://AzureADTokenExchange) may then sign
        in as the app. ``issuer`` may be ``issuer_url`` (``federated_token`` mints its tokens) or any https issuer
        with OpenID discovery."""
        from provision.emulator.assertions import FEDERATED_AUDIENCE, FederatedCredential

        audiences = tuple(audiences or (FEDERATED_AUDIENCE,))
        name = name or f"credential-{len(self.running.app_credentials(self._app(app_id)).federated) + 1}"
        self.running.add_federated_credential(self._app(app_id), FederatedCredential(name, issuer, subject, audiences))

    def federated_token(self, subject: str, audience: str | None = None, lifetime: float = 3600) -> str:
        """A token from the emulator's issuer, as a CI system's OIDC token (write it to AZURE_FEDERATED_TOKEN_FILE)."""
        from provision.emulator import identity
        from provision.emulator.assertions import FEDERATED_AUDIENCE

        return identity.federated_token(self.running.tokens, self.url, subject, audience or FEDERATED_AUDIENCE, lifetime)

    def set_role_propagation_seconds(self, seconds: float) -> None:
        self._propagation = seconds
        self.running.role_propagation_seconds = seconds

    def inject_fault(self, kind, match: str = "", times: int | None = 1, rate: float = 1.0, retry_after: int = 1) -> Fault:
        fault = kind if isinstance(kind, Fault) else Fault(str(kind), match, times, rate, retry_after)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def create_classic_table(self, name: str, columns=None, workspace: str = seed.WORKSPACE_ID) -> None:
        """A classic (Data Collector API) custom table, ``tableSubType: Classic``, in a seeded workspace; the Tables
        API's migrate (POST .../tables/{name}/migrate) turns it DCR-based. ``columns``: [{"name", "type"}] or
        {name: type} (default TimeGenerated and RawData)."""
        if columns is None:
            columns = {"TimeGenerated": "dateTime", "RawData": "string"}
        if isinstance(columns, dict):
            columns = [{"name": n, "type": t} for n, t in columns.items()]
        self.running.create_classic_table(workspace, name, list(columns))

    def set_ingestion_limits(self, requests_per_minute: int = 12_000, bytes_per_minute: int = 2 * 10**9) -> None:
        """Per-DCR ingestion limits per minute (Azure's: 12,000 requests, 2 GB); beyond them: 429 with Retry-After."""
        self.running.quota.requests_per_minute = requests_per_minute
        self.running.quota.bytes_per_minute = bytes_per_minute

    # ------------------------------------------------------------------ call log
    def write_calls(self) -> list[Call]:
        """ARM write calls (PUT/PATCH/DELETE) answered so far, in order."""
        return [c for c in list(self.calls) if c.method in ("PUT", "PATCH", "DELETE") and c.operation != "Unknown"]

    def count(self, method: str | None = None, operation: str | None = None, status: int | None = None) -> int:
        return sum(1 for c in list(self.calls) if (method is None or c.method == method)
                   and (operation is None or c.operation == operation) and (status is None or c.status == status))

    # ------------------------------------------------------------------ server hooks
    def _log(self, method: str, path: str, status: int, operation: str) -> None:
        if len(self.calls) >= MAX_CALLS:  # a long-running `serve` keeps the most recent calls only
            del self.calls[: MAX_CALLS // 2]
        self.calls.append(Call(method, path, status, operation))

    def _before(self, operation: str, group: str, request_line: str) -> bool:
        """Latency, then an injected fault; True when the request is to run and its answer be lost."""
        delay = self.latency.delay(operation, group)
        if delay > 0:
            time.sleep(delay)
        fault = self.faults.pick(operation, group, request_line)
        if fault is None:
            return False
        if fault.kind == "lost-response":
            return True
        if fault.kind == "reset":
            raise _Reset()
        if fault.kind == "429":
            message = "API limits have been exceeded. Retry after the duration in the Retry-After header." if group == "ingest" \
                else "The request is being throttled. Retry after the duration in the Retry-After header."
            raise errors.TooManyRequests(message, headers={"Retry-After": str(fault.retry_after)})
        if fault.kind == "500":
            raise errors.InternalServerError("Encountered an internal server error (injected fault).")
        raise errors.ServiceUnavailable("The service is temporarily unavailable (injected fault). Retry the request.")

