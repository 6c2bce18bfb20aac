"""``provision infer``: sample rows -> a scenario (a custom table, the stream as the rows arrive, a flow and its transform).

Owns: reading a sample text (a JSON array, JSON lines, or Data Collector API payloads one after
another), the type of each field, the table column each field becomes (renamed where the table
cannot take its name), the choice of ``TimeGenerated``, the transform that maps stream to table,
the scenario text with its comments, and, for ``--into``, the additions to an existing scenario.
Pure: it is given text (and, for ``--into``, a loaded ``Scenario``) and returns text; no I/O, no network.

Rules are the project's own, so that what infer writes is what ``validate`` and the engine accept:
column names and reserved names from ``provision.scenario.rules`` ([DOC-TABLE]), system columns from
``provision.scenario.tables``, types from ``provision.scenario.types``, datetime and guid values from
the KQL engine's converters (``kql.values.parse_datetime``, ``kql.functions.to_guid``), KQL name
quoting from ``kql.printer.format_name``. The rules infer adds are in docs/infer.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from provision.errors import SpecError
from provision.kql import MAX_QUERY_LENGTH
from provision.kql.functions import to_guid
from provision.kql.printer import format_name
from provision.kql.values import parse_datetime
from provision.scenario.model import Scenario
from provision.scenario.rules import COLUMN_NAME, CUSTOM_TABLE_NAME, MAX_COLUMNS, RESERVED_COLUMNS, SRC_MAX_COLUMNS
from provision.scenario.tables import SYSTEM_COLUMNS

SRC_NAMES = "azure-contract.md §3.2 [DOC-TABLE] (column names: a letter, then letters, digits, '_'; 2-45 characters; reserved names)"
ROWS_HINT = "give a JSON array of objects, one JSON object per line, or Data Collector API payloads (JSON arrays of objects)"

# Kinds a value is seen as; the first seven are the column types infer writes (table spelling in TABLE_TYPE).
BOOLEAN, LONG, REAL, DATETIME, GUID, STRING, DYNAMIC, NULL = "boolean", "long", "real", "datetime", "guid", "string", "dynamic", "null"
TABLE_TYPE = {BOOLEAN: "boolean", LONG: "long", REAL: "real", DATETIME: "dateTime", GUID: "guid", STRING: "string", DYNAMIC: "dynamic"}
STREAM_TYPE = {BOOLEAN: "boolean", LONG: "long", REAL: "real", DATETIME: "datetime", GUID: "string", STRING: "string", DYNAMIC: "dynamic"}
_STRINGISH = frozenset({DATETIME, GUID, STRING})

LONG_RANGE = (-(2**63), 2**63 - 1)  # KQL long is 64-bit signed; a JSON integer outside it is kept as real
MAX_FIELDS = MAX_COLUMNS - 1  # the table's 500 columns include TimeGenerated (azure-contract.md §8 [DOC-WSLIM])
MAX_TRACKED = 20_000  # distinct fields counted one by one; past this, further new names are only counted (memory stays bounded)
MAX_NAME = 45

# The strings infer takes as datetime (docs/infer.md "Types"). Each must also parse with the engine's own
# parse_datetime (what todatetime() and a datetime stream column accept), so '2024-02-30' stays a string.
# ISO 8601: a date alone, or date and time ('T' or one space) with optional seconds, fraction and Z/offset.
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
# RFC 1123 (HTTP dates, 'Tue, 01 May 2024 10:00:00 GMT').
_RFC1123 = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                      r"\d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})")
# A GUID only in its canonical 8-4-4-4-12 form: to_guid also takes 32 bare hex digits and braces, but a
# 32-hex string is far more often a hash (MD5) than an id, and braces would be changed by the conversion.
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# The local Azure's seeded workspace (as scenarios/quickstart.yaml): the file validates and applies with --cloud local as written.
LOCAL_WORKSPACE = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/Microsoft.OperationalInsights/workspaces/law-local"
_WS = re.compile(r"[ \t\n\r]*")
_RESERVED = frozenset(n.casefold() for n in (*RESERVED_COLUMNS, *SYSTEM_COLUMNS, "TimeGenerated"))
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})  # YAML 1.1 reads these bare keys as bool/null


# -- reading -------------------------------------------------------------------------------------

def read_samples(text: str, source: str) -> Iterator[dict]:
    """The rows of a sample text, one by one.

    The text is one or more JSON values one after another (so a JSON array, JSON lines, and several
    Data Collector API request bodies all read the same way): each value is an object (one row) or an
    array of objects (a payload). Strict JSON: NaN and Infinity are refused (not JSON, and the Logs
    Ingestion API takes UTF-8 JSON, azure-contract.md §7). Every problem is a SpecError naming
    ``source`` with line and column. ``source`` is how messages name the file.
    """
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark (Windows editors write one) is not part of the JSON
    if not text.strip():
        raise SpecError(f"{source} is empty: there are no rows to infer from", hint=ROWS_HINT)
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    pos, end, values, rows = 0, len(text), 0, 0
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        if pos >= end:
            break
        start = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            line, column = _line_column(text, error.pos)
            raise SpecError(f"{source}:{line}:{column}: not JSON: {error.msg}", hint=ROWS_HINT) from None
        except _Constant as error:  # NaN / Infinity: point at the word
            where = _line_column(text, text.find(error.name, start))
            raise SpecError(f"{source}:{where[0]}:{where[1]}: not JSON: {error.name} is not a JSON value", hint=ROWS_HINT) from None
        except ValueError as error:  # e.g. an integer of more digits than Python converts (sys.get_int_max_str_digits)
            line, column = _line_column(text, start)
            raise SpecError(f"{source}:{line}:{column}: cannot read this value: {error}", hint=ROWS_HINT) from None
        except RecursionError:
            line, column = _line_column(text, start)
            raise SpecError(f"{source}:{line}:{column}: a value is nested too deeply to read", hint="the service takes JSON of ordinary depth") from None
        values += 1
        if type(value) is dict:
            rows += 1
            yield value
        elif type(value) is list:
            for index, item in enumerate(value, 1):
                if type(item) is not dict:
                    line, column = _line_column(text, start)
                    raise SpecError(f"{source}:{line}:{column}: item {index} of the array that starts here is {_json_kind(item)}, not a JSON object",
                                    hint=ROWS_HINT)
                rows += 1
                yield item
        else:
            line, column = _line_column(text, start)
            raise SpecError(f"{source}:{line}:{column}: value {values} is {_json_kind(value)}, not a JSON object or an array of objects",
                            hint=ROWS_HINT)
    if rows == 0:
        raise SpecError(f"{source} holds no rows (only empty arrays)", hint=ROWS_HINT)


class _Constant(Exception):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them; JSON has no such values."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str):
    raise _Constant(name)


def _line_column(text: str, pos: int) -> tuple[int, int]:
    pos = max(pos, 0)
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _json_kind(value) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array", dict: "an object"}[type(value)]


# -- statistics ----------------------------------------------------------------------------------

@dataclass
class FieldStats:
    """What the sample holds for one field: rows per kind (null included) and the first value of each kind."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, object] = field(default_factory=dict)

    @property
    def present(self) -> int:
        return sum(self.counts.values())

    @property
    def kinds(self) -> list[str]:
        """The kinds seen, nulls aside (nulls never decide a type)."""
        return [k for k in self.counts if k != NULL]


