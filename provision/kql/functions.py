"""The scalar function catalogue: name -> signature, return type, DCR status, evaluator.

One table shared by the checker (arity, argument types, return type, whether a
DCR transform may call it) and the evaluator (the Python implementation).

Status of each function (kql-subset.md §1 "Scalar functions" and "Docs versus
what the service actually does"; azure-contract.md §9):
  DOC      listed in data-collection-transformations-kql.md (2026): allowed in both profiles
  COMPAT   not listed, but the service is known to accept it (evidence cited): allowed in
           ``compat``, an error in ``strict``
  REJECTED known to be rejected by the service (evidence cited): an error in both profiles
Functions not in the table at all are unsupported (error, both profiles).

``geo_location``: no well-kept PyPI package ships an offline IP-to-city database with
Country/Region/State/City/Latitude/Longitude (geoip2 needs a separately downloaded
MaxMind file; geoip2fast ships country-level data only, from one maintainer; the
others call web services). Rather than invent data, ``geo_location`` returns an empty
bag ``{}`` for any input (null for null) and the checker accepts it (it is DOC).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as _dt
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from provision.kql.regex import compile_regex, expand_rewrite
from provision.kql.regex import group as match_group
from provision.kql.values import EPOCH, parse_datetime, parse_timespan_text, to_string

DOC = "doc"
COMPAT = "compat"
REJECTED = "rejected"

NUMERIC = ("int", "long", "real")
SRC_DOC = "kql-subset.md §1 Scalar functions (data-collection-transformations-kql.md, 2026)"


@dataclass
class Fn:
    name: str
    min_args: int
    max_args: int | None  # None: variadic
    returns: object  # type name, or callable(arg_types) -> type name | None
    impl: Callable | None
    status: str = DOC
    source: str = SRC_DOC
    fix: str = ""  # for REJECTED: what to use instead
    args: tuple = ()  # expected type class per position: 'string' 'num' 'datetime' 'timespan' 'bool' 'dynamic' 'any'
    rest: str = "any"  # expected type class for positions beyond ``args``
    null_safe: bool = False  # True: impl handles None itself; else any None argument gives None
    literal_args: tuple = field(default_factory=tuple)  # positions that must be constant (part names, regexes)


CATALOGUE: dict[str, Fn] = {}


def _add(fn: Fn) -> None:
    CATALOGUE[fn.name] = fn


def _same_as(index: int):
    return lambda types: types[index] if index < len(types) else None


def common_type(types):
    """Result type of iif/case/max_of: the widest numeric type, else the shared type, else dynamic."""
    known = [t for t in types if t is not None]
    if not known:
        return None
    if all(t in NUMERIC for t in known):
        return max(known, key=NUMERIC.index)
    first = known[0]
    if all(t == first for t in known):
        return first
    # Kusto.Language types mixed branches (iif(c, "a", 2)) as dynamic, without an error.
    return "dynamic"


# ---- runtime conversions (null in, null out; failures give null: KQL semantics) ----

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def to_bool(v):
    cls = type(v)
    if cls is bool or v is None:
        return v
    if cls in (int, float):
        return v != 0
    if cls is str:
        low = v.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
    return None


def _to_integer(v, bounds):
    cls = type(v)
    if cls is int:
        result = v
    elif cls is bool:
        result = int(v)
    elif cls is float:
        if not math.isfinite(v):
            return None
        result = int(v)
    elif cls is str:
        text = v.strip()
        try:
            result = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                return None
            if not math.isfinite(f):
                return None
            result = int(f)
    else:
        return None
    return result if bounds[0] <= result <= bounds[1] else None


def to_int(v):
    return _to_integer(v, INT32)


def to_long(v):
    return _to_integer(v, INT64)


def to_real(v):
    cls = type(v)
    if cls is float or v is None:
        return v
    if cls is int or cls is bool:
        return float(v)
    if cls is str:
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def to_datetime(v):
    cls = type(v)
    if cls is _dt.datetime or v is None:
        return v
    if cls is str:
        return parse_datetime(v)
    return None


def to_timespan(v):
    cls = type(v)
    if cls is _dt.timedelta or v is None:
        return v
    if cls is str:
        return parse_timespan_text(v.strip()) if v.strip() else None
    return None


_GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def to_guid(v):
    """A guid as its canonical lower-case text (values.py), or null when the text is not a guid."""
    if v is None:
        return None
    if type(v) is str:
        low = v.lower()
        if len(low) == 36 and _GUID_RE.fullmatch(low):
            return low
        try:
            return str(uuid.UUID(v.strip()))
        except ValueError:
            return None
    if type(v) is uuid.UUID:
        return str(v)
    return None


def to_dynamic(v):
    """parse_json(): a string holding JSON becomes that value; any other string stays a string."""
    if type(v) is str:
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


CONVERTERS = {
    "string": to_string, "int": to_int, "long": to_long, "real": to_real, "boolean": to_bool,
    "datetime": to_datetime, "timespan": to_timespan, "guid": to_guid, "dynamic": lambda v: v,
}

# ---- conversion functions ----
for _name, _type, _conv in (
    ("tobool", "boolean", to_bool), ("todatetime", "datetime", to_datetime),
    ("todouble", "real", to_real), ("toreal", "real", to_real), ("toguid", "guid", to_guid), ("toint", "int", to_int),
    ("tolong", "long", to_long), ("totimespan", "timespan", to_timespan),
):
    _add(Fn(_name, 1, 1, _type, _conv))
_add(Fn("tostring", 1, 1, "string", to_string, null_safe=True))
_add(Fn("parse_json", 1, 1, "dynamic", to_dynamic))
# kql-subset.md: todynamic is used in Microsoft-published SentinelOneV2_DCR.json, so presumably accepted.
_add(Fn("todynamic", 1, 1, "dynamic", to_dynamic, status=COMPAT,
        source="kql-subset.md: used in Microsoft-published SentinelOneV2_DCR.json"))

# ---- bitwise ----
_add(Fn("binary_and", 2, 2, "long", lambda a, b: a & b, args=("num", "num")))
_add(Fn("binary_or", 2, 2, "long", lambda a, b: a | b, args=("num", "num")))
_add(Fn("binary_xor", 2, 2, "long", lambda a, b: a ^ b, args=("num", "num")))
_add(Fn("binary_not", 1, 1, "long", lambda a: ~a, args=("num",)))
_add(Fn("binary_shift_left", 2, 2, "long", lambda a, n: ((a << n) + 2**63) % 2**64 - 2**63 if 0 <= n < 64 else None,
        args=("num", "num")))
_add(Fn("binary_shift_right", 2, 2, "long", lambda a, n: a >> n if 0 <= n < 64 else None, args=("num", "num")))


# ---- datetime / timespan ----
def _utcnow():
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


def _add_months(d: _dt.datetime, months: int) -> _dt.datetime:
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return d.replace(year=year, month=month + 1, day=day)


_PART_DELTAS = {
    "week": _dt.timedelta(weeks=1), "day": _dt.timedelta(days=1), "hour": _dt.timedelta(hours=1),
    "minute": _dt.timedelta(minutes=1), "second": _dt.timedelta(seconds=1), "millisecond": _dt.timedelta(milliseconds=1),
    "microsecond": _dt.timedelta(microseconds=1), "nanosecond": _dt.timedelta(microseconds=0.001),
}


def datetime_add(part, amount, d):
    part = part.lower()
    try:
        if part == "year":
            return _add_months(d, 12 * amount)
        if part == "quarter":
            return _add_months(d, 3 * amount)
        if part == "month":
            return _add_months(d, amount)
        if part in _PART_DELTAS:
            return d + _PART_DELTAS[part] * amount
    except (OverflowError, ValueError):
        return None
    return None


def _truncate(d: _dt.datetime, part: str) -> _dt.datetime:
    if part == "week":
        day = d.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - _dt.timedelta(days=(day.weekday() + 1) % 7)
    fields = ["year", "month", "day", "hour", "minute", "second", "microsecond"]
    cut = {"day": 3, "hour": 4, "minute": 5, "second": 6}.get(part)
    if cut is None:
        return d
    keep = {f: getattr(d, f) for f in fields[:cut]}
    return _dt.datetime(**keep)


def datetime_diff(part, d1, d2):
    part = part.lower()
    if part == "year":
        return d1.year - d2.year
    if part == "quarter":
        return (d1.year - d2.year) * 4 + (d1.month - 1) // 3 - (d2.month - 1) // 3
    if part == "month":
        return (d1.year - d2.year) * 12 + d1.month - d2.month
    if part in ("week", "day", "hour", "minute", "second"):
        return (_truncate(d1, part) - _truncate(d2, part)) // _PART_DELTAS[part]
    delta = d1 - d2
    micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if part == "millisecond":
        return micro // 1000
    if part == "microsecond":
        return micro
    if part == "nanosecond":
        return micro * 1000
    return None


def datetime_part(part, d):
    part = part.lower()
    table = {
        "year": d.year, "quarter": (d.month - 1) // 3 + 1, "month": d.month, "week_of_year": d.isocalendar()[1],
        "weekofyear": d.isocalendar()[1], "day": d.day, "dayofyear": d.timetuple().tm_yday, "hour": d.hour,
        "minute": d.minute, "second": d.second, "millisecond": d.microsecond // 1000, "microsecond": d.microsecond,
        "nanosecond": d.microsecond * 1000,
    }
    return table.get(part)


def _start_of(unit):
    def start(d, offset=0):
        try:
            if unit == "day":
                return _dt.datetime(d.year, d.month, d.day) + _dt.timedelta(days=offset)
            if unit == "week":
                return _truncate(d, "week") + _dt.timedelta(weeks=offset)
            if unit == "month":
                return _add_months(_dt.datetime(d.year, d.month, 1), offset)
            return _dt.datetime(d.year + offset, 1, 1)
        except (OverflowError, ValueError):
            return None
    return start


def _end_of(unit):
    start = _start_of(unit)
    one_tick = _dt.timedelta(microseconds=1)  # KQL ends at .9999999; our resolution is 1 microsecond

    def end(d, offset=0):
        s = start(d, offset + 1)
        return None if s is None else s - one_tick
    return end


def make_datetime(year, month, day, hour=0, minute=0, second=0.0):
    try:
        whole = int(second)
        return _dt.datetime(int(year), int(month), int(day), int(hour), int(minute), whole, round((second - whole) * 1e6))
    except (ValueError, OverflowError, TypeError):
        return None


def make_timespan(*parts):
    try:
        if len(parts) == 2:
            return _dt.timedelta(hours=parts[0], minutes=parts[1])
        if len(parts) == 3:
            return _dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
        return _dt.timedelta(days=parts[0], hours=parts[1], minutes=parts[2], seconds=parts[3])
    except (OverflowError, TypeError):
        return None


_add(Fn("now", 0, 1, "datetime", lambda offset=_dt.timedelta(0): _utcnow() + offset, args=("timespan",)))
_add(Fn("ago", 1, 1, "datetime", lambda ts: _utcnow() - ts, args=("timespan",)))
_add(Fn("datetime_add", 3, 3, "datetime", datetime_add, args=("string", "num", "datetime"), literal_args=(0,)))
_add(Fn("datetime_diff", 3, 3, "long", datetime_diff, args=("string", "datetime", "datetime"), literal_args=(0,)))
_add(Fn("datetime_part", 2, 2, "int", datetime_part, args=("string", "datetime"), literal_args=(0,)))
_add(Fn("dayofmonth", 1, 1, "int", lambda d: d.day, args=("datetime",)))
_add(Fn("dayofweek", 1, 1, "timespan", lambda d: _dt.timedelta(days=(d.weekday() + 1) % 7), args=("datetime",)))
_add(Fn("dayofyear", 1, 1, "int", lambda d: d.timetuple().tm_yday, args=("datetime",)))
_add(Fn("getmonth", 1, 1, "int", lambda d: d.month, args=("datetime",)))
_add(Fn("getyear", 1, 1, "int", lambda d: d.year, args=("datetime",)))
_add(Fn("hourofday", 1, 1, "int", lambda d: d.hour, args=("datetime",)))
_add(Fn("weekofyear", 1, 1, "int", lambda d: d.isocalendar()[1], args=("datetime",)))
for _unit in ("day", "week", "month", "year"):
    _add(Fn(f"startof{_unit}", 1, 2, "datetime", _start_of(_unit), args=("datetime", "num")))
    _add(Fn(f"endof{_unit}", 1, 2, "datetime", _end_of(_unit), args=("datetime", "num")))
_add(Fn("make_datetime", 3, 6, "datetime", make_datetime, rest="num", args=("num", "num", "num")))
_add(Fn("make_timespan", 2, 4, "timespan", make_timespan, rest="num", args=("num", "num")))


# ---- dynamic / array ----
def array_concat(*arrays):
    out = []
    for a in arrays:
        if type(a) is not list:
            return None
        out.extend(a)
    return out


def pack(*args):
    out = {}
    for i in range(0, len(args) - 1, 2):
        out[to_string(args[i])] = args[i + 1]
    return out


def zip_arrays(*arrays):
    if any(type(a) is not list for a in arrays):
        return None
    length = max((len(a) for a in arrays), default=0)
    return [[a[i] if i < len(a) else None for a in arrays] for i in range(length)]


def _xml_to_dynamic(element):
    node = {f"@{k}": v for k, v in element.attrib.items()}
    children = list(element)
    for child in children:
        value = _xml_to_dynamic(child)
        if child.tag in node:
            if not isinstance(node[child.tag], list):
                node[child.tag] = [node[child.tag]]
            node[child.tag].append(value)
        else:
            node[child.tag] = value
    text = (element.text or "").strip()
    if text:
        if not node:
            return text
        node["#text"] = text
    return node or None


def parse_xml(text):
    """XML -> dynamic with Kusto's conventions: attributes '@name', mixed text '#text'."""
    if type(text) is not str:
        return None
    import xml.etree.ElementTree as ET  # only parse_xml needs it: kept off the validate start-up path (~3 ms)

    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    return {root.tag: _xml_to_dynamic(root)}


