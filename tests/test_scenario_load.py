"""Loading scenario files: YAML with line numbers, variables, environments, types, derived streams, bad input."""

from __future__ import annotations

import pytest

from provision.diagnostics import Diagnostic
from provision.errors import SpecError
from provision.render import render_arm, render_resources
from provision.scenario import load_scenario, require_valid, validate_scenario
from provision.scenario.variables import VariableSyntax, chain_lookup, substitute

WS = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/Microsoft.OperationalInsights/workspaces/law-local"
HEAD = f"location: westeurope\nworkspace: {WS}\nresource_group: rg-local\n"


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def codes(diagnostics):
    return [d.code for d in diagnostics]


# -- YAML ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,line", [
    (HEAD + "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime\n", 6),  # unclosed flow mapping
    (HEAD + "tables:\n  A_CL:\n   columns:\n  - x\n", 7),  # bad indentation
    ("location: 'westeurope\n", 1),  # unclosed quote: points where it opened
    ("a: b\n\tc: d\n", 2),  # tab
])
def test_malformed_yaml_is_one_diagnostic_with_a_line(tmp_path, text, line):
    scenario, diagnostics = load_scenario(write(tmp_path, text))
    assert scenario is None
    assert codes(diagnostics) == ["YamlSyntax"]
    assert diagnostics[0].line == line and diagnostics[0].fix


def test_non_mapping_document_and_empty_file(tmp_path):
    assert codes(load_scenario(write(tmp_path, "- a\n- b\n"))[1]) == ["WrongType"]
    assert codes(load_scenario(write(tmp_path, "# nothing\n"))[1]) == ["EmptyScenario"]
    assert codes(load_scenario(tmp_path / "missing.yaml")[1]) == ["FileNotFound"]


def test_a_complex_mapping_key_and_an_unreadable_path_are_diagnostics(tmp_path):
    _, diagnostics = load_scenario(write(tmp_path, HEAD + "? [a, b]\n: c\n"))
    assert [(d.code, d.line) for d in diagnostics] == [("YamlKey", 4)]
    assert codes(load_scenario(tmp_path)[1]) == ["FileUnreadable"]  # a folder


def test_duplicate_keys_are_reported_with_both_lines(tmp_path):
    text = HEAD + "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime}\n  A_CL:\n    columns: {TimeGenerated: datetime}\n"
    _, diagnostics = load_scenario(write(tmp_path, text))
    dup = [d for d in diagnostics if d.code == "DuplicateKey"]
    assert len(dup) == 1 and dup[0].line == 7 and "line 5" in dup[0].message


def test_wrong_value_types_are_diagnostics_not_exceptions(tmp_path):
    text = HEAD + (
        "tables: [a, b]\n"
        "rules:\n  r1: {flows: {table: A_CL}}\n  r2:\n    flows: [5]\n"
        "publishers: {app_id: x}\n"
        "endpoint: dce\n"
    )
    _, diagnostics = validate_scenario(write(tmp_path, text))
    wrong = [d for d in diagnostics if d.code == "WrongType"]
    assert {d.line for d in wrong} == {4, 6, 8, 9, 10}


def test_unknown_key_suggests_the_close_one(tmp_path):
    text = HEAD + "tables:\n  A_CL:\n    colums: {TimeGenerated: datetime}\n"
    _, diagnostics = load_scenario(write(tmp_path, text))
    unknown = [d for d in diagnostics if d.code == "UnknownKey"]
    assert unknown[0].line == 6 and "columns" in unknown[0].fix


def test_retention_written_as_a_word_is_a_wrong_type(tmp_path):
    text = HEAD + "tables:\n  A_CL:\n    retention_days: thirty\n    columns: {TimeGenerated: datetime}\n"
    _, diagnostics = load_scenario(write(tmp_path, text))
    assert [(d.code, d.line) for d in diagnostics] == [("WrongType", 6)]


# -- variables -----------------------------------------------------------------------------------

def test_substitute_order_defaults_nesting_and_escape():
    lookup = chain_lookup({"A": "from-var"}, {"A": "from-env-block", "B": "b"}, {"C": "c"})
    assert substitute("${A}/${B}/${C}", lookup) == ("from-var/b/c", [])
    assert substitute("${X:-${Y:-deep}}", lookup) == ("deep", [])
    assert substitute("${X:-${C}}", lookup) == ("c", [])
    assert substitute("${A:-${MISSING}}", lookup) == ("from-var", [])  # unused defaults are not needed
    assert substitute("cost $${A}", lookup) == ("cost ${A}", [])
    assert substitute("${X}-${Y}", lookup) == ("${X}-${Y}", ["X", "Y"])
    assert substitute("${X:-}", lookup) == ("", [])


