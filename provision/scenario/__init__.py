"""The scenario file: loading (YAML with lines, variables, environments), the typed model, the offline rules.

Public API (docs/architecture.md):
- ``load_scenario(path, env=None, variables=None, environ=None) -> (Scenario | None, diagnostics)``
- ``validate_scenario(...)``: load + every offline rule, same return
- ``require_valid(...) -> Scenario``: raises ``SpecError`` carrying every diagnostic when any is an error
Pure: no network, no Azure SDK.
"""

from __future__ import annotations

from provision.diagnostics import has_errors
from provision.errors import SpecError


def load_scenario(path, env=None, variables=None, environ=None):
    from provision.scenario.load import load_scenario as _load

    return _load(path, env=env, variables=variables, environ=environ)


def validate_scenario(path, env=None, variables=None, environ=None, kql_profile=None):
    """Load the file and run every rule. Returns (Scenario or None, all diagnostics).

    ``kql_profile``: ``"strict"`` or ``"compat"`` (default) for the transformKql checker.
    """
    from provision.scenario.rules import check_scenario

    scenario, diagnostics = load_scenario(path, env=env, variables=variables, environ=environ)
    if scenario is not None:
        diagnostics = diagnostics + check_scenario(scenario, kql_profile=kql_profile)
    return scenario, sorted(diagnostics, key=_order)


def require_valid(path, env=None, variables=None, environ=None, kql_profile=None):
    """The valid Scenario, or SpecError listing every problem (warnings alone do not fail)."""
    scenario, diagnostics = validate_scenario(path, env=env, variables=variables, environ=environ, kql_profile=kql_profile)
    if scenario is None or has_errors(diagnostics):
        errors = [d for d in diagnostics if d.is_error]
        raise SpecError(f"{path}: {len(errors)} problem(s) found; nothing was sent to Azure", errors)
    from dataclasses import replace

    return replace(scenario, warnings=tuple(d for d in diagnostics if not d.is_error))


def _order(d):
    return (d.line is None, d.line or 0, d.column or 0)
