"""Runtime value representation and conversions shared by parser, functions and evaluator.

Representation (inside the evaluator):
  string   -> str (KQL strings are never null: a null string is "")
  int/long -> int;  real -> float;  boolean -> bool
  datetime -> naive ``datetime.datetime`` in UTC (microsecond precision; KQL has 100 ns ticks)
  timespan -> ``datetime.timedelta``
  guid     -> canonical lower-case string "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (the checker knows it is a guid)
  dynamic  -> JSON-decoded Python value (dict, list, str, int, float, bool, None)
  null     -> None
Records going out of ``Transform.run`` are JSON-ready (``to_json_value``):
datetimes as ISO 8601 with 'Z' (fraction trimmed, up to 7 digits), timespans in KQL
format ``[-][d.]hh:mm:ss[.fffffff]``, guids as lower-case strings, dynamic as is.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import uuid

EPOCH = _dt.datetime(1970, 1, 1)
_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*"
    r"(Z|z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$"
)
_SLASH_RE = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z)?\s*$")
_RFC850 = ("%A, %d-%b-%y %H:%M:%S %Z", "%a, %d-%b-%y %H:%M:%S %Z")
_CTIME = ("%a %b %d %H:%M:%S %Y",)


_UTC = _dt.UTC


def parse_datetime(text: str) -> _dt.datetime | None:
    """The datetime formats todatetime() accepts (Kusto 'datetime' doc: ISO 8601, RFC 822/1123, RFC 850, sortable)."""
    if 19 <= len(text) <= 33 and text[10:11] == "T":
        if text[-1] == "Z":  # UTC: the naive value of the text before it (no aware datetime to convert back)
            try:
                value = _dt.datetime.fromisoformat(text[:-1])
            except ValueError:
                pass  # e.g. '...:00.Z', which fromisoformat reads only with its 'Z'
            else:
                if value.tzinfo is None:
                    return value
        try:  # fast path: what senders usually post ("2024-05-01T10:00:00.123Z")
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if value.tzinfo is not None:
                value = value.astimezone(_UTC).replace(tzinfo=None)
            return value
    m = _ISO_RE.match(text) or _SLASH_RE.match(text)
    if m:
        year, month, day, hour, minute, second, frac, zone = m.groups()
        try:
            micro = int((frac or "0")[:6].ljust(6, "0"))
            value = _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
        except ValueError:
            return None
        if zone and zone[0] in "+-":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            value -= sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return value
    text = text.strip()
    if not text:
        return None
    import email.utils  # here, not at the top: it pulls in socket and random, which start-up does not need

    try:
        parsed = email.utils.parsedate_to_datetime(text)  # RFC 822 / 1123
        if parsed is not None:
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(_dt.UTC).replace(tzinfo=None)
            return parsed
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _RFC850 + _CTIME:
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def format_datetime(value: _dt.datetime) -> str:
    """ISO 8601 with 'Z'; fraction trimmed of trailing zeros (as KQL prints it)."""
    if value.microsecond:
        return value.isoformat().rstrip("0") + "Z"
    return value.isoformat() + "Z"


_TS_RE = re.compile(r"^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*$")
_TS_UNIT_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")


def parse_timespan_text(text: str) -> _dt.timedelta | None:
    """'1.02:03:04.5', '02:03', '5m', '10' (days), as timespan()/totimespan() accept them."""
    from provision.kql.lexer import TIMESPAN_UNITS

    m = _TS_RE.match(text)
    if m:
        neg, days, hours, minutes, seconds, frac = m.groups()
        ticks = ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds or 0)
        ticks = ticks * 10_000_000 + int((frac or "0").ljust(7, "0"))
        value = _dt.timedelta(microseconds=ticks // 10)
        return -value if neg else value
    m = _TS_UNIT_RE.match(text)
    if m and m.group(2).lower() in TIMESPAN_UNITS:
        return _dt.timedelta(microseconds=float(m.group(1)) * TIMESPAN_UNITS[m.group(2).lower()] / 10)
    try:
        return _dt.timedelta(days=float(text))
    except (ValueError, OverflowError):
        return None


def format_timespan(value: _dt.timedelta) -> str:
    """KQL timespan text: [-][d.]hh:mm:ss[.fffffff]."""
    micro = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    seconds, micro = divmod(micro, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    text = f"{sign}{str(days) + '.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    if micro:
        text += f".{micro:06d}0"
    return text


def to_json_value(value, kql_type: str | None = None):
    """A runtime value as it is written to the store (see module docstring)."""
    if value is None or value is True or value is False:
        return value
    cls = type(value)
    if cls is _dt.datetime:
        return format_datetime(value)
    if cls is _dt.timedelta:
        return format_timespan(value)
    if cls is uuid.UUID:
        return str(value)
    if cls is float and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    # A container comes back as it is when nothing inside it changes (the common case: dynamic input passed
    # through is JSON already); else it is copied, each value converted once (converting one twice, to test and
    # then to copy, doubles the work at every level of a deep value).
    if cls is dict:
        for index, v in enumerate(value.values()):
            if type(v) not in _JSON_SCALARS and (converted := to_json_value(v)) is not v:
                items = list(value.items())
                out = dict(items[:index])
                out[items[index][0]] = converted
                for k, rest in items[index + 1:]:
                    out[k] = rest if type(rest) in _JSON_SCALARS else to_json_value(rest)
                return out
        return value
    if cls is list:
        for index, v in enumerate(value):
            if type(v) not in _JSON_SCALARS and (converted := to_json_value(v)) is not v:
                return [*value[:index], converted, *(x if type(x) in _JSON_SCALARS else to_json_value(x) for x in value[index + 1:])]
        return value
    return value


_JSON_SCALARS = (str, int, bool, type(None))


def format_real(value: float) -> str:
    """tostring(real): shortest round-trip text, integral values without '.0' (KQL prints 1.0 as 1)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def to_string(value) -> str:
    """tostring(): null -> "", dynamic -> compact JSON, datetime/timespan/guid canonical text."""
    if value is None:
        return ""
    cls = type(value)
    if cls is str:
        return value
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if cls is float:
        return format_real(value)
    if cls is _dt.datetime:
        return format_datetime(value)
    if cls is _dt.timedelta:
        return format_timespan(value)
    if cls is uuid.UUID:
        return str(value)
    return json.dumps(to_json_value(value), ensure_ascii=False, separators=(",", ":"))