@pytest.mark.parametrize("text", ["${", "${1A}", "${A", "${A:-x", "${A-x}"])
def test_substitute_rejects_malformed_references(text):
    with pytest.raises(VariableSyntax):
        substitute(text, chain_lookup({}))


def test_unresolved_variables_are_named_with_their_lines(tmp_path):
    text = "location: ${LOC}\nworkspace: ${WS_ID}\nresource_group: rg-${STAGE}\n"
    _, diagnostics = load_scenario(write(tmp_path, text), environ={})
    found = {(d.code, d.line, d.message.split("$")[1].split(" ")[0]) for d in diagnostics}
    assert ("UnresolvedVariable", 1, "{LOC}") in found
    assert ("UnresolvedVariable", 2, "{WS_ID}") in found
    assert ("UnresolvedVariable", 3, "{STAGE}") in found


def test_variable_sources_in_order(tmp_path):
    text = ("location: ${LOC}\nworkspace: " + WS + "\nresource_group: ${RG}\n"
            "environments:\n  prod:\n    vars: {LOC: env-block, RG: rg-env}\n")
    path = write(tmp_path, text)
    s, _ = load_scenario(path, env="prod", variables={"LOC": "cli"}, environ={"LOC": "process", "RG": "rg-process"})
    assert (s.location, s.resource_group) == ("cli", "rg-env")
    s, _ = load_scenario(path, env="prod", environ={"LOC": "process"})
    assert s.location == "env-block"
    s, _ = load_scenario(path, environ={"LOC": "process", "RG": "rg-p"})
    assert (s.location, s.resource_group) == ("process", "rg-p")


def test_bad_variable_syntax_is_a_diagnostic(tmp_path):
    _, diagnostics = load_scenario(write(tmp_path, "location: ${oops\n" + HEAD.split("\n", 1)[1]), environ={})
    assert [(d.code, d.line) for d in diagnostics] == [("VariableSyntax", 1)]


# -- environments --------------------------------------------------------------------------------

ENV_TEXT = HEAD + (
    "tables:\n"
    "  A_CL:\n"
    "    retention_days: 30\n"
    "    columns: {TimeGenerated: datetime, X: string}\n"
    "environments:\n"
    "  prod:\n"
    "    location: eastus\n"
    "    tables:\n"
    "      A_CL: {retention_days: 90}\n"
)


def test_environment_overlay_merges_maps_and_replaces_values(tmp_path):
    path = write(tmp_path, ENV_TEXT)
    base, _ = load_scenario(path)
    prod, diagnostics = load_scenario(path, env="prod")
    assert diagnostics == []
    assert (base.location, base.tables["A_CL"].retention_days) == ("westeurope", 30)
    assert (prod.location, prod.tables["A_CL"].retention_days, prod.environment) == ("eastus", 90, "prod")
    assert [c.name for c in prod.tables["A_CL"].columns] == ["TimeGenerated", "X"]  # kept from the base
    assert prod.tables["A_CL"].lines["retention_days"] == 12  # points into the environment block


def test_unknown_environment_is_an_error_naming_the_known_ones(tmp_path):
    _, diagnostics = load_scenario(write(tmp_path, ENV_TEXT), env="staging")
    assert codes(diagnostics) == ["UnknownEnvironment"]
    assert "prod" in diagnostics[0].message
    _, diagnostics = load_scenario(write(tmp_path, HEAD, "plain.yaml"), env="prod")
    assert codes(diagnostics) == ["UnknownEnvironment"]


def test_unknown_key_inside_an_environment(tmp_path):
    _, diagnostics = load_scenario(write(tmp_path, ENV_TEXT + "    locaton: x\n"))
    assert [(d.code, d.line) for d in diagnostics] == [("UnknownKey", 13)]


# -- types, derived streams, ensure -------------------------------------------------------------

def test_types_are_normalised_to_table_and_stream_spellings(tmp_path):
    text = HEAD + (
        "tables:\n  A_CL:\n    columns: {TimeGenerated: DATETIME, Id: GUID, Ok: Boolean, Bag: {type: Dynamic, description: d}}\n"
        "rules:\n  r:\n    streams:\n      Custom-In: {TimeGenerated: dateTime, Id: String}\n"
        "    flows: [{stream: Custom-In, table: A_CL, transform: 'source | extend Id = toguid(Id)'}]\n"
    )
    s, diagnostics = validate_scenario(write(tmp_path, text))
    assert [d for d in diagnostics if d.is_error] == []
    assert [(c.name, c.type) for c in s.tables["A_CL"].columns] == [("TimeGenerated", "dateTime"), ("Id", "guid"), ("Ok", "boolean"), ("Bag", "dynamic")]
    assert [(c.name, c.type) for c in s.rules["r"].streams["Custom-In"]] == [("TimeGenerated", "datetime"), ("Id", "string")]


