"""The generated runner (kql/codegen.py) against the compiler's closures, the reference semantics (issue 13).

Every query of the KQL test corpus (case files, real transforms, identity.kql) is compiled both ways and run on
its sample record and on variants of it whose columns hold each kind of JSON value (nulls, numeric and
non-numeric strings, GUID and datetime texts, wrong types, deep nesting): each record must give the same output
row, the same filtered verdict or the same dropped-record reason.
"""

from __future__ import annotations

import pytest

from provision.kql import COMPAT, TransformRuntimeError, compile_transform
from provision.kql.checker import analyze
from provision.kql.compiler import compile_analysis
from tests.test_fuzz_kql import CORPUS


def nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value} if depth % 2 else [value]
    return value


VALUES = [None, "", "12", "-3", "1.5", "1e3", "abc", "true", "False", 0, 1, -7, 2 ** 40, 2 ** 70, 1.5, -0.0, 3.0, True, False,
          [], [1, "a"], {}, {"level": "2", "k": [1, {"x": None}]}, "2024-05-01T10:00:00.123Z", "2024-05-01 10:00",
          "0001-01-01T00:00:00+01:00", "74BE27DE-1E4E-49D9-B579-FE0B331D3642", "{74be27de-1e4e-49d9-b579-fe0b331d3642}",
          "1.02:03:04", "a b,c;d", nested(5000)]


def _outcome(transform, record):
    try:
        return "row", transform.run(record)
    except TransformRuntimeError as error:
        # Python's RecursionError text names the call that hit the limit ('... in comparison'), which depends on
        # the stack depth the evaluation started at: the reason compared is that it was a RecursionError.
        message = str(error)
        return "dropped", "RecursionError" if message.startswith("RecursionError:") else message


def _both(query, columns):
    try:
        generated = compile_transform(query, columns)
    except Exception:  # the corpus holds refused queries too: nothing to compare
        return None
    query = query if query.strip() else "source"  # as compile_transform reads an empty transform
    analysis = analyze(query, columns, None, profile=COMPAT, custom_table=False)
    return generated, compile_analysis(query, analysis, columns, generate=False)


def _records(columns, sample):
    yield sample
    yield "not an object"
    yield {}
    for name, _ in columns:
        for value in VALUES:
            yield {**sample, name: value}


CASES = [(query, columns, record) for query, columns, record in CORPUS if _both(query, columns) is not None]


def test_the_corpus_exercises_generated_pipelines():
    generated = [query for query, columns, _ in CASES if "run(record)" in _both(query, columns)[0].run.source
                 and "pipeline(row)" not in _both(query, columns)[0].run.source]
    assert len(CASES) > 200 and len(generated) > 0.8 * len(CASES)


@pytest.mark.parametrize(("query", "columns", "record"), CASES, ids=[q[:60] for q, _, _ in CASES])
def test_generated_code_gives_what_the_closures_give(query, columns, record):
    generated, closures = _both(query, columns)
    for rec in _records(columns, record if isinstance(record, dict) else {}):
        ours, reference = _outcome(generated, rec), _outcome(closures, rec)
        if "now()" in query or "ago(" in query:  # the clock moves between the two runs
            assert ours[0] == reference[0]
            continue
        assert ours == reference, (query, rec)
