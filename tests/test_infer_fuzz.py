"""Property tests of infer: for any JSON rows (any key text, any values), the scenario infer writes loads
and validates with no error and no warning, and its flow, compiled by the engine as ``transform run``
compiles it, keeps every row and every field. Also: every table column name infer makes passes the
column rule, and every key written into the file reads back from the scenario loader as the same key.

Bounded and derandomized for CI (tests/fuzzing.py): 60 examples for whole scenarios, 150 for names;
PROVISION_FUZZ_EXAMPLES for a longer random run (1,000 of each ran clean when this was written).
"""

from __future__ import annotations

import json

from hypothesis import assume, given
from hypothesis import strategies as st

from provision import infer as inference
from provision import kql
from provision.diagnostics import has_errors
from provision.scenario import load_scenario, validate_scenario
from provision.scenario.rules import COLUMN_NAME, RESERVED_COLUMNS
from tests.fuzzing import fuzz_settings
from tests.test_infer_cli import assert_nothing_dropped

SCENARIO_SETTINGS = fuzz_settings(60)  # whole scenarios: validate and run each
SETTINGS = fuzz_settings(150)


SHAPED = st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", "2024-05-01", "2024-02-30", "Wed, 01 May 2024 10:00:00 GMT",
                          "16fd2706-8baf-433b-82eb-8c7fada847da", "0123456789abcdef0123456789abcdef", "", "true", "12", "{}", "[1]",
                          "${X}", "a'b\"c"])
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | SHAPED
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
KEYS = st.text(max_size=50) | st.sampled_from(["id", "Type", "TimeGenerated", "where", "a-b", "a_b", "Name", "name", "x", "${A}", "@ts"])
ROWS = st.lists(st.dictionaries(KEYS, VALUES, max_size=8), min_size=1, max_size=6)


@SCENARIO_SETTINGS
@given(rows=ROWS)
def test_any_rows_give_a_clean_scenario_whose_flow_keeps_everything(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("fuzz")
    sample = inference.collect(inference.read_samples(json.dumps(rows), "rows.json"))
    assume(any(not inference._unusable(name) for name in sample.fields))  # else one clear error (test_infer_cli)
    result = inference.infer(sample, "Fuzz_CL")
    path = folder / "s.yaml"
    path.write_text(inference.render_scenario(result, "rows.json"), encoding="utf-8")
    scenario, diagnostics = validate_scenario(path)
    assert scenario is not None and not diagnostics, [d.format() for d in diagnostics] + [path.read_text()]
    (rule,) = scenario.rules.values()
    (flow,) = rule.flows
    columns = [(c.name, c.type) for c in rule.streams[flow.streams[0]]]
    transform = kql.compile_transform(flow.transform, columns)
    out, filtered, dropped = transform.run_many(rows)
    left_out = {name for name, _ in result.left_out}
    assert_nothing_dropped([{k: v for k, v in row.items() if k not in left_out} for row in rows],
                           {"rows": out, "filtered": filtered, "dropped": dropped})


@SETTINGS
@given(name=st.text(max_size=80))
def test_every_column_name_infer_makes_passes_the_column_rule(name):
    column = inference.table_name_for(name)
    assert COLUMN_NAME.match(column), (name, column)
    assert column.casefold() not in {r.casefold() for r in (*RESERVED_COLUMNS, "TimeGenerated")}, (name, column)


@SETTINGS
@given(name=st.text(min_size=1, max_size=60))
def test_every_key_written_reads_back_as_itself(tmp_path_factory, name):
    if inference._unusable(name):
        return  # left out and reported, never written (test_infer_cli: keys no stream can declare)
    path = tmp_path_factory.mktemp("keys") / "s.yaml"
    path.write_text(f"name: k\nlocation: westeurope\nworkspace: {inference.LOCAL_WORKSPACE}\nresource_group: rg-local\n"
                    f"tables:\n  K_CL:\n    columns:\n      TimeGenerated: datetime\n"
                    f"rules:\n  dcr-k:\n    streams:\n      Custom-K:\n        {inference.yaml_scalar(name)}: string\n"
                    f"    flows:\n      - stream: Custom-K\n        table: K_CL\n        transform: source | extend TimeGenerated = now()\n",
                    encoding="utf-8")
    scenario, diagnostics = load_scenario(path)
    assert scenario is not None and not has_errors(diagnostics), [d.format() for d in diagnostics]
    assert [c.name for c in scenario.rules["dcr-k"].streams["Custom-K"]] == [name]