def test_derived_stream_maps_types_adds_toguid_and_says_so(tmp_path):
    text = HEAD + (
        "tables:\n  Orders_CL:\n    columns: {TimeGenerated: datetime, OrderId: guid, Amount: real}\n"
        "rules:\n  r:\n    flows:\n      - table: Orders_CL\n      - table: Orders_CL\n        transform: source | where Amount > 0\n"
    )
    s, diagnostics = validate_scenario(write(tmp_path, text))
    assert [d for d in diagnostics if d.is_error] == []
    rule = s.rules["r"]
    assert rule.derived_streams == ("Custom-Orders",)
    assert [(c.name, c.type) for c in rule.streams["Custom-Orders"]] == [("TimeGenerated", "datetime"), ("OrderId", "string"), ("Amount", "real")]
    first, second = rule.flows
    assert first.streams == ("Custom-Orders",) and first.derived_stream
    assert first.transform == "source | extend OrderId = toguid(OrderId)"
    assert second.transform == "source | extend OrderId = toguid(OrderId) | where Amount > 0"
    assert second.transform_shift == len(" | extend OrderId = toguid(OrderId)")
    assert len(s.notes) == 2 and all("derived" in n and "toguid" in n for n in s.notes)


def test_derived_stream_for_an_auxiliary_table_gets_toguid_like_any_other(tmp_path):
    """[DOC-TRANSFORM] (azure-contract.md §9): custom tables with the Auxiliary plan take transformations, so a
    derived stream's guid columns are converted as they are for Analytics tables; the tool's own toguid() raises
    no AuxiliaryTransform warning (the user wrote no transform)."""
    text = HEAD + (
        "tables:\n  Aux_CL:\n    plan: Auxiliary\n    columns: {TimeGenerated: datetime, Ref: guid}\n"
        "rules:\n  r:\n    flows: [{table: Aux_CL}]\n"
    )
    s, diagnostics = validate_scenario(write(tmp_path, text))
    flow = s.rules["r"].flows[0]
    assert flow.transform == "source | extend Ref = toguid(Ref)" and flow.user_transform == "source"
    assert "toguid() added" in s.notes[0]
    assert [d.code for d in diagnostics if d.severity != "info"] == []


def test_an_auxiliary_flow_with_its_own_transform_keeps_the_warning_after_the_added_toguid(tmp_path):
    text = HEAD + (
        "tables:\n  Aux_CL:\n    plan: Auxiliary\n    columns: {TimeGenerated: datetime, Ref: guid, Count: int}\n"
        "rules:\n  r:\n    flows: [{table: Aux_CL, transform: 'source | where Count > 0'}]\n"
    )
    s, diagnostics = validate_scenario(write(tmp_path, text))
    assert s.rules["r"].flows[0].transform == "source | extend Ref = toguid(Ref) | where Count > 0"
    assert [d.code for d in diagnostics if d.severity != "info"] == ["AuxiliaryTransform"]


def test_derived_stream_for_an_azure_table_uses_the_catalogue_and_cf_columns(tmp_path):
    text = HEAD + "tables:\n  Syslog:\n    columns: {App_CF: string}\nrules:\n  r:\n    flows: [{table: Syslog}]\n"
    s, diagnostics = validate_scenario(write(tmp_path, text))
    assert [d.format() for d in diagnostics if d.is_error] == []
    names = [c.name for c in s.rules["r"].streams["Custom-Syslog"]]
    assert "SyslogMessage" in names and "App_CF" in names and "TimeGenerated" in names
    assert not any(n.startswith("_") or n in ("Type", "TenantId") for n in names)
    assert s.rules["r"].flows[0].output_stream == "Microsoft-Syslog"


def test_a_declared_stream_is_never_replaced_by_a_derived_one(tmp_path):
    text = HEAD + (
        "tables:\n  Orders_CL:\n    columns: {TimeGenerated: datetime, OrderId: guid}\n"
        "rules:\n  r:\n    streams:\n      Custom-Orders: {TimeGenerated: datetime}\n    flows: [{table: Orders_CL}]\n"
    )
    s, _ = validate_scenario(write(tmp_path, text))
    assert [c.name for c in s.rules["r"].streams["Custom-Orders"]] == ["TimeGenerated"]
    assert s.rules["r"].derived_streams == () and s.notes == ()


