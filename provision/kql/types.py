"""KQL scalar types and the spellings of streams and tables.

Stream spellings (DCR ``streamDeclarations``): string int long real boolean datetime dynamic.
Table spellings (Log Analytics): string int long real boolean dateTime guid dynamic
(azure-contract.md §3.1 / §5.2; sdk-notes.md "The toolkit needs a type mapping").
KQL types used by the checker: the stream spellings plus ``guid`` and ``timespan``.
"""

from __future__ import annotations

_ALIASES = {
    "string": "string", "int": "int", "long": "long", "real": "real", "double": "real", "decimal": "real",
    "bool": "boolean", "boolean": "boolean", "datetime": "datetime", "date": "datetime", "timespan": "timespan",
    "time": "timespan", "guid": "guid", "uniqueid": "guid", "dynamic": "dynamic",
}


def normalize_type(name: str | None) -> str | None:
    """Any stream/table/KQL spelling -> KQL type (case-insensitive: 'dateTime' -> 'datetime'); None if unknown."""
    if name is None:
        return None
    return _ALIASES.get(name.strip().lower())


def output_compatible(kql_type: str | None, table_type: str | None) -> bool:
    """Can a transform output column of ``kql_type`` land in a table column of ``table_type``?

    Exact matches, plus the conversions this toolkit accepts (documented choice, the service
    documents none beyond this): ``guid`` columns accept strings (azure-contract.md §3.2: "guid
    values are stored and queried as strings"), ``string`` columns accept guids, ``long`` accepts
    ``int`` (widening). Everything else is the service's ``InvalidTransformOutput``
    (azure-contract.md §5.3, e.g. "AssetTier produced 'String' output 'Int'").
    Unknown types (None) are not judged.
    """
    if kql_type is None or table_type is None:
        return True
    if kql_type == table_type:
        return True
    return (kql_type, table_type) in {("string", "guid"), ("guid", "string"), ("int", "long")}


CONVERSION_FOR = {
    "string": "tostring", "int": "toint", "long": "tolong", "real": "toreal", "boolean": "tobool",
    "datetime": "todatetime", "guid": "toguid", "dynamic": "parse_json", "timespan": "totimespan",
}