_add(Fn("array_concat", 1, None, "dynamic", array_concat, rest="dynamic", args=("dynamic",)))
_add(Fn("array_length", 1, 1, "long", lambda a: len(a) if type(a) is list else None, args=("dynamic",)))
_add(Fn("pack_array", 1, None, "dynamic", lambda *a: list(a), null_safe=True))
_add(Fn("pack", 2, None, "dynamic", pack, null_safe=True))
_add(Fn("parse_xml", 1, 1, "dynamic", parse_xml, args=("string",)))
_add(Fn("zip", 2, None, "dynamic", zip_arrays, rest="dynamic", args=("dynamic", "dynamic")))


# ---- math ----
def _num_result(index=0, widen_int=False):
    """Result type = the argument's type; ``widen_int``: int becomes long (Kusto.Language types abs(int) and
    bin(int, n) as long, round(int) and ceiling(int) as int; checked by tests/kql/test_differential.py)."""
    def returns(types):
        t = types[index] if index < len(types) else None
        if widen_int and t == "int":
            return "long"
        return t if t in NUMERIC or t in ("datetime", "timespan") else ("real" if t == "dynamic" else t)
    return returns


def bin_value(v, size):
    cls = type(v)
    if cls is _dt.datetime:
        if type(size) is not _dt.timedelta or not size:
            return None
        return EPOCH + ((v - EPOCH) // size) * size
    if cls is _dt.timedelta:
        if type(size) is not _dt.timedelta or not size:
            return None
        return (v // size) * size
    if type(size) is _dt.timedelta or not size:
        return None
    result = math.floor(v / size) * size
    return int(result) if cls is int and type(size) is int else float(result)


def round_value(v, precision=0):
    from decimal import ROUND_HALF_UP, Decimal  # here, not at the top: a start-up cost only round() needs

    if type(v) is int:
        return v if precision >= 0 else int(Decimal(v).quantize(Decimal(f"1E{-precision}"), rounding=ROUND_HALF_UP))
    if not math.isfinite(v):
        return v
    return float(Decimal(repr(v)).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP))


def _safe_log(fn):
    def log(x):
        if x < 0:
            return None
        if x == 0:
            return -math.inf
        return fn(x)
    return log


def _pow(x, y):
    try:
        return float(math.pow(x, y))
    except (OverflowError, ValueError):
        return None


def _exp(base):
    def exp(x):
        try:
            return math.exp(x) if base is None else float(base) ** x
        except OverflowError:
            return math.inf
    return exp


_add(Fn("abs", 1, 1, _num_result(widen_int=True), lambda x: abs(x), args=("numlike",)))
_add(Fn("bin", 2, 2, _num_result(widen_int=True), bin_value, args=("numlike", "numlike")))
_add(Fn("floor", 2, 2, _num_result(widen_int=True), bin_value, args=("numlike", "numlike")))
_add(Fn("ceiling", 1, 1, _num_result(), lambda x: math.ceil(x) if type(x) is int else float(math.ceil(x)) if math.isfinite(x) else x,
        args=("num",)))
_add(Fn("exp", 1, 1, "real", _exp(None), args=("num",)))
_add(Fn("exp10", 1, 1, "real", _exp(10), args=("num",)))
_add(Fn("exp2", 1, 1, "real", _exp(2), args=("num",)))
_add(Fn("isfinite", 1, 1, "boolean", lambda x: math.isfinite(x), args=("num",)))
_add(Fn("isinf", 1, 1, "boolean", lambda x: math.isinf(x), args=("num",)))
_add(Fn("isnan", 1, 1, "boolean", lambda x: math.isnan(x), args=("num",)))
_add(Fn("log", 1, 1, "real", _safe_log(math.log), args=("num",)))
_add(Fn("log10", 1, 1, "real", _safe_log(math.log10), args=("num",)))
_add(Fn("log2", 1, 1, "real", _safe_log(math.log2), args=("num",)))
_add(Fn("pow", 2, 2, "real", _pow, args=("num", "num")))
_add(Fn("round", 1, 2, _num_result(), round_value, args=("num", "num"), literal_args=(1,)))
_add(Fn("sign", 1, 1, "real", lambda x: float((x > 0) - (x < 0)), args=("num",)))


# ---- conditional (evaluated lazily by the compiler; impl here is for completeness) ----
def _iif_returns(types):
    return common_type(types[1:3])


def _case_returns(types):
    return common_type([types[i] for i in range(1, len(types), 2)] + [types[-1]])


_add(Fn("iif", 3, 3, _iif_returns, None, null_safe=True))
# kql-subset.md: iff is used in the docs' own CEF example and in many Sentinel DCRs.
_add(Fn("iff", 3, 3, _iif_returns, None, null_safe=True, status=COMPAT,
        source="kql-subset.md: iff used in the docs' CEF example and in many Sentinel DCRs"))
_add(Fn("case", 3, None, _case_returns, None, null_safe=True))
_add(Fn("max_of", 2, None, lambda t: common_type(t), lambda *a: max((x for x in a if x is not None), default=None),
        null_safe=True))
_add(Fn("min_of", 2, None, lambda t: common_type(t), lambda *a: min((x for x in a if x is not None), default=None),
        null_safe=True))
# kql-subset.md: not() is not listed, but it appears in real DCRs.
_add(Fn("not", 1, 1, "boolean", lambda b: not b, args=("bool",), status=COMPAT,
        source="kql-subset.md: not() is not listed but appears in real DCRs"))


# ---- string ----
def countof(text, search, kind="normal"):
    if not search:
        return 0
    if kind == "regex":
        return sum(1 for _ in compile_regex(search).finditer(text))
    count, start = 0, text.find(search)
    while start >= 0:  # KQL counts overlapping matches: countof("aaa", "aa") == 2
        count += 1
        start = text.find(search, start + 1)
    return count


def extract(regex, group, text, type_name=None):
    compiled = compile_regex(regex)
    if type(group) is not int or not 0 <= group <= compiled.groups:
        return None if type_name not in (None, "string") else ""
    spans = compiled.search(text)
    if spans is None:
        return None if type_name not in (None, "string") else ""
    value = match_group(text, spans[group])
    if value is None:
        return "" if type_name in (None, "string") else None
    return CONVERTERS.get(type_name or "string", to_string)(value)


def extract_all(regex, *args):
    if len(args) == 1:
        groups, text = None, args[0]
    else:
        groups, text = args
    compiled = compile_regex(regex)
    wanted = groups if type(groups) is list else list(range(1, compiled.groups + 1))
    if not all(type(g) is int and 0 <= g <= compiled.groups for g in wanted):
        return None  # a group the pattern does not have (or not a group number)
    matches = list(compiled.finditer(text))
    if not matches:
        return None
    if compiled.groups == 0:
        return [text[m[0][0]:m[0][1]] for m in matches]
    if len(wanted) == 1:
        return [match_group(text, m[wanted[0]]) or "" for m in matches]
    return [[match_group(text, m[g]) or "" for g in wanted] for m in matches]


def indexof(text, lookup, start=0, length=-1, occurrence=1):
    if type(text) is not str:
        text = to_string(text)
    if type(lookup) is not str:
        lookup = to_string(lookup)
    if start < 0:
        start = max(len(text) + start, 0)
    if start > len(text) or occurrence < 1 or length < -1:
        return None if start > len(text) else -1
    end = len(text) if length == -1 else min(len(text), start + length)
    pos = start - 1
    for _ in range(occurrence):
        pos = text.find(lookup, pos + 1, end)
        if pos < 0:
            return -1
    return pos


def split(text, delimiter, index=None):
    if delimiter == "":
        parts = [text]
    else:
        parts = text.split(delimiter)
    if index is None:
        return parts
    if index < 0:
        index += len(parts)
    return [parts[index]] if 0 <= index < len(parts) else []


def substring(text, start, length=None):
    if type(text) is not str:
        text = to_string(text)
    start = max(start, 0)
    if length is None:
        return text[start:]
    return text[start:start + max(length, 0)]


def base64_decode(text):
    try:
        return base64.b64decode(text, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def kql_replace(regex, rewrite, text):
    """replace(regex, rewrite, text): every non-overlapping match replaced (RE2::GlobalReplace semantics).

    An invalid pattern raises RegexError (the record is dropped); an invalid rewrite gives null.
    """
    compiled = compile_regex(regex)
    expand = expand_rewrite(rewrite, compiled.groups)
    if expand is None:
        return None
    pieces, end = [], 0
    for spans in compiled.finditer(text):
        start, stop = spans[0]
        pieces.append(text[end:start])
        pieces.append(expand(text, spans))
        end = stop
    pieces.append(text[end:])
    return "".join(pieces)


def strcat(*args):
    return "".join(to_string(a) for a in args)


def strcat_delim(delim, *args):
    return to_string(delim).join(to_string(a) for a in args)


_add(Fn("base64_encodestring", 1, 1, "string", lambda s: base64.b64encode(to_string(s).encode("utf-8")).decode("ascii"),
        args=("string",)))
_add(Fn("base64_decodestring", 1, 1, "string", base64_decode, args=("string",)))
_add(Fn("countof", 2, 3, "long", countof, args=("string", "string", "string"), literal_args=(2,)))
_add(Fn("extract", 3, 4, lambda t: t[3] if len(t) > 3 and t[3] else "string", extract, args=("string", "num", "string"),
        null_safe=False))
_add(Fn("extract_all", 2, 3, "dynamic", extract_all, args=("string",)))
_add(Fn("indexof", 2, 5, "long", indexof, args=("any", "any", "num", "num", "num")))
_add(Fn("isempty", 1, 1, "boolean", lambda x: x is None or x == "", null_safe=True))
_add(Fn("isnotempty", 1, 1, "boolean", lambda x: not (x is None or x == ""), null_safe=True))
_add(Fn("isnull", 1, 1, "boolean", lambda x: x is None, null_safe=True))
_add(Fn("isnotnull", 1, 1, "boolean", lambda x: x is not None, null_safe=True))
_add(Fn("split", 2, 3, "dynamic", split, args=("string", "string", "num")))
_add(Fn("strcat", 1, None, "string", strcat, null_safe=True))
_add(Fn("strcat_delim", 3, None, "string", strcat_delim, null_safe=True))
_add(Fn("strlen", 1, 1, "long", lambda s: len(s), args=("string",)))
_add(Fn("substring", 2, 3, "string", substring, args=("any", "num", "num")))
_add(Fn("tolower", 1, 1, "string", lambda s: to_string(s).lower(), args=("string",)))
_add(Fn("toupper", 1, 1, "string", lambda s: to_string(s).upper(), args=("string",)))
def hash_sha256(s):
    import hashlib  # here, not at the top: a start-up cost only hash_sha256() needs

    return hashlib.sha256(to_string(s).encode("utf-8")).hexdigest()


_add(Fn("hash_sha256", 1, 1, "string", hash_sha256))
# kql-subset.md: replace listed in 2023, dropped in 2026, accepted per Azure-Sentinel PR #15099.
_add(Fn("replace", 3, 3, "string", kql_replace, args=("string", "string", "string"), status=COMPAT,
        source="kql-subset.md: replace accepted (Azure/Azure-Sentinel PR #15099; listed in the 2023 docs)"))



def gettype(x):
    cls = type(x)
    return {type(None): "null", bool: "bool", int: "long", float: "real", str: "string", dict: "dictionary", list: "array",
            _dt.datetime: "datetime", _dt.timedelta: "timespan", uuid.UUID: "guid"}.get(cls, "dynamic")


_add(Fn("gettype", 1, 1, "string", gettype, null_safe=True))


# ---- special (transform-only) ----
_CEF_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\-\[\]]+)=")


