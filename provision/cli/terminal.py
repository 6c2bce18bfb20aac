"""Terminal behaviour of the commands: whether to colour, and the heartbeat during long waits.

Colour follows the conventions users set once for every tool: ``NO_COLOR`` (any non-empty value) turns it off
(no-color.org), ``FORCE_COLOR`` (non-empty, not ``0``/``false``) turns it on even when piped, as in a CI log
that renders ANSI (force-color.org), and ``TERM=dumb`` means the terminal shows no escape codes. Otherwise
colour is on only for a terminal. ``NO_COLOR`` wins over ``FORCE_COLOR``.

The heartbeat: while a step waits (a table provisioning, a role propagating), say that it is still going. On a
terminal, one line rewritten in place with the elapsed seconds; elsewhere (CI logs, where a rewritten line
would pile up) a plain line every few seconds. Ordinary lines printed meanwhile go through ``Heartbeat.echo``,
which clears the status line first, so the two never mix.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Self

CI_EVERY = 5.0  # seconds between heartbeat lines in a log
TTY_EVERY = 0.5  # refresh of the status line on a terminal


def colour_enabled(stream, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to write ANSI colour to ``stream``."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force and force.strip().lower() not in ("0", "false"):
        return True
    if environ.get("TERM", "") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def is_live_terminal(stream, environ: Mapping[str, str] | None = None) -> bool:
    """A terminal that can rewrite a line in place (not a log, not TERM=dumb)."""
    environ = os.environ if environ is None else environ
    return bool(getattr(stream, "isatty", lambda: False)()) and environ.get("TERM", "") != "dumb"


@contextmanager
def status_line(stream, text: str, environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """``text`` on a terminal while the block runs (reading live state: seconds of silence otherwise), then erased,
    so that what follows reads as before. Logs get nothing: a line that says "reading" and nothing else helps no one
    reading a log afterwards."""
    live = is_live_terminal(stream, environ)
    if live:
        stream.write(f"{text}\r")
        stream.flush()
    try:
        yield
    finally:
        if live:
            stream.write("\r\033[K")
            stream.flush()


class Heartbeat:
    """Background "still waiting" for the labels between ``wait(label)`` and ``done(label)``."""

    def __init__(self, write: Callable[[str], None], live: bool = False, every: float | None = None,
                 rewrite: Callable[[str], None] | None = None):
        self.write = write  # one whole line
        self.rewrite = rewrite  # a status line written in place (terminals)
        self.live = live and rewrite is not None
        self.every = every if every is not None else (TTY_EVERY if self.live else CI_EVERY)
        self._waiting: dict[str, float] = {}
        self._lock = threading.Lock()
        self._status = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="provision-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        with self._lock:
            self._clear()

    def wait(self, label: str) -> None:
        with self._lock:
            self._waiting.setdefault(label, time.monotonic())

    def done(self, label: str) -> None:
        with self._lock:
            self._waiting.pop(label, None)

    def echo(self, text: str = "") -> None:
        with self._lock:
            self._clear()
            self.write(text)

    def _clear(self) -> None:
        if self._status and self.rewrite is not None:
            self.rewrite("\r\033[K")
            self._status = False

    def _run(self) -> None:
        spinner = "|/-\\"
        turn = 0
        last_line = time.monotonic()
        while not self._stop.wait(self.every if self.live else min(self.every, 0.25)):
            with self._lock:
                if not self._waiting:
                    last_line = time.monotonic()
                    continue
                now = time.monotonic()
                label, since = min(self._waiting.items(), key=lambda item: item[1])
                more = f" and {len(self._waiting) - 1} more" if len(self._waiting) > 1 else ""
                text = f"still waiting for {label}{more}: {now - since:.0f} s"
                if self.live and self.rewrite is not None:
                    turn += 1
                    self.rewrite(f"\r\033[K  {spinner[turn % 4]} {text}")
                    self._status = True
                elif now - last_line >= self.every:
                    last_line = now
                    self.write(f"  ... {text}")
