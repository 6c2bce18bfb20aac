"""Column types: the table spellings, the stream spellings, and how one maps to the other.

- Tables API column ``type``: ``string int long real boolean dateTime guid dynamic``
  ([SPEC-TBL25-07] Column.type; azure-contract.md §3.1). ``dateTime`` is camel-case.
- DCR ``streamDeclarations`` column ``type``: ``string int long real boolean datetime dynamic``,
  lowercase ``datetime`` and no ``guid`` ([SPEC-DCR] ColumnDefinition; azure-contract.md §5.2).

Users may write either spelling in any case; both are normalised here.
"""

from __future__ import annotations

TABLE_TYPES = ("string", "int", "long", "real", "boolean", "dateTime", "guid", "dynamic")
STREAM_TYPES = ("string", "int", "long", "real", "boolean", "datetime", "dynamic")

_TABLE_BY_LOWER = {t.lower(): t for t in TABLE_TYPES}
_ALIASES = {"bool": "boolean", "double": "real", "float": "real", "integer": "int", "str": "string", "uuid": "guid"}

# stream type -> the table type a `source` transform writes it into unchanged
STREAM_TO_TABLE = {"string": "string", "int": "int", "long": "long", "real": "real", "boolean": "boolean", "datetime": "dateTime", "dynamic": "dynamic"}


def normalise_table_type(text: str) -> str | None:
    """The Tables API spelling of ``text``, or None when it is not a table type."""
    return _TABLE_BY_LOWER.get(str(text).strip().lower())


def normalise_stream_type(text: str) -> str | None:
    """The DCR stream spelling of ``text`` (``dateTime`` -> ``datetime``), or None ("guid" is not one)."""
    lowered = str(text).strip().lower()
    return lowered if lowered in STREAM_TYPES else None


def alias_hint(text: str) -> str | None:
    """The type the user probably meant for a common non-Azure spelling (``bool`` -> ``boolean``)."""
    return _ALIASES.get(str(text).strip().lower())


def close_type(text: str, types: tuple[str, ...]) -> str | None:
    """The type of ``types`` a misspelling most likely meant (``strng`` -> ``string``), for "did you mean"."""
    import difflib

    by_lower = {t.lower(): t for t in types}
    close = difflib.get_close_matches(str(text).strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def stream_type_for_table_type(table_type: str) -> str:
    """Stream type used when a stream is derived from a table: ``guid`` arrives as ``string``."""
    if table_type == "guid":
        return "string"
    return "datetime" if table_type == "dateTime" else table_type


def source_fits(stream_type: str, table_type: str) -> bool:
    """Whether a value of ``stream_type`` lands unchanged in a column of ``table_type`` with ``transform: source``."""
    return STREAM_TO_TABLE.get(stream_type) == table_type