def test_ensure_absent_marks_tables_rules_and_the_endpoint(tmp_path):
    text = HEAD + (
        "endpoint: {name: dce-x, ensure: absent}\n"
        "tables:\n  Old_CL: {ensure: absent}\n"
        "rules:\n  dcr-old: {ensure: absent}\n"
    )
    s, diagnostics = validate_scenario(write(tmp_path, text))
    assert [d for d in diagnostics if d.is_error] == []
    assert (s.endpoint.ensure, s.tables["Old_CL"].ensure, s.rules["dcr-old"].ensure) == ("absent", "absent", "absent")


def test_subscription_defaults_to_the_workspace_one_and_name_to_the_file(tmp_path):
    s, _ = load_scenario(write(tmp_path, HEAD, "my-setup.yaml"))
    assert s.subscription == "11111111-1111-4111-8111-111111111111"
    assert s.name == "my-setup"


def test_transform_position_is_recorded_for_inline_quoted_and_block_text(tmp_path):
    text = HEAD + (
        "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime}\n"
        "rules:\n  r:\n    streams:\n      Custom-In: {TimeGenerated: datetime}\n"
        "    flows:\n"
        "      - {stream: Custom-In, table: A_CL, transform: source}\n"
        "      - stream: Custom-In\n        table: A_CL\n        transform: \"source | where true\"\n"
        "      - stream: Custom-In\n        table: A_CL\n        transform: |\n          source\n          | where true\n"
    )
    s, _ = load_scenario(write(tmp_path, text))
    flows = s.rules["r"].flows
    assert (flows[0].transform_line, flows[0].transform_column) == (12, 53)
    assert (flows[1].transform_line, flows[1].transform_column) == (15, 21)
    assert (flows[2].transform_line, flows[2].transform_column) == (19, 11)


def test_kql_positions_are_shifted_into_the_file(tmp_path):
    from provision.scenario.positions import place_in_file

    text = HEAD + (
        "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime}\n"
        "rules:\n  r:\n    streams:\n      Custom-In: {TimeGenerated: datetime}\n"
        "    flows:\n      - stream: Custom-In\n        table: A_CL\n        transform: |\n          source\n          | where bad\n"
    )
    path = write(tmp_path, text)
    loaded = load_scenario(path)[0]
    flow = loaded.rules["r"].flows[0]
    d = place_in_file(Diagnostic("error", "UnknownColumn", "no column 'bad'", line=2, column=9), flow, str(path), loaded.source_lines)
    assert (d.line, d.column) == (16, 19)
    assert d.excerpt.splitlines()[1].index("^") == 18 and text.splitlines()[15][18:21] == "bad"


def test_require_valid_raises_with_every_error(tmp_path):
    path = write(tmp_path, "location: x\nworkspace: nope\nresource_group: 'a b'\n")
    with pytest.raises(SpecError) as caught:
        require_valid(path)
    assert {d.code for d in caught.value.diagnostics} == {"WorkspaceId", "ResourceGroupName"}
    assert "nothing was sent to Azure" in caught.value.message


def test_yaml_11_booleans_and_numbers_stay_names_as_keys(tmp_path):
    text = HEAD + "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime, On: string, No: boolean, Y2: int}\n"
    s, _ = validate_scenario(write(tmp_path, text))
    assert [c.name for c in s.tables["A_CL"].columns] == ["TimeGenerated", "On", "No", "Y2"]


REPLACEMENTS = ("", " [1, 2]", " {a: 1}", " ~", " 5", " yes", " '${'", " ${NOPE}", " [", " \"x")


def test_no_mutation_of_the_scenarios_makes_the_loader_raise(tmp_path):
    # Every line of every shipped scenario: dropped, or its value replaced by something of the wrong kind.
    # The loader and the rules must answer with diagnostics, never an exception.
    from pathlib import Path

    scenarios = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
    runs = 0
    for source in scenarios:
        lines = source.read_text().splitlines()
        for index, line in enumerate(lines):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            variants = ["\n".join(lines[:index] + lines[index + 1:])]
            if ":" in line:
                key = line.split(":", 1)[0]
                variants += ["\n".join(lines[:index] + [key + ":" + r] + lines[index + 1:]) for r in REPLACEMENTS]
            for variant in variants:
                path = write(tmp_path, variant + "\n", "mutated.yaml")
                scenario, diagnostics = validate_scenario(path, environ={})
                assert all(isinstance(d, Diagnostic) for d in diagnostics)
                if scenario is not None and not any(d.is_error for d in diagnostics):
                    assert render_resources(scenario) and render_arm(scenario)  # valid means renderable
                runs += 1
    assert runs > 500