def _cef_unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value)


_CEF_HEADER = ("Version", "DeviceVendor", "DeviceProduct", "DeviceVersion", "DeviceEventClassID", "Name", "Severity")


def _cef_split_header(text: str):
    """'CEF:0|v|p|1|id|name|5|ext' -> ([header fields], extension); (None, text) without a CEF header."""
    idx = text.find("CEF:")
    if idx < 0:
        return None, text
    fields: list[str] = []
    current: list[str] = []
    i = idx + 4
    while i < len(text) and len(fields) < 7:
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if ch == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if len(fields) < 7:
        return None, text
    return fields, text[i:]


def parse_cef_dictionary(text):
    """A CEF message -> bag (ArcSight CEF spec). The docs read the pairs from its "Extension" key
    (data-collection-transformations-kql.md: ``parsedCefDictionaryMessage["Extension"]``), so the bag is
    ``{"Extension": {key: value}}`` plus the seven header fields (Version, DeviceVendor, DeviceProduct,
    DeviceVersion, DeviceEventClassID, Name, Severity) when the text has a 'CEF:' header. Header field
    names are this toolkit's choice (the docs show them only in a screenshot). Values may contain
    spaces; '\\=' and '\\\\' are escapes; ';' is reserved (replace it first, as the docs say)."""
    if type(text) is not str:
        return None
    header, extension = _cef_split_header(text)
    keys = [m for m in _CEF_KEY.finditer(extension) if not (m.start() > 0 and extension[m.start() - 1] == "\\")]
    pairs = {}
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(extension)
        pairs[m.group(1)] = _cef_unescape(extension[m.end():end].rstrip(" "))
    out = dict(zip(_CEF_HEADER, header)) if header else {}
    out["Extension"] = pairs
    return out