@dataclass
class Sample:
    rows: int
    fields: dict[str, FieldStats]  # in order of first appearance
    untracked: int = 0  # distinct field names past MAX_TRACKED, counted only


def string_kind(text: str) -> str:
    """``datetime``, ``guid`` or ``string`` for a JSON string (the forms are in the module's patterns)."""
    n = len(text)
    if n == 36 and text[8] == "-" and _GUID.fullmatch(text) and to_guid(text) is not None:
        return GUID
    shaped = n >= 10 and ((text[4] == "-" and _ISO.fullmatch(text)) or (text[3] == "," and _RFC1123.fullmatch(text)))
    if shaped and parse_datetime(text) is not None:
        return DATETIME
    return STRING


def value_kind(value) -> str:
    cls = type(value)
    if cls is str:
        return string_kind(value)
    if cls is bool:
        return BOOLEAN
    if cls is int:
        return LONG if LONG_RANGE[0] <= value <= LONG_RANGE[1] else REAL
    if cls is float:
        return REAL  # written with a fraction or an exponent: 'ever fractional is real'
    if cls is dict or cls is list:
        return DYNAMIC
    return NULL


_KIND_OF_TYPE = {bool: BOOLEAN, float: REAL, dict: DYNAMIC, list: DYNAMIC, type(None): NULL}  # json.loads gives no other types


