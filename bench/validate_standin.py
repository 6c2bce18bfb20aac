"""The baseline of ``bench/startup.py``: ``provision validate FILE`` without the CLI framework.

An argparse program making the same library calls as the ``validate`` command
(``provision.scenario.validate_scenario``, then the same report lines), so that
``provision validate`` / this script is what Typer and the CLI layer cost on top of
the work itself. Run: python bench/validate_standin.py validate FILE
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="provision")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate")
    validate.add_argument("file", type=Path)
    validate.add_argument("--env", "-e")
    validate.add_argument("--var", action="append", default=[])
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--kql-profile", choices=("compat", "strict"), default="compat")
    options = parser.parse_args()

    from provision.diagnostics import has_errors
    from provision.scenario import validate_scenario

    variables = dict(item.partition("=")[::2] for item in options.var)
    scenario, diagnostics = validate_scenario(options.file, env=options.env, variables=variables, kql_profile=options.kql_profile)
    for diagnostic in diagnostics:
        print(diagnostic.format() + (f"\n    source: {diagnostic.source}" if diagnostic.source else ""))
    failed = scenario is None or has_errors(diagnostics)
    errors = sum(d.is_error for d in diagnostics)
    if failed:
        print(f"{options.file}: {errors} error(s), {len(diagnostics) - errors} warning(s)")
    else:
        print(f"{options.file}: valid ({len(scenario.tables)} table(s), {len(scenario.rules)} rule(s), "
              f"{len(scenario.publishers)} publisher(s))")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