_add(Fn("parse_cef_dictionary", 1, 1, "dynamic", parse_cef_dictionary, args=("string",)))
_add(Fn("geo_location", 1, 1, "dynamic", lambda ip: {}, args=("string",)))
# 'columnifexists' is handled by the checker/compiler (it names a column); the entry carries its status.
_add(Fn("columnifexists", 2, 2, _same_as(1), None, null_safe=True, source="azure-contract.md §9: use columnifexists"))

# ---- known rejections (both profiles) ----
_REJECTIONS = {
    "coalesce": ("kql-subset.md: coalesce rejected, Azure/Azure-Sentinel PR #14286 ('Runtime scalar function provider not found')",
                 "use iff(isempty(a), b, a)"),
    "replace_string": ("kql-subset.md: replace_string rejected, Azure/Azure-Sentinel PR #15099", "use replace(regex, rewrite, text)"),
    "replace_regex": ("kql-subset.md: only replace is accepted (Azure/Azure-Sentinel PR #15099)", "use replace(regex, rewrite, text)"),
    "bag_pack": ("kql-subset.md: bag_pack rejected, Azure/Azure-Sentinel PR #15099", "use pack(key, value, ...)"),
    "base64_encode_tostring": ("azure-contract.md §9: use base64_encodestring instead", "use base64_encodestring(s)"),
    "base64_decode_tostring": ("azure-contract.md §9: use base64_decodestring instead", "use base64_decodestring(s)"),
    "column_ifexists": ("azure-contract.md §9: use columnifexists instead of column_ifexists", "use columnifexists(name, default)"),
}
for _name, (_source, _fix) in _REJECTIONS.items():
    _add(Fn(_name, 0, None, None, None, status=REJECTED, source=_source, fix=_fix))
