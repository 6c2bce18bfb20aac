"""Realism knobs: per-operation latency and seeded fault injection. All off by default.

Faults mimic what Azure does under stress (azure-contract.md §7, sdk-notes.md §4.4
item 6): ``429`` with ``Retry-After``, ``500``/``503``, a connection reset, and a
table LRO that ends ``Failed``. A fault matches an operation name (routes.py, e.g.
``Tables_CreateOrUpdate``), a group (``arm``, ``ingest``, ``entra``, ``graph``) or a
regex searched in ``"METHOD /path"``; it fires ``times`` times (None: forever),
each matching request with probability ``rate`` drawn from a seeded RNG, so a
run is reproducible.

Text form (``serve --fault``): ``KIND[,match=REGEX][,times=N][,rate=R][,retry_after=S]``,
KIND one of 429, 500, 503, reset, lost-response (the request is carried out, then the connection is reset
instead of answering: the client cannot know it succeeded), lro-failed; ``times=0`` means unlimited.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

KINDS = ("429", "500", "503", "reset", "lost-response", "lro-failed")


@dataclass
class Fault:
    kind: str
    match: str = ""
    times: int | None = 1
    rate: float = 1.0
    retry_after: int = 1

    def __post_init__(self):
        self.kind = str(self.kind)
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        self._pattern = re.compile(self.match, re.IGNORECASE) if self.match else None

    @classmethod
    def parse(cls, text: str) -> Fault:
        kind, *options = [part.strip() for part in text.split(",") if part.strip()]
        values: dict = {}
        for option in options:
            key, sep, value = option.partition("=")
            if not sep or key not in ("match", "times", "rate", "retry_after"):
                raise ValueError(f"bad fault option {option!r} in {text!r}; use match=, times=, rate=, retry_after=")
            if key == "times":
                values["times"] = int(value) or None
            elif key == "rate":
                values["rate"] = float(value)
            elif key == "retry_after":
                values["retry_after"] = int(value)
            else:
                values["match"] = value
        return cls(kind, **values)

    def matches(self, operation: str, group: str, request_line: str) -> bool:
        if self._pattern is None:
            return True
        return bool(self.match.lower() in (operation.lower(), group.lower()) or self._pattern.search(request_line))


class FaultInjector:
    """Decides, per request, whether a configured fault fires (thread-safe, seeded)."""

    def __init__(self, faults=None, seed: int = 0):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []
        for fault in faults or []:
            self.add(fault)

    def add(self, fault) -> Fault:
        fault = Fault.parse(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    def pick(self, operation: str, group: str, request_line: str, *, lro: bool = False) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.kind == "lro-failed") != lro or fault.times == 0:
                    continue
                if not fault.matches(operation, group, request_line):
                    continue
                if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None


class Latency:
    """Seconds to wait before answering: a float for every operation, or a dict by operation name, group or '*'."""

    def __init__(self, spec=None):
        self.set(spec)

    def set(self, spec) -> None:
        if spec is None:
            spec = {}
        elif isinstance(spec, (int, float)):
            spec = {"*": float(spec)}
        self._spec = {str(k).lower(): float(v) for k, v in dict(spec).items()}

    def delay(self, operation: str, group: str) -> float:
        spec = self._spec
        if not spec:
            return 0.0
        for key in (operation.lower(), group.lower(), "*"):
            if key in spec:
                return spec[key]
        return 0.0

    @staticmethod
    def parse(items: list[str]) -> dict[str, float]:
        """``serve --latency`` values: ``0.05`` (everything) or ``NAME=SECONDS``."""
        out: dict[str, float] = {}
        for item in items:
            name, sep, value = item.partition("=")
            if sep:
                out[name.strip()] = float(value)
            else:
                out["*"] = float(name)
        return out
