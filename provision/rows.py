"""Sample-row files (for ``transform run`` and ``send``): a JSON array of objects, or JSON lines.

Pure: reads one local file, no network. Strict JSON (no NaN/Infinity: the Logs Ingestion API
takes UTF-8 JSON, azure-contract.md §7); every problem is a SpecError saying where and how to fix it.
"""

from __future__ import annotations

import json
from pathlib import Path

from provision.errors import SpecError

ROWS_HINT = "give a JSON array of objects (.json) or one object per line (.jsonl)"


def read_text(path: Path, option: str) -> str:
    """The UTF-8 text of ``path``; an unreadable or non-text file is a usage error."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"cannot read {option} {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise SpecError(f"cannot read {option} {path}: not UTF-8 text (byte {error.start})", hint="save it as UTF-8 text") from None


def read_rows(path: Path, option: str = "--file") -> list[dict]:
    """The rows of ``path``: a JSON array of objects (or one object), or one object per line."""
    text = read_text(path, option)
    if not text.strip():
        raise SpecError(f"{option} {path} is empty", hint=ROWS_HINT)
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson") or _looks_like_json_lines(text):
            rows = []
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rows.append(_strict_json(line))
                except json.JSONDecodeError as error:
                    raise SpecError(f"{path}:{number}:{error.colno}: not JSON: {error.msg}", hint="one JSON object per line") from None
            return _objects(rows, path)
        try:
            data = _strict_json(text)
        except json.JSONDecodeError as error:
            raise SpecError(f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}",
                            hint=ROWS_HINT) from None
    except RecursionError:
        raise SpecError(f"{option} {path}: values are nested too deeply to read", hint="the service takes JSON of ordinary depth") from None
    rows = data if isinstance(data, list) else [data]
    return _objects(rows, path)


def _objects(rows: list, path: Path) -> list[dict]:
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise SpecError(f"{path}: row {number} is {type(row).__name__}, not a JSON object", hint=ROWS_HINT)
    return rows


def _strict_json(text: str):
    """json.loads without the NaN/Infinity extension (not JSON: the Logs Ingestion API rejects it)."""
    def refuse(name):
        raise json.JSONDecodeError(f"{name} is not valid JSON", text, text.find(name))

    return json.loads(text, parse_constant=refuse)


def _looks_like_json_lines(text: str) -> bool:
    """One JSON value per line in a file not named .jsonl ("Extra data" after the first line's value)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error.msg == "Extra data" and error.lineno > 1 and text[: error.pos].count("\n") >= 1
    return False