for _name in ("bag_merge", "bag_keys", "bag_remove_keys", "bag_set_key", "bag_has_key", "bag_unpack"):
    _add(Fn(_name, 0, None, None, None, status=REJECTED,
            source="kql-subset.md: bag_* functions rejected (Azure/Azure-Sentinel PR #15099)", fix="build bags with pack(...)"))

# Kusto functions a user may expect but DCR transforms do not list: named in the error message.
KNOWN_KUSTO_ONLY = {
    "ipv4_is_private", "ipv4_is_match", "ipv4_compare", "ipv6_compare", "ipv4_is_in_range", "parse_ipv4", "parse_ipv6",
    "parse_url", "parse_path", "parse_user_agent", "format_datetime", "format_timespan", "todecimal", "trim_start",
    "trim_end", "reverse", "strrep", "array_slice", "array_index_of", "set_union", "isascii", "url_decode", "url_encode",
    "unixtime_seconds_todatetime", "unixtime_milliseconds_todatetime", "datetime_utc_to_local", "has_any_index",
    "tohex", "toarray", "toboolean", "monthofyear", "trim", "hash", "hash_md5", "hash_sha1", "new_guid", "rand", "sqrt", "percentile", "count",
    "dcount", "sum", "avg", "min", "max", "make_set", "make_list", "arg_max", "arg_min", "column_ifexists", "translate",
    "parse_csv", "regex_quote", "iff",
}
