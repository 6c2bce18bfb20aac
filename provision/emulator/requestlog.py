"""The emulator's request log: one line per answered request, for debugging a client the emulator cannot see into.

``provision emulator serve --log FILE|-`` and the in-process emulator under ``PROVISION_DEBUG`` write it. A line:

    2026-12-03T12:00:00.123Z POST /22222222-.../oauth2/v2.0/token 401 3.2ms app=a1a1a1a1-... error=AADSTS7000215

time (UTC), method, path and query as sent, status (0: the connection was reset by a fault), milliseconds, the
caller's app id (from its verified token, or the client id a token request names; '-' when none) and the error
code answered ('-' on success). Never a token, a secret or a body: the Authorization header is not read here, the
token endpoint's form is read for ``client_id`` only, and query parameters whose name says they carry a credential
(a SAS ``sig``, ``client_secret``, ``access_token``, ...) are written as ``REDACTED``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import TextIO
from urllib.parse import parse_qsl, quote, urlsplit

from provision.emulator import identity
from provision.emulator.base import Request

# Query parameter names that may carry a credential (lower case; substring match).
_SECRET_NAMES = re.compile(r"secret|token|assertion|password|sig|key|code|credential", re.IGNORECASE)


def redacted_target(target: str) -> str:
    """``path?query`` with credential-bearing query values replaced (names kept, so the line still says what was sent)."""
    split = urlsplit(target)
    if not split.query:
        return split.path
    pairs = parse_qsl(split.query, keep_blank_values=True)
    shown = "&".join(f"{quote(k, safe='-._~$')}={'REDACTED' if _SECRET_NAMES.search(k) else quote(v, safe='-._~:/,$')}"
                     for k, v in pairs)
    return f"{split.path}?{shown}"


def caller_app_id(request: Request) -> str:
    if request.claims is not None:
        return request.claims.appid
    if request.path.lower().endswith("/oauth2/v2.0/token") and request.body:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        return identity.client_id_of(form, request.headers.get("authorization"))
    return ""


class RequestLog:
    """Writes request lines to a text stream (thread-safe, flushed per line); a no-op without one."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, method: str, target: str, status: int, started: float, request: Request, error_code: str) -> None:
        if self.stream is None:
            return
        elapsed_ms = (time.monotonic() - started) * 1000
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        app = caller_app_id(request) or "-"
        line = (f"{stamp} {method} {redacted_target(target)} {status} {elapsed_ms:.1f}ms app={app} "
                f"error={error_code or '-'}\n")
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken log stream must not fail the request
                pass
