"""``--debug`` / ``-v``: one line per HTTP call (method, URL, status, duration, request id) from azure-core's logging.

Every SDK client (and azure-identity's token requests) logs each request and response through azure-core's
``HttpLoggingPolicy`` on the logger ``azure.core.pipeline.policies.http_logging_policy``. That policy already
redacts what must not be shown: every header outside its allow-list (``Authorization`` becomes ``REDACTED``)
and every query parameter outside it, and it never logs bodies (sdk-notes.md; azure-core
``_universal.HttpLoggingPolicy``). This handler turns its two records per call into one short line, and
reads only the method, the (redacted) URL, the status and the request ids from them, so nothing else the
records hold reaches the terminal. The records of one call come from one thread, one after the other, so
the start time is kept per thread. Other Azure loggers stay quiet: their messages repeat what our own
error paragraph says.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"
_URL = re.compile(r"Request URL: '(?P<url>[^']*)'")
_METHOD = re.compile(r"Request method: '(?P<method>[A-Z]+)'")
_STATUS = re.compile(r"Response status: (?P<status>\d+)")
_HEADER = re.compile(r"^\s+'(?P<name>[^']+)': '(?P<value>[^']*)'$", re.MULTILINE)
_IDS = ("x-ms-request-id", "x-ms-correlation-request-id")


class HttpLineHandler(logging.Handler):
    """``GET https://... -> 200 in 0.05 s (x-ms-request-id ...)`` for each call, written through ``write``."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.write = write
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record we cannot format is not ours to print
            return
        request = _URL.search(text)
        if request:
            method = _METHOD.search(text)
            self._local.request = (method["method"] if method else "?", request["url"], time.monotonic())
            return
        status = _STATUS.search(text)
        started = getattr(self._local, "request", None)
        if status is None or started is None:
            return
        self._local.request = None
        method, url, began = started
        headers = {m["name"].lower(): m["value"] for m in _HEADER.finditer(text)}
        ids = ", ".join(f"{name} {headers[name]}" for name in _IDS if headers.get(name) and headers[name] != "REDACTED")
        self.write(f"http: {method} {url} -> {status['status']} in {time.monotonic() - began:.2f} s" + (f" ({ids})" if ids else ""))


def enable(write: Callable[[str], None]) -> Callable[[], None]:
    """Print one line per HTTP call through ``write``; returns the function that stops it."""
    logger = logging.getLogger(HTTP_LOGGER)
    handler = HttpLineHandler(write)
    previous = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the 'azure' logger above stays quiet (CRITICAL), and no root handler repeats it

    def disable() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]

    return disable
