"""HTTP/1.1 request framing for the emulator: how long a request body is, and reading it within a bound.

The server decides from the headers alone, before a byte of the body is read, whether the body can be
delimited at all (``body_framing``) and then reads it without ever holding more than the route's limit
(``read_body``). The rules are RFC 9112's (HTTP/1.1 message syntax) and RFC 9110's:

- ``Content-Length`` is ``1*DIGIT`` (RFC 9110 §8.6). A list of identical values (``42, 42``, or the same
  field twice) may be accepted; any other value or differing values make the framing invalid, and "the
  server MUST respond with a 400 (Bad Request) status code and then close the connection" (RFC 9112 §6.3).
- ``Transfer-Encoding`` together with ``Content-Length``: "A server MAY reject a request that contains both
  ... Regardless, the server MUST close the connection after responding" (RFC 9112 §6.1). The emulator
  rejects it (400): it is the request-smuggling shape.
- A transfer coding other than ``chunked``: "SHOULD respond with a 501 (Not Implemented)" (RFC 9112 §6.1);
  ``chunked`` must be the final coding and applied once (RFC 9112 §6.1, §7).
- A chunk size is ``1*HEXDIG`` optionally followed by ``;`` extensions, each chunk ends with CRLF (RFC 9112
  §7.1). Python's ``int(x, 16)`` also takes ``0x``, ``_``, signs and spaces, so the size is matched exactly.

Pure and stdlib only: no sockets here; ``read_body`` takes the handler's buffered reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Protocol

_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
MAX_LINE = 8192  # longest chunk-size or trailer line read (a line without its end is a framing error)
MAX_TRAILERS = 64  # trailer fields accepted after the last chunk


class Reader(Protocol):
    """What ``read_body`` needs of the handler's buffered stream (``BaseHTTPRequestHandler.rfile``)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int | None = -1, /) -> bytes: ...


class FramingError(Exception):
    """The request cannot be delimited: answer ``status`` (400 or 501) and close the connection."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class BodyTooLarge(Exception):
    """The body is longer than the route allows (known from Content-Length, or counted while de-chunking)."""

    def __init__(self, limit: int):
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Framing:
    """How the body is delimited: ``chunked``, else exactly ``length`` bytes (0: no body)."""

    length: int = 0
    chunked: bool = False

    @property
    def has_body(self) -> bool:
        return self.chunked or self.length > 0


def body_framing(headers: Message) -> Framing:
    """The framing the headers declare; raises FramingError when they do not delimit a body unambiguously."""
    lengths = headers.get_all("Content-Length") or []
    codings = [c.strip().lower() for field in headers.get_all("Transfer-Encoding") or [] for c in field.split(",")]
    if codings:
        if lengths:
            raise FramingError("The request has both Transfer-Encoding and Content-Length; send one of them "
                               "(RFC 9112 §6.1).")
        if codings == ["chunked"]:
            return Framing(chunked=True)
        if ("chunked" in codings and codings[-1] != "chunked") or codings.count("chunked") > 1:
            raise FramingError("Transfer-Encoding: chunked must be the last coding, applied once (RFC 9112 §6.1).")
        raise FramingError(f"Transfer-Encoding '{', '.join(codings)}' is not supported; only 'chunked' is "
                           "(RFC 9112 §6.1).", status=501)
    if not lengths:
        return Framing()
    values = {v.strip() for field in lengths for v in field.split(",")}
    if len(values) != 1:
        raise FramingError(f"The request has conflicting Content-Length values ({', '.join(sorted(values))}) "
                           "(RFC 9112 §6.3).")
    value = values.pop()
    if not _DIGITS.fullmatch(value):
        raise FramingError(f"Content-Length '{value}' is not a non-negative decimal number (RFC 9110 §8.6).")
    # More than 18 digits is over any limit; int() of thousands of digits is itself slow (and refused past 4300).
    return Framing(length=int(value) if len(value) <= 18 else 10**18)


def check_length(framing: Framing, limit: int) -> None:
    """Refuse a declared length over ``limit`` before reading (chunked bodies are counted in ``read_body``)."""
    if framing.length > limit:
        raise BodyTooLarge(limit)


def read_body(rfile: Reader, framing: Framing, limit: int) -> bytes:
    """The body, never more than ``limit`` bytes in memory; BodyTooLarge beyond it, FramingError if malformed.

    A short read (the client closed early) is a FramingError too: the body is not what the headers said."""
    check_length(framing, limit)
    if not framing.chunked:
        body = rfile.read(framing.length) if framing.length else b""
        if len(body) != framing.length:
            raise FramingError(f"The request body ended after {len(body)} of {framing.length} bytes.")
        return body
    chunks: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        found = _CHUNK_SIZE.fullmatch(line)
        if found is None:
            shown = line[:40].decode("latin-1").rstrip("\r\n")
            raise FramingError(f"Invalid chunk size line '{shown}': expected hexadecimal digits (RFC 9112 §7.1).")
        size = int(found.group(1), 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BodyTooLarge(limit)
        data = rfile.read(size)
        if len(data) != size:
            raise FramingError(f"A chunk ended after {len(data)} of {size} bytes.")
        chunks.append(data)
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise FramingError("A chunk is not followed by CRLF (RFC 9112 §7.1).")
    for _ in range(MAX_TRAILERS + 1):
        line = rfile.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return b"".join(chunks)
        if not line.endswith(b"\n"):
            raise FramingError("The chunked body ended without its final CRLF (RFC 9112 §7.1).")
    raise FramingError(f"More than {MAX_TRAILERS} trailer fields after the last chunk.")
