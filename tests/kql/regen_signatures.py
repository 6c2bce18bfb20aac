"""Regenerate provision/kql/signatures.py from Microsoft's binder (Kusto.Language, npm package in tests/kql/node).

Run: python tests/kql/regen_signatures.py   (needs node and `npm install --prefix tests/kql/node`)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from provision.kql.functions import CATALOGUE, COMPAT, DOC

SKIP = ("columnifexists", "parse_cef_dictionary", "geo_location")  # DCR-only or not a plain function


def main() -> None:
    functions = {n: [f.min_args, f.max_args] for n, f in sorted(CATALOGUE.items()) if f.status in (DOC, COMPAT) and n not in SKIP}
    node_dir = REPO / "tests" / "kql" / "node"
    proc = subprocess.run(["node", str(node_dir / "derive_types.js")], input=json.dumps({"functions": functions}), cwd=node_dir,
                          capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    lines = ['"""Operator and function typing rules of Microsoft\'s binder, for the checker (generated: do not edit).',
             "",
             "Source: Kusto.Language 12.4.1 (npm @kusto/language-service-next, MIT), probed with literal arguments of every",
             "type by tests/kql/node/derive_types.js; regenerate with tests/kql/regen_signatures.py. Keys are",
             "comma-joined argument types; values are the result type. A missing key means Kusto.Language rejects",
             "that combination (\"The operator '+' is not defined for ...\", \"A value of type string expected\").",
             "CALLS covers up to 3 arguments; variadic functions repeat their last position.",
             '"""',
             "",
             "BINARY = {"]
    for op, table in data["binary"].items():
        lines.append(f"    {op!r}: {json.dumps(table, sort_keys=True)},")
    lines += ["}", "", "CALLS = {"]
    for name, table in data["calls"].items():
        kept = {k: v for k, v in table.items() if v != "?"}
        lines.append(f"    {name!r}: {json.dumps(kept, sort_keys=True)},")
    lines += ["}", ""]
    (REPO / "provision" / "kql" / "signatures.py").write_text("\n".join(lines))
    print(f"wrote provision/kql/signatures.py: {sum(map(len, data['binary'].values()))} operator and "
          f"{sum(map(len, data['calls'].values()))} call signatures")


if __name__ == "__main__":
    main()