def collect(rows) -> Sample:
    """Count, for every field of every row, the kind of its value.

    ``value_kind`` inlined: this loop runs once per value (bench/infer.py), and most strings are
    told apart from datetimes and GUIDs by their length and one character, without a call.
    """
    fields: dict[str, FieldStats] = {}
    untracked: set[str] = set()
    count = 0
    low, high = LONG_RANGE
    kind_of_type = _KIND_OF_TYPE
    for row in rows:
        count += 1
        for name, value in row.items():
            cls = type(value)
            if cls is str:
                n = len(value)
                kind = string_kind(value) if n >= 10 and (n == 36 or value[4] == "-" or value[3] == ",") else STRING
            elif cls is int:
                kind = LONG if low <= value <= high else REAL
            else:
                kind = kind_of_type.get(cls) or value_kind(value)
            stats = fields.get(name)
            if stats is None:
                if len(fields) >= MAX_TRACKED:
                    if len(untracked) < MAX_TRACKED:
                        untracked.add(name)
                    continue
                stats = fields[name] = FieldStats(name)
            counts = stats.counts
            if kind in counts:
                counts[kind] += 1
            else:
                counts[kind] = 1
                stats.examples[kind] = value
    return Sample(count, fields, len(untracked))


# -- decisions -----------------------------------------------------------------------------------

def decide_kind(stats: FieldStats) -> tuple[str, str]:
    """(kind, comment): the field's type, and why when it was not the only kind seen.

    long + real -> real; any string kind (string, datetime, guid) with anything else -> string;
    other mixes (boolean with numbers, scalars with objects or arrays) -> dynamic, which keeps
    each value as it came. Only nulls -> string, said in the comment.
    """
    kinds = stats.kinds
    if not kinds:
        return STRING, "only null in the sample: declared string; change it when you know the type"
    if len(kinds) == 1:
        return kinds[0], ""
    found = set(kinds)
    if found == {LONG, REAL}:
        result = REAL
    elif found & _STRINGISH:
        result = STRING
    else:
        result = DYNAMIC
    seen = ", ".join(f"{k} in {stats.counts[k]} row(s) (e.g. {_example(stats.examples[k])})" for k in kinds)
    return result, f"widened to {result}: {seen}"


def _example(value) -> str:
    text = json.dumps(value, ensure_ascii=True)  # ASCII, one line: safe in a YAML comment and on any terminal
    return text if len(text) <= 40 else text[:37] + "..."


def _unusable(name: str) -> str | None:
    """Why a field name cannot be a stream column at all, or None.

    The stream declares the JSON key as written; a key with control, format or surrogate characters
    fails ``validate`` (NameCharacter, scenario/names.py), and an empty key names nothing.
    """
    if not name:
        return "an empty name cannot be declared in a stream"
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Cn"):
            return f"its name holds U+{ord(ch):04X}, which no stream column name may contain"
    return None


def table_name_for(name: str) -> str:
    """A column name the table takes, as close to ``name`` as the rules allow (uniqueness is the caller's)."""
    if COLUMN_NAME.match(name) and name.casefold() not in _RESERVED:
        return name
    folded = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    base = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_only).strip("_")
    if not base or not base[0].isalpha():
        base = "Field_" + base if base else "Field"
    if len(base) < 2 or base.casefold() in _RESERVED:
        base += "Value"  # the fix rules.py suggests for a reserved name
    return base[:MAX_NAME]


