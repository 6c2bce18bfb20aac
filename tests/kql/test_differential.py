"""Differential test against Microsoft's own parser and binder (Kusto.Language, npm
``@kusto/language-service-next``; kql-subset.md "Service error formats": the service front end is
Kusto-based), on every case of our data files and on generated queries.

What must agree:
- syntax: our parser accepts a query iff Kusto.Language's parser reports no syntax error;
- for every query our checker accepts: Kusto.Language's binder reports no error either, and the
  output schema (names, order, types) is the same.
Known, intended differences are listed in ``ALLOWED`` with their reason (DCR-only functions that
Kusto.Language does not know, and DCR rules that are stricter than Kusto).

Needs ``node`` and the package: ``npm install --prefix tests/kql/node --no-audit --no-fund``.
The test installs it itself (once, into tests/kql/node/node_modules, git-ignored) when npm is present,
so the README's test command runs it too; without node/npm or the registry it skips, saying why.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from provision.kql import check_transform, parse
from provision.kql.functions import CATALOGUE, COMPAT, DOC
from provision.kql.parser import ParseError
from provision.scenario.tables import azure_table_columns

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"
PACKAGE = NODE_DIR / "node_modules" / "@kusto" / "language-service-next"
INSTALL = "npm install --prefix tests/kql/node --no-audit --no-fund"

# Functions only DCR transformations have (azure-contract.md §9 "Special functions"): Kusto.Language
# reports them as unknown. `columnifexists` is the DCR spelling of Kusto's column_ifexists.
DCR_ONLY = ("parse_cef_dictionary", "geo_location", "columnifexists")


def _node_available() -> bool:
    if shutil.which("node") is None:
        return False
    if PACKAGE.exists():
        return True
    if shutil.which("npm"):
        subprocess.run(INSTALL.split(), cwd=HERE.parent.parent, check=False, timeout=300, capture_output=True)
    return PACKAGE.exists()


pytestmark = pytest.mark.skipif(not _node_available(), reason=f"needs node and @kusto/language-service-next: {INSTALL}")


def _kusto(items):
    proc = subprocess.run(["node", str(NODE_DIR / "kusto_check.js")], input=json.dumps(items), capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(proc.stdout)


def _cols(spec):
    if isinstance(spec, str):
        return [(n, t) for n, t in azure_table_columns(spec)]
    return [tuple(c) for c in spec]


def _norm(t):
    return {"dateTime": "datetime", "bool": "boolean"}.get(t, t)


# Hand-written tabular cases (where/project-rename/project-away/UDF/columnifexists corner cases).
MISC = [
    ('source | where Props.flag', [('Props', 'dynamic')]),
    ('source | where Props', [('Props', 'dynamic')]),
    ('source | project-away Nope', [('Msg', 'string')]),
    ('source | project-rename Msg = Count', [('Msg', 'string'), ('Count', 'int')]),
    ('source | project Msg, Msg', [('Msg', 'string')]),
    ('source | project a = Msg, a = Msg', [('Msg', 'string')]),
    ('source | extend Msg = 1', [('Msg', 'string')]),
    ("source | parse Msg with a:int ',' b:datetime ',' c:dynamic", [('Msg', 'string')]),
    ("source | parse kind=regex Msg with @'(\\d+)' a:long", [('Msg', 'string')]),
    ('let f = (a:string) { strlen(a) }; source | extend x = f(Msg), y = f(1)', [('Msg', 'string')]),
    ('let x = Msg; source', [('Msg', 'string')]),
    ("source | extend x = columnifexists('Msg', 1)", [('Msg', 'string')]),
    ("source | extend x = tostring(Props.a) + 'x'", [('Props', 'dynamic')]),
    ('source | extend x = Props.a + 1', [('Props', 'dynamic')]),
    ('source | extend x = Msg[0]', [('Msg', 'string')]),
    ('source | extend x = Props[Msg]', [('Props', 'dynamic'), ('Msg', 'string')]),
    ('source | extend x = Props[1.5]', [('Props', 'dynamic')]),
    ('source | project-away M*, Nope*', [('Msg', 'string')]),
    ('print x = 1 | where x > 0', []),
    ("source | extend x = case(true, 1, 'a')", []),
    ('source | extend x = iff(true, int(1), 2)', []),
    ('source | where Msg in (1, 2)', [('Msg', 'string')]),
    ('source | extend x = Time - 1', [('Time', 'datetime')]),
    ("source | extend d = dynamic({'a': datetime(2024-01-01)})", []),
    ("source | extend x = Props.['a b']", [('Props', 'dynamic')]),
    ("datatable(a:long)[1, 'x']", []),
]


def _corpus():
    items = []
    for line in (HERE / "identity.kql").read_text().splitlines():
        if line.strip():
            items.append({"query": line, "columns": [], "origin": "identity.kql"})
    for path in sorted((HERE / "cases").glob("*.json")):
        data = json.loads(path.read_text())
        given = data["given"]
        for case in data["cases"]:
            query = case.get("query") or f"source | project r = {case['expr']}"
            if not query.strip():
                continue  # an empty transform is a DCR rule (EmptyTransform), checked before parsing
            items.append({"query": query, "columns": [[n, _norm(t)] for n, t in given["input"]], "origin": path.name})
    real = json.loads((HERE / "real_transforms.json").read_text())
    for case in real["cases"] + real["rejected"]:
        items.append({"query": case["query"], "columns": [[n, _norm(t)] for n, t in _cols(case["input"])], "origin": "real_transforms.json"})
    items += [{"query": q, "columns": [list(c) for c in cols], "origin": "misc"} for q, cols in MISC]
    return items + _generated(300) + _random_typed(400)


# ---- generated queries: random pipelines over the documented functions and operators ----
_COLUMNS = [("Time", "datetime"), ("Msg", "string"), ("Count", "int"), ("Big", "long"), ("Ratio", "real"), ("Flag", "boolean"),
            ("Props", "dynamic"), ("Span", "timespan")]
_BY_TYPE = {}
for _n, _t in _COLUMNS:
    _BY_TYPE.setdefault(_t, []).append(_n)
_LITERALS = {"string": ['"abc"', "'x y'", '@"c:\\\\t"'], "int": ["int(3)"], "long": ["7", "0x10"], "real": ["2.5", "1e3"],
             "boolean": ["true", "false"], "datetime": ["datetime(2024-01-02)", "now()"], "timespan": ["1h", "30m", "timespan(1.02:00:00)"],
             "dynamic": ['dynamic({"a":1})', "parse_json(Msg)", "Props.k"]}
# name -> (argument types, result type): well-typed calls of documented functions.
_CALLS = {
    "tostring": (["long"], "string"), "toint": (["string"], "int"), "tolong": (["string"], "long"), "toreal": (["string"], "real"),
    "todatetime": (["string"], "datetime"), "tobool": (["string"], "boolean"), "strlen": (["string"], "long"),
    "toupper": (["string"], "string"), "tolower": (["string"], "string"), "strcat": (["string", "string"], "string"),
    "substring": (["string", "long", "long"], "string"), "indexof": (["string", "string"], "long"), "isempty": (["string"], "boolean"),
    "isnotempty": (["string"], "boolean"), "isnull": (["dynamic"], "boolean"), "abs": (["real"], "real"), "round": (["real", "long"], "real"),
    "pow": (["real", "real"], "real"), "log10": (["real"], "real"), "exp2": (["real"], "real"), "bin": (["datetime", "timespan"], "datetime"),
    "startofday": (["datetime"], "datetime"), "endofmonth": (["datetime"], "datetime"), "dayofweek": (["datetime"], "timespan"),
    "getyear": (["datetime"], "int"), "hourofday": (["datetime"], "int"), "datetime_add": (["'day'", "long", "datetime"], "datetime"),
    "datetime_diff": (["'hour'", "datetime", "datetime"], "long"), "array_length": (["dynamic"], "long"), "pack_array": (["long", "string"], "dynamic"),
    "split": (["string", "string"], "dynamic"), "extract": (["'[a-z]+'", "long", "string"], "string"), "hash_sha256": (["string"], "string"),
    "base64_encodestring": (["string"], "string"), "countof": (["string", "string"], "long"), "binary_and": (["long", "long"], "long"),
    "max_of": (["long", "long"], "long"), "iif": (["boolean", "string", "string"], "string"), "gettype": (["dynamic"], "string"),
    "make_timespan": (["long", "long"], "timespan"), "parse_json": (["string"], "dynamic"),
}
_CMP = ["==", "!=", "=~", "contains", "!has", "startswith_cs", "endswith", "has"]


def _expr(rng, want, depth=0):
    if want.startswith("'"):
        return want
    if depth < 2 and rng.random() < 0.5:
        options = [n for n, (_, r) in _CALLS.items() if r == want]
        if options:
            name = rng.choice(options)
            args, _ = _CALLS[name]
            return f"{name}({', '.join(_expr(rng, a, depth + 1) for a in args)})"
    if want == "boolean" and depth < 2 and rng.random() < 0.5:
        return f"{_expr(rng, 'string', depth + 1)} {rng.choice(_CMP)} {rng.choice(_LITERALS['string'])}"
    if want in ("long", "real") and depth < 2 and rng.random() < 0.3:
        return f"({_expr(rng, want, depth + 1)} {rng.choice(['+', '-', '*'])} {rng.choice(_LITERALS[want])})"
    if want in _BY_TYPE and rng.random() < 0.6:
        return rng.choice(_BY_TYPE[want])
    return rng.choice(_LITERALS[want])


def _generated(count):
    rng = random.Random(20261127)
    types = ["string", "long", "real", "boolean", "datetime", "timespan", "dynamic", "int"]
    out = []
    for i in range(count):
        ops = []
        for j in range(rng.randint(1, 3)):
            kind = rng.choice(["extend", "extend", "where", "project-away", "project"])
            if kind == "extend":
                ops.append("extend " + ", ".join(f"c{i}_{j}_{k} = {_expr(rng, rng.choice(types))}" for k in range(rng.randint(1, 3))))
            elif kind == "where":
                ops.append(f"where {_expr(rng, 'boolean')}")
            elif kind == "project-away":
                ops.append("project-away Span")
                break
            else:
                ops.append("project Time, Msg, p = " + _expr(rng, rng.choice(types)))
                break
        out.append({"query": "source | " + " | ".join(ops), "columns": [list(c) for c in _COLUMNS], "origin": "generated"})
    return out


_OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "=~", "contains", "has", "startswith", "matches regex", "and", "or"]


def _random_typed(count):
    """Mostly ill-typed calls and operators: both engines must accept or reject the same ones."""
    rng = random.Random(1127)
    types = ["string", "long", "real", "boolean", "datetime", "timespan", "dynamic", "int"]
    functions = sorted(n for n, f in CATALOGUE.items() if f.status in (DOC, COMPAT) and n not in DCR_ONLY + ("typeof",))
    out = []
    for i in range(count):
        if rng.random() < 0.5:
            name = rng.choice(functions)
            fn = CATALOGUE[name]
            arity = rng.randint(fn.min_args, min(fn.max_args or fn.min_args + 2, fn.min_args + 2))
            expr = f"{name}({', '.join(_expr(rng, rng.choice(types), 1) for _ in range(arity))})"
        else:
            expr = f"{_expr(rng, rng.choice(types), 1)} {rng.choice(_OPS)} {_expr(rng, rng.choice(types), 1)}"
        out.append({"query": f"source | extend r{i} = {expr}", "columns": [list(c) for c in _COLUMNS], "origin": "random-typed"})
    return out


def _ours(item):
    try:
        parse(item["query"])
    except ParseError:
        return False, None
    result = check_transform(item["query"], [tuple(c) for c in item["columns"]], custom_table=False)
    return True, result


@pytest.fixture(scope="module")
def verdicts():
    items = _corpus()
    return list(zip(items, _kusto([{"query": i["query"], "columns": i["columns"]} for i in items])))


def _uses_dcr_only(query):
    return any(f"{name}(" in query for name in DCR_ONLY)


def test_syntax_verdicts_agree(verdicts):
    disagreements = []
    for item, ms in verdicts:
        ok, _ = _ours(item)
        if ok != (not ms["syntax"]):
            disagreements.append((item["origin"], item["query"], ms["syntax"][:1]))
    assert disagreements == []


def test_accepted_queries_bind_and_have_the_same_schema(verdicts):
    problems = []
    compared = 0
    for item, ms in verdicts:
        ok, result = _ours(item)
        if not ok or not result.valid or ms["syntax"] or _uses_dcr_only(item["query"]):
            continue
        compared += 1
        if ms["errors"]:
            problems.append(("kusto error", item["origin"], item["query"], ms["errors"][:1]))
            continue
        ours = [(n, t) for n, t in result.output_columns]
        theirs = [tuple(c) for c in ms["columns"] or [] if item["columns"] or c[0] != "x_"]  # x_: placeholder column
        if [n for n, _ in ours] != [n for n, _ in theirs] or any(t is not None and t != u for (_, t), (_, u) in zip(ours, theirs)):
            problems.append(("schema", item["origin"], item["query"], ours, theirs))
    assert compared >= 300
    assert problems == []


def test_kusto_also_rejects_what_we_reject_as_unknown(verdicts):
    """Unknown columns and type errors are errors for Microsoft's binder too (DCR allow-list rules aside)."""
    misses = []
    for item, ms in verdicts:
        ok, result = _ours(item)
        if not ok or ms["syntax"]:
            continue
        codes = {d.code for d in result.diagnostics if d.is_error}
        if codes & {"UnknownColumn", "TypeMismatch", "WrongArgumentCount"} and not ms["errors"]:
            misses.append((item["origin"], item["query"], sorted(codes)))
    assert misses == []
