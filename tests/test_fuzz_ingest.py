"""Property-based fuzzing of the ingestion body parser and the record checks (provision/emulator/ingest.py).

Whatever bytes arrive, ``decode_body`` either returns a list of objects or raises one of the emulator's own
errors (400 InvalidContent, 413 ContentLengthLimitExceeded); what it returns, ``passthrough``/``map_rows``
store or count without raising, every record accounted for (stored + dropped + filtered = received) and every
stored batch is strict JSON. Bounded for CI: PROVISION_FUZZ_EXAMPLES (default 300) examples per property;
a longer run is `PROVISION_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz_ingest.py`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from provision.emulator import errors, ingest
from tests.fuzzing import fuzz_settings

FUZZ = fuzz_settings(300)

COLUMNS = (("TimeGenerated", "dateTime"), ("Message", "string"), ("Count", "long"), ("Level", "int"),
           ("Flag", "boolean"), ("Ratio", "real"), ("Ref", "guid"), ("Props", "dynamic"))
NAMES = [n for n, _ in COLUMNS] + ["Extra", ""]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 80), max_value=2 ** 80), st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-01", "not a date", "42", " -7 ", "1e5", "true", "FALSE", "yes",
                     "0f8fad5b-d9cb-469f-a165-70867728950e", "\ud800", "NaN"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(NAMES), inner, max_size=4)),
                      max_leaves=30)
ROWS = st.lists(st.one_of(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8), VALUES), max_size=8)


def _plan(transform_free: bool = True) -> ingest.RulePlan:
    flow = ingest.FlowPlan(None, "ws/t_cl", "T_CL", frozenset(n for n, _ in COLUMNS), False,
                           tuple((n, t, ingest.VALUE_CHECKS[t]) for n, t in COLUMNS if t in ingest.VALUE_CHECKS))
    streams = {"Custom-T": tuple(n for n, _ in COLUMNS)}
    return ingest.RulePlan("/dcr", "dcr-x", streams, {"Custom-T": [flow]})


def _encode(rows) -> bytes:
    # allow_nan=True on purpose: NaN/Infinity literals are part of what the parser must refuse.
    return json.dumps(rows, allow_nan=True).encode("utf-8", "surrogatepass")


def _nested_depth(value, depth: int = 1) -> int:
    if isinstance(value, dict):
        return max([depth] + [_nested_depth(v, depth + 1) for v in value.values()])
    if isinstance(value, list):
        return max([depth] + [_nested_depth(v, depth + 1) for v in value])
    return depth - 1


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _decode(raw: bytes, encoding: str | None):
    try:
        return ingest.decode_body(raw, encoding)
    except (errors.InvalidContent, errors.ContentLengthLimitExceeded):
        return None


def _store_like_the_backend(rows: list, text: bytes) -> ingest.Stats:
    plan, stats = _plan(), ingest.Stats()
    verbatim = ingest.passthrough(plan, "Custom-T", rows, text, stats)
    if verbatim is not None:
        batches = {verbatim[0]: json.loads(verbatim[1])}
    else:
        batches = ingest.map_rows(plan, "Custom-T", rows, stats, len(text))
    for batch in batches.values():
        json.dumps(batch, allow_nan=False)  # what the store writes: strict JSON, or this raises
    assert sum(len(b) for b in batches.values()) == stats.stored
    assert stats.stored + stats.dropped + stats.filtered == stats.received == len(rows)
    assert sum(stats.reasons.values()) == stats.dropped
    return stats


@FUZZ
@given(ROWS, st.booleans())
def test_any_json_body_is_accepted_as_objects_or_refused_with_400(rows, compress):
    raw = _encode(rows)
    decoded = _decode(gzip.compress(raw) if compress else raw, "gzip" if compress else None)
    valid = all(isinstance(r, dict) for r in rows) and _finite(rows) and _nested_depth(rows) <= ingest.MAX_DEPTH
    assert (decoded is not None) == valid
    if decoded is not None:
        assert decoded[0] == json.loads(raw)
        _store_like_the_backend(*decoded)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([None, "gzip", " GZIP ", "deflate"]))
def test_arbitrary_bytes_never_raise_anything_but_the_emulators_errors(raw, encoding):
    decoded = _decode(raw, encoding)
    if decoded is not None:
        assert all(type(r) is dict for r in decoded[0])
        _store_like_the_backend(*decoded)


@FUZZ
@given(ROWS, st.integers(min_value=1, max_value=4), st.binary(max_size=16))
def test_gzip_members_are_joined_and_trailing_bytes_refused(rows, members, tail):
    text = _encode([r for r in rows if isinstance(r, dict)])
    cuts = sorted({len(text) * i // members for i in range(members + 1)})
    body = b"".join(gzip.compress(text[a:b]) for a, b in itertools.pairwise(cuts))
    whole = _decode(body, "gzip")
    single = _decode(gzip.compress(text), "gzip")
    assert (whole is None) == (single is None)
    if whole is not None and single is not None:
        assert whole[0] == single[0]
    if tail and not tail.startswith(b"\x1f\x8b"):
        assert _decode(body + tail, "gzip") is None


@FUZZ
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[", "{\"a\":"]))
def test_deep_nesting_is_refused_without_recursion(depth, opener):
    closer = "]" if opener == "[" else "}"
    body = f'[{{"Props": {opener * depth}1{closer * depth}}}]'.encode()
    decoded = _decode(body, None)
    assert (decoded is not None) == (depth + 2 <= ingest.MAX_DEPTH)


@FUZZ
@given(ROWS, st.booleans(), st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255),
                                               st.sampled_from(["flip", "insert", "delete"])), min_size=1, max_size=4))
def test_mutated_bodies_never_raise_anything_but_the_emulators_errors(rows, compress, edits):
    body = bytearray(_encode(rows))
    if compress:
        body = bytearray(gzip.compress(bytes(body)))
    for position, byte, edit in edits:
        at = position % (len(body) + 1)
        if edit == "insert":
            body[at:at] = bytes([byte])
        elif body and at < len(body):
            if edit == "flip":
                body[at] ^= byte or 1
            else:
                del body[at]
    decoded = _decode(bytes(body), "gzip" if compress else None)
    if decoded is not None:
        assert all(type(r) is dict for r in decoded[0])
        _store_like_the_backend(*decoded)
