"""Property-based fuzzing of the scenario loader and offline rules (issue 12): whatever the file holds,
`validate` ends in diagnostics (exit 0 or 1), never an exception. Bounded for CI (about 15 s); a longer run:
PROVISION_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz_scenario.py"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from provision.diagnostics import Diagnostic
from provision.scenario import validate_scenario
from tests.fuzzing import fuzz_settings

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [p.read_text(encoding="utf-8") for p in sorted((REPO / "scenarios").glob("*.yaml"))]
FUZZ = fuzz_settings(300)
ENVIRON = {"SENDER_APP_ID": "a2a2a2a2-0000-4000-8000-000000000002", "A": "x", "AZURE_CLIENT_SECRET": "s3cret-value"}

# Text that tends to break loaders: YAML syntax, tags, anchors, variables, control and bidi characters, numbers.
FRAGMENTS = st.sampled_from([
    ":", "- ", "  ", "\t", "{", "}", "[", "]", "'", '"', "&a", "*a", "<<: *a", "!!python/object/new:os.system", "!!binary",
    "${", "${A}", "${NOPE}", "${A:-${B:-x}}", "$${", "\x00", "\u202e", "\ufeff", "\r", "\n", "#", "|", ">", "~", "null",
    "yes", "1e400", "-1", "0x1F", "2024-13-45", "Custom-", "_CL", "_CF", "TimeGenerated", "source | where", "ensure: absent",
])


def check(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        scenario, diagnostics = validate_scenario(path, environ=ENVIRON)
    assert all(isinstance(d, Diagnostic) and d.code and d.message for d in diagnostics)
    for d in diagnostics:
        d.format()  # printable, whatever the input held
    if scenario is None:
        assert any(d.is_error for d in diagnostics)


@st.composite
def mutated_scenario(draw):
    lines = draw(st.sampled_from(SHIPPED)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["drop", "insert", "replace", "duplicate"]))
        if action == "drop" and lines:
            del lines[at]
        elif action == "duplicate" and lines:
            lines.insert(at, lines[at])
        else:
            piece = draw(st.lists(FRAGMENTS | st.text(max_size=8), min_size=1, max_size=4).map("".join))
            if action == "replace" and lines:
                line = lines[at]
                cut = draw(st.integers(0, len(line)))
                lines[at] = line[:cut] + piece + ("\n" if line.endswith("\n") else "")
            else:
                lines.insert(at, piece + "\n")
    return "".join(lines)


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12) | FRAGMENTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10) | FRAGMENTS, children, max_size=4),
    max_leaves=20,
)
TOP_KEYS = st.sampled_from(["name", "location", "workspace", "resource_group", "subscription", "tables", "endpoint",
                            "rules", "publishers", "environments", "vars"])


@FUZZ
@given(mutated_scenario())
def test_mutated_shipped_scenarios_never_raise(text):
    check(text)


@FUZZ
@given(st.dictionaries(TOP_KEYS, YAML_VALUES, max_size=8))
def test_random_documents_of_the_scenario_shape_never_raise(document):
    check(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_arbitrary_text_never_raises(text):
    check(text)