def rename_reason(name: str) -> str:
    if name.casefold() in _RESERVED:
        return "reserved in Log Analytics" if name.casefold() != "timegenerated" else "TimeGenerated is the table's time column"
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    if len(name) < 2:
        return "shorter than 2 characters"
    if not name[0].isascii() or not name[0].isalpha():
        return "does not start with an ASCII letter"
    return "holds characters other than ASCII letters, digits and '_'"


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        suffix = f"_{number}"
        name = base[:MAX_NAME - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


@dataclass
class InferredColumn:
    field: str  # the JSON key (the stream column)
    column: str  # the table column
    kind: str
    comment: str = ""
    renamed: str = ""  # why the column is not named as the field


@dataclass
class Inference:
    table: str
    stream: str
    rule: str
    scenario_name: str
    rows: int
    columns: list[InferredColumn]
    time_field: InferredColumn | None
    time_expression: str  # KQL for TimeGenerated ('' when the stream already carries it)
    time_comment: str
    transform: str
    left_out: list[tuple[str, str]]  # (field, why)
    notes: list[str] = field(default_factory=list)  # the report for people, one item per line

    @property
    def renames(self) -> list[InferredColumn]:
        return [c for c in self.columns if c.renamed]


def infer(sample: Sample, table: str, stream: str | None = None, time_field: str | None = None, source: str = "the sample") -> Inference:
    """Decide types, names, TimeGenerated and the transform for ``table`` from ``sample``."""
    if not CUSTOM_TABLE_NAME.match(table):
        raise SpecError(f"--table {table!r} is not a custom table name",
                        hint="infer writes a custom table: start with a letter, use letters, digits and '_', end with _CL, 4-63 characters")
    base = table[:-3]
    stream = stream or f"Custom-{base}Raw"
    if not stream.startswith("Custom-") or not re.fullmatch(r"Custom-[A-Za-z0-9_.-]+", stream) or ".." in stream:
        raise SpecError(f"--stream {stream!r} is not a stream name the ingestion URL can carry",
                        hint="write Custom- followed by letters, digits, '-', '_' or '.' (azure-contract.md §5.2 [DOC-DCR-STRUCT])")
    left_out: list[tuple[str, str]] = []
    usable: list[tuple[FieldStats, str, str]] = []
    for stats in sample.fields.values():
        why = _unusable(stats.name)
        if why:
            left_out.append((stats.name, why))
            continue
        kind, comment = decide_kind(stats)
        if stats.present < sample.rows:
            sparse = f"in {stats.present} of {sample.rows} rows"
            comment = f"{comment}; {sparse}" if comment else sparse
        usable.append((stats, kind, comment))
    if not usable:
        # a stream must declare at least one column (StreamEmpty in validate)
        why = f" ({len(left_out)} left out: {left_out[0][1]})" if left_out else ""
        raise SpecError(f"the rows of {source} have no field a stream can declare{why}", hint="give rows with at least one named field")
    chosen, time_comment = _choose_time(usable, sample, time_field, source)
    others = [u for u in usable if u is not chosen]
    if len(others) > MAX_FIELDS:
        # Keep the fields most rows carry (first appearance breaks ties): the table takes 500 columns.
        ranked = sorted(range(len(others)), key=lambda i: (-others[i][0].present, i))
        keep = set(ranked[:MAX_FIELDS])
        reason = f"the table takes at most {MAX_COLUMNS} columns with TimeGenerated ({SRC_MAX_COLUMNS}); the {MAX_FIELDS} fields most rows carry are kept"
        left_out += [(others[i][0].name, reason) for i in range(len(others)) if i not in keep]
        others = [others[i] for i in sorted(keep)]
    if sample.untracked:
        left_out.append((f"{sample.untracked:,} further distinct field name(s)", f"past {MAX_TRACKED:,} distinct fields infer stops tracking new names"))
    # the time field's own name stays a stream column until project-away: no renamed column may take it
    columns = _name_columns(others, (chosen[0].name,) if chosen is not None else ())
    time_column = None
    time_expression = ""
    if chosen is not None:
        time_column = InferredColumn(chosen[0].name, "TimeGenerated", DATETIME, chosen[2])
        if chosen[0].name != "TimeGenerated" or chosen[0].present < sample.rows or NULL in chosen[0].counts:
            ref = format_name(chosen[0].name)
            complete = chosen[0].present == sample.rows and NULL not in chosen[0].counts
            time_expression = ref if complete else f"iif(isnull({ref}), now(), {ref})"
    else:
        time_expression = "now()"
    transform = _transform(columns, time_column, time_expression)
    if len(transform) > MAX_QUERY_LENGTH:
        raise SpecError(f"the transform infer would write is {len(transform):,} characters; a DCR takes at most {MAX_QUERY_LENGTH:,} "
                        "(azure-contract.md §8 [DOC-LIMITS-DCR])",
                        hint="most of it renames fields the table cannot take: rename them at the sender, or infer on fewer fields")
    lowered = base.lower()
    result = Inference(table, stream, f"dcr-{lowered}"[:64], lowered, sample.rows, columns, time_column, time_expression,
                       time_comment, transform, left_out)
    result.notes = _notes(result)
    return result


def _choose_time(usable, sample: Sample, time_field: str | None, source: str):
    """(the field that becomes TimeGenerated or None, the comment saying how TimeGenerated is set)."""
    datetimes = [u for u in usable if u[1] == DATETIME]
    if time_field is not None:
        match = next((u for u in usable if u[0].name == time_field), None)
        if match is None:
            import difflib

            close = difflib.get_close_matches(time_field, [u[0].name for u in usable], n=3)
            raise SpecError(f"--time-field {time_field!r} is not a field of {source}",
                            hint=f"did you mean {', '.join(repr(c) for c in close)}?" if close else
                            f"fields holding datetimes: {', '.join(repr(u[0].name) for u in datetimes) or 'none'}")
        if match[1] != DATETIME:
            shown = ", ".join(f"{k} (e.g. {_example(match[0].examples[k])})" for k in match[0].kinds) or "only null"
            raise SpecError(f"--time-field {time_field!r} does not hold datetimes in {source}: {shown}",
                            hint="TimeGenerated needs ISO 8601 ('2024-05-01T10:00:00Z', with or without an offset) or RFC 1123 text in every row")
        return match, f"from {time_field!r} (--time-field)" + _sparse_time(match, sample)
    named = next((u for u in datetimes if u[0].name == "TimeGenerated"), None)
    if named is not None:
        return named, "the rows carry TimeGenerated" + _sparse_time(named, sample)
    if len(datetimes) == 1:
        return datetimes[0], f"from {datetimes[0][0].name!r}, the one datetime field" + _sparse_time(datetimes[0], sample)
    if datetimes:
        names = ", ".join(repr(u[0].name) for u in datetimes)
        return None, f"now(), the arrival time: {len(datetimes)} datetime fields ({names}); choose one with --time-field"
    return None, "now(), the arrival time: the sample has no datetime field; name one with --time-field if the rows carry their time"


def _sparse_time(chosen, sample: Sample) -> str:
    missing = sample.rows - chosen[0].present + chosen[0].counts.get(NULL, 0)
    return f"; now() where it is missing or null ({missing} of {sample.rows} rows)" if missing else ""


def _name_columns(fields, reserved: tuple[str, ...] = ()) -> list[InferredColumn]:
    """Table columns for the fields: names the table takes first (in order), then the renamed ones."""
    taken = {"timegenerated", *(name.casefold() for name in reserved)}
    names: dict[int, str] = {}
    for i, (stats, _kind, _comment) in enumerate(fields):
        if table_name_for(stats.name) == stats.name and stats.name.casefold() not in taken:
            names[i] = stats.name
            taken.add(stats.name.casefold())
    columns = []
    for i, (stats, kind, comment) in enumerate(fields):
        if i in names:
            columns.append(InferredColumn(stats.name, names[i], kind, comment))
            continue
        own = table_name_for(stats.name)
        reason = rename_reason(stats.name) if own != stats.name else "differs only by case from another field"
        columns.append(InferredColumn(stats.name, _unique(own, taken), kind, comment, reason))
    return columns


def _transform(columns: list[InferredColumn], time_column: InferredColumn | None, time_expression: str) -> str:
    """``source`` | renames | TimeGenerated and toguid() | the time field's own column away."""
    steps = ["source"]
    renames = [f"{format_name(c.column)} = {format_name(c.field)}" for c in columns if c.renamed]
    if renames:
        steps.append("project-rename " + ", ".join(renames))
    extends = []
    if time_expression:
        extends.append(f"TimeGenerated = {time_expression}")
    extends += [f"{format_name(c.column)} = toguid({format_name(c.column)})" for c in columns if c.kind == GUID]
    if extends:
        steps.append("extend " + ", ".join(extends))
    if time_column is not None and time_column.field != "TimeGenerated":
        steps.append("project-away " + format_name(time_column.field))
    return "\n| ".join(steps)


def _notes(result: Inference) -> list[str]:
    notes = [f"{result.rows} row(s), {len(result.columns) + 1} column(s) in {result.table} (TimeGenerated included)",
             f"TimeGenerated: {result.time_comment}"]
    notes += [f"renamed {c.field!r} -> {c.column}: {c.renamed}" for c in result.renames]
    notes += [f"{c.column}: {c.comment}" for c in result.columns if c.comment.startswith("widened")]
    notes += [f"left out {names}: {why}" for names, why in group_left_out(result.left_out, repr)]
    return notes


def group_left_out(left_out: list[tuple[str, str]], show) -> list[tuple[str, str]]:
    """(names, why) per reason, in order: ``'a'``, or ``3 fields ('a', 'b', 'c')``, at most 10 names shown."""
    groups: dict[str, list[str]] = {}
    for name, why in left_out:
        groups.setdefault(why, []).append(name)
    result = []
    for why, names in groups.items():
        if len(names) == 1:
            result.append((show(names[0]), why))
            continue
        shown = ", ".join(show(n) for n in names[:10]) + (f", ... and {len(names) - 10:,} more" if len(names) > 10 else "")
        result.append((f"{len(names):,} fields ({shown})", why))
    return result


# -- writing -------------------------------------------------------------------------------------

def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar the scenario loader reads back as the same string.

    Plain when it is an identifier YAML does not read as something else; otherwise double-quoted
    with escapes. ``${`` is written ``$${``: the loader substitutes variables in keys and values.
    """
    text = text.replace("${", "$${")
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and ch not in "\u2028\u2029\x85":
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""


def render_scenario(result: Inference, source: str) -> str:
    """The scenario file: header comments, the table, the rule with its stream and flow."""
    lines = [f"# Inferred by 'provision infer' from {_example(source)} ({result.rows} row(s)); review the types before you apply it.",
             "# Types: ISO 8601 or RFC 1123 text -> datetime, canonical GUID text -> guid (declared string in the stream,",
             "# converted with toguid()), objects and arrays -> dynamic; a field seen with several types is widened (see its comment).",
             f"# TimeGenerated: {result.time_comment}."]
    if result.left_out:
        lines.append(f"# Left out ({len(result.left_out):,} field(s), not in the stream or the table):")
        lines += [f"#   {names}: {why}" for names, why in group_left_out(result.left_out, _example)]
    lines += [
        f"name: {result.scenario_name}",
        "location: ${LOCATION:-westeurope}",
        f"workspace: ${{WORKSPACE_ID:-${{PROVISION_LOCAL_WORKSPACE_ID:-{LOCAL_WORKSPACE}}}}}",
        "resource_group: ${RESOURCE_GROUP:-rg-local}",
        "",
        "tables:",
        f"  {result.table}:",
        "    plan: Analytics",
        "    columns:",
        f"      TimeGenerated: dateTime{_comment(result.time_comment)}",
    ]
    for c in result.columns:
        notes = [f"from {_example(c.field)}: {c.renamed}"] if c.renamed else []
        if c.kind == GUID:
            notes.append("GUID text, converted with toguid()")
        if c.comment:
            notes.append(c.comment)
        lines.append(f"      {yaml_scalar(c.column)}: {TABLE_TYPE[c.kind]}{_comment('; '.join(notes))}")
    lines += ["", "rules:", f"  {result.rule}:", f"    description: Rows inferred from a sample into {result.table}", "    streams:",
              f"      {result.stream}:"]
    stream_columns = ([result.time_field] if result.time_field else []) + result.columns
    for c in stream_columns:
        lines.append(f"        {yaml_scalar(c.field)}: {STREAM_TYPE[c.kind]}")
    lines += ["    flows:", f"      - stream: {result.stream}", f"        table: {result.table}", "        transform: |-"]
    lines += [f"          {line.replace('${', '$${')}" for line in result.transform.splitlines()]
    lines += ["", "# publishers:", "#   - app_id: <the sending app's application (client) id>", ""]
    return "\n".join(lines)


# -- --into --------------------------------------------------------------------------------------

def additions(sample: Sample, scenario: Scenario, table: str, source: str) -> tuple[str, int]:
    """(text to print, number of new fields): what the scenario needs for fields it does not declare yet.

    Existing column types are never changed: a field whose sample type differs is reported, not touched.
    """
    existing = scenario.tables.get(table)
    if existing is None:
        raise SpecError(f"{scenario.path} has no table {table!r}", hint=f"tables: {', '.join(scenario.tables) or 'none'}")
    flows = [(rule, flow) for rule in scenario.rules.values() for flow in rule.flows if flow.table == table]
    if not flows:
        raise SpecError(f"no flow of {scenario.path} writes to {table!r}", hint="add a rule with a flow to the table first, or infer a new scenario")
    rule, flow = flows[0]
    stream = flow.streams[0]
    derived = stream in rule.derived_streams
    stream_types = {c.name: c.type for c in rule.streams.get(stream, ())}
    table_types = {c.name: c.type for c in existing.columns}
    taken = {name.casefold() for name in table_types}
    new: list[InferredColumn] = []
    kept: list[str] = []
    left_out: list[tuple[str, str]] = []
    for stats in sample.fields.values():
        kind, comment = decide_kind(stats)
        declared = stats.name in stream_types if not derived else stats.name in table_types
        if declared:
            have = stream_types.get(stats.name) if not derived else table_types.get(stats.name)
            want = STREAM_TYPE[kind] if not derived else TABLE_TYPE[kind]
            if have is not None and have.lower() != want.lower() and stats.kinds:
                kept.append(f"{stats.name!r} stays {have} (the sample suggests {want}{'; ' + comment if comment else ''})")
            continue
        why = _unusable(stats.name)
        if why:
            left_out.append((stats.name, why))
            continue
        own = table_name_for(stats.name)
        renamed = "" if own == stats.name and own.casefold() not in taken else (
            rename_reason(stats.name) if own != stats.name else "differs only by case from an existing column")
        new.append(InferredColumn(stats.name, _unique(own, taken), kind, comment, renamed))
    if len(existing.columns) + len(new) > MAX_COLUMNS:
        room = max(MAX_COLUMNS - len(existing.columns), 0)
        left_out += [(c.field, f"the table would pass {MAX_COLUMNS} columns ({SRC_MAX_COLUMNS})") for c in new[room:]]
        new = new[:room]
    label = f"{rule.name}:{flow.index + 1}"
    out = [f"# additions for {table} in {scenario.path} from {_example(source)} ({sample.rows} row(s)): {len(new)} new field(s)"]
    if new:
        out += ["tables:", f"  {table}:", "    columns:"]
        for c in new:
            notes = [f"from {_example(c.field)}: {c.renamed}"] if c.renamed else []
            if c.comment:
                notes.append(c.comment)
            out.append(f"      {yaml_scalar(c.column)}: {TABLE_TYPE[c.kind]}{_comment('; '.join(notes))}")
        if derived:
            out.append(f"# the stream {stream} of rule {rule.name} is derived from the table: it gains these columns by itself")
            out += [f"# the sender must send {_example(c.field)} as {c.column} (a derived stream takes the table's names), or declare a stream"
                    for c in new if c.renamed]
        else:
            out += ["rules:", f"  {rule.name}:", "    streams:", f"      {stream}:"]
            out += [f"        {yaml_scalar(c.field)}: {STREAM_TYPE[c.kind]}" for c in new]
        steps = []
        renames = [f"{format_name(c.column)} = {format_name(c.field)}" for c in new if c.renamed]
        if renames:
            steps.append("| project-rename " + ", ".join(renames))
        guids = [f"{format_name(c.column)} = toguid({format_name(c.column)})" for c in new if c.kind == GUID and not derived]
        if guids:
            steps.append("| extend " + ", ".join(guids))
        if steps and not derived:
            out.append(f"# and append to the transform of flow {label}:")
            out += [f"#   {s}" for s in steps]
    else:
        out.append("# the scenario already declares every field of the sample")
    if kept:
        out.append("# existing columns are never changed:")
        out += [f"#   {k}" for k in kept]
    out += [f"# left out {names}: {why}" for names, why in group_left_out(left_out, _example)]
    return "\n".join(out) + "\n", len(new)