def test_an_unresolved_variable_is_reported_once_not_as_a_cascade(tmp_path):
    text = "location: westeurope\nworkspace: ${WS_ID}\nresource_group: rg\npublishers:\n  - app_id: ${SENDER}\n"
    _, diagnostics = validate_scenario(write(tmp_path, text), environ={})
    errors = [(d.code, d.line) for d in diagnostics if d.is_error]
    assert errors == [("UnresolvedVariable", 2), ("UnresolvedVariable", 5)]


def test_an_unsupported_table_is_one_error_not_one_per_column(tmp_path):
    text = HEAD + "tables:\n  Orders:\n    columns: {TimeGenerated: datetime, Amount: real}\n"
    _, diagnostics = validate_scenario(write(tmp_path, text))
    assert [d.code for d in diagnostics] == ["TableNotSupported"]


def test_a_flow_to_an_unknown_table_is_one_error(tmp_path):
    text = HEAD + "rules:\n  r:\n    flows: [{table: Nope_CL}]\n"
    _, diagnostics = validate_scenario(write(tmp_path, text))
    assert [(d.code, d.line) for d in diagnostics] == [("FlowTableUnknown", 6)]


BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh"))


@pytest.mark.parametrize("text,fragment", [
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + BOMB, "expands to more than"),  # 9**8 values from a few lines
    ("a: &a [*a]\n", "refers to a mapping or list that contains it"),
    ("a: " + "[" * 80 + "]" * 80 + "\n", "nested more than"),
])
def test_alias_bombs_cycles_and_deep_nesting_are_errors_not_hangs(tmp_path, text, fragment):
    scenario, diagnostics = load_scenario(write(tmp_path, text))
    assert scenario is None
    assert [d.code for d in diagnostics] == ["YamlTooComplex"] and fragment in diagnostics[0].message


def test_excerpts_of_very_long_lines_are_cut_around_the_caret(tmp_path):
    query = "source | extend TimeGenerated = now()" + " | extend a = 1" * 300 + " | extend b = nosuch(1)"
    text = HEAD + (
        "tables:\n  A_CL:\n    columns: {TimeGenerated: datetime}\n"
        "rules:\n  r:\n    streams:\n      Custom-In: {X: string}\n"
        f"    flows:\n      - stream: Custom-In\n        table: A_CL\n        transform: {query} | project TimeGenerated\n"
    )
    _, diagnostics = validate_scenario(write(tmp_path, text))
    error = next(d for d in diagnostics if d.code == "UnknownFunction")
    shown, caret = error.excerpt.splitlines()
    assert len(shown) <= 130 and shown.startswith("...")
    assert shown[caret.index("^"):].startswith("nosuch(")


@pytest.mark.parametrize("value,fragment", [
    ("!!python/object:os.system ls", "!!python/object:os.system"),  # the safe loader refuses it: an error, not a crash
    ("!custom x", "!custom"),
    ("!!int abc", "!!int"),
    ("!!timestamp abc", "!!timestamp"),
    ("!!binary aGVsbG8=", "!!binary"),
])
def test_tagged_values_the_safe_loader_cannot_build_are_errors_at_their_line(tmp_path, value, fragment):
    _, diagnostics = load_scenario(write(tmp_path, HEAD + f"name: {value}\n"))
    tags = [d for d in diagnostics if d.code == "YamlTag"]
    assert len(tags) == 1 and fragment in tags[0].message and tags[0].line == 4


def test_an_untagged_value_that_only_looks_like_a_date_is_text(tmp_path):
    s, diagnostics = load_scenario(write(tmp_path, HEAD + "name: 2024-13-45\n"))
    assert [d for d in diagnostics if d.is_error] == [] and s.name == "2024-13-45"


@pytest.mark.parametrize("merge", ["<<: text", "<<: [1, 2]"])
def test_a_bad_merge_key_is_an_error_at_its_line(tmp_path, merge):
    _, diagnostics = load_scenario(write(tmp_path, HEAD + merge + "\n"))
    assert [(d.code, d.line) for d in diagnostics if d.code == "YamlMerge"] == [("YamlMerge", 4)]


def test_defaults_nested_thousands_deep_are_a_variable_error_not_a_crash(tmp_path):
    text = HEAD.replace("location: westeurope", "location: " + "${A:-" * 3000 + "x" + "}" * 3000)
    _, diagnostics = load_scenario(write(tmp_path, text))
    errors = [d for d in diagnostics if d.is_error]
    assert [d.code for d in errors] == ["VariableSyntax"] and "nested more than" in errors[0].message
    assert len(errors[0].message) < 200
