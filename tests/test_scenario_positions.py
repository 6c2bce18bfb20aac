"""Where each character of a transform was written: KQL diagnostics land on the right character of the
scenario file for every YAML string style (plain, quoted with escapes, `|`/`>` blocks, multi-line plain),
and say so plainly when the place cannot be traced (text changed by ${VAR} substitution)."""

from __future__ import annotations

import pytest

from provision.scenario import validate_scenario
from provision.scenario.positions import string_positions
from provision.scenario.yamlsrc import parse_yaml

# YAML 1.1 §9 scalar styles, as libyaml reads them: folding, escapes, quote doubling, chomping, indicators.
STYLES = {
    "plain": "t: source | extend a = 1\n",
    "plain_multi_line": "t: source\n  | extend a = 1\n\n  | where b\n",
    "plain_with_tab": "t: source |\textend a\n",
    "single_doubled_quote": "t: 'it''s | x'\n",
    "single_multi_line": "t: 'a\n   b  \n\n   c'\n",
    "double_escapes": 't: "a\\tb \\"q\\" \\u00e9 \\x41 end"\n',
    "double_multi_line": 't: "source\n  | extend x = \\"a\\"\n\n  | where y"\n',
    "double_escaped_line_break": 't: "abc\\\n   def"\n',
    "literal": "t: |\n  source\n    | extend x\n\n  | where y\n",
    "literal_keep": "t: |+\n  source\n\n\nnext: 1\n",
    "literal_strip": "t: |-\n  source\n\n",
    "literal_indentation_indicator": "t: |2\n    source\n  x\n",
    "folded": "t: >\n  source\n  | extend x\n\n  | where y\n    more\n  end\n",
    "folded_strip": "t: >-\n  a\n  b\n",
    "crlf_line_ends": "t: >\r\n  a\r\n  b\r\n",
    "comment_after": "t: source # hi\nx: 1\n",
    "non_ascii": "t: 'é😀 | x'\n",
    "flow_mapping": "{t: source | where x, y: 1}\n",
    "in_a_sequence": "- t: |\n    a\n    b\n",
}


@pytest.mark.parametrize("name", list(STYLES))
def test_every_character_maps_back_to_where_it_was_written(name):
    text = STYLES[name]
    doc, problems = parse_yaml(text)
    assert problems == []
    value = doc[0]["t"] if isinstance(doc, list) else doc["t"]
    lines = text.splitlines()
    positions = string_positions(str(value), value.style, (value.line, value.column), value.end, lines)
    assert positions is not None and len(positions) == len(value)
    for index, char in enumerate(str(value)):
        line, column = positions[index]
        written = lines[line - 1][column - 1] if column <= len(lines[line - 1]) else "<end of line>"
        if char in " \n" and written in (" ", "<end of line>"):
            continue  # a folded line break points just after the line it ends
        assert written in (char, "\\"), (index, char, line, column, written)  # escapes point at their backslash


def test_a_value_that_does_not_match_the_source_has_no_positions():
    doc, _ = parse_yaml("t: source | where x\n")
    value = doc["t"]
    assert string_positions("something else", value.style, (value.line, value.column), value.end, ["t: source | where x"]) is None


WS = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1"
HEAD = (
    f"location: westeurope\nworkspace: {WS}\nresource_group: rg\n"
    "tables:\n  T_CL:\n    columns: {TimeGenerated: datetime, Msg: string}\n"
    "rules:\n  r:\n    streams:\n      Custom-S: {Time: datetime, Msg: string}\n    flows:\n"
    "      - stream: Custom-S\n        table: T_CL\n        transform: "
)
TAIL_QUERY = "source | extend TimeGenerated = Time | extend Bad = nosuch(Msg) | project-away Time, Bad"

TRANSFORMS = {
    "plain": TAIL_QUERY,
    "double_quoted_with_escapes": '"source | extend TimeGenerated = Time, X = \\"a\\tb\\" | extend Bad = nosuch(Msg) | project-away Time, Bad, X"',
    "single_quoted_with_doubled_quote": "'source | extend TimeGenerated = Time, X = ''q'' | extend Bad = nosuch(Msg) | project-away Time, Bad, X'",
    "folded_block": ">\n          source\n          | extend TimeGenerated = Time\n          | extend Bad = nosuch(Msg)\n          | project-away Time, Bad",
    "literal_block": "|\n          source\n          | extend TimeGenerated = Time\n          | extend Bad = nosuch(Msg)\n          | project-away Time, Bad",
    "plain_multi_line": "source\n          | extend TimeGenerated = Time\n          | extend Bad = nosuch(Msg)\n          | project-away Time, Bad",
    "literal_block_with_tab": "|\n          source\n          \t| extend TimeGenerated = Time, Bad = nosuch(Msg) | project-away Time, Bad",
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_kql_error_caret_is_on_the_right_character_in_the_file(tmp_path, name):
    path = tmp_path / "s.yaml"
    text = HEAD + TRANSFORMS[name] + "\n"
    path.write_text(text, encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    errors = [d for d in diagnostics if d.is_error]
    assert [d.code for d in errors] == ["UnknownFunction"], [d.format() for d in diagnostics]
    error = errors[0]
    line = text.splitlines()[error.line - 1]
    assert line[error.column - 1:].startswith("nosuch("), (error.line, error.column, line)
    source_line, caret_line = error.excerpt.splitlines()
    assert source_line.strip(".") in line  # (lines over 120 characters are cut around the caret)
    # the caret lines up under the function even when the line holds tabs (tabs are repeated, not replaced)
    assert source_line.expandtabs(8)[caret_line.expandtabs(8).index("^"):].startswith("nosuch(")


def test_end_of_query_error_points_after_the_last_character_not_past_the_block(tmp_path):
    path = tmp_path / "s.yaml"
    text = HEAD + "|\n          source\n          | extend TimeGenerated =\n\n      - stream: Custom-S\n        table: T_CL\n"
    path.write_text(text, encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    syntax = next(d for d in diagnostics if d.code == "SyntaxError")
    assert text.splitlines()[syntax.line - 1].endswith("| extend TimeGenerated =")
    assert syntax.column == len(text.splitlines()[syntax.line - 1]) + 1


def test_substituted_text_says_where_in_the_transform_instead_of_pointing_wrong(tmp_path):
    path = tmp_path / "s.yaml"
    text = HEAD + 'source | extend TimeGenerated = Time, Msg = strcat("${P:-abcdef}", Msg) | extend Bad = nosuch(1) | project-away Time, Bad\n'
    path.write_text(text, encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    error = next(d for d in diagnostics if d.code == "UnknownFunction")
    assert error.line == text.count("\n") and error.column == text.splitlines()[-1].index("source") + 1
    assert "column 82 of the transform text" in error.message and "${VAR} substitution" in error.message
    assert error.excerpt.splitlines()[1].index("^") == 81  # the excerpt is the resolved query, caret inside it


def test_toguid_added_for_a_derived_stream_does_not_move_positions(tmp_path):
    path = tmp_path / "s.yaml"
    text = (
        f"location: westeurope\nworkspace: {WS}\nresource_group: rg\n"
        "tables:\n  T_CL:\n    columns: {TimeGenerated: datetime, Id: guid}\n"
        "rules:\n  r:\n    flows:\n      - table: T_CL\n        transform: |\n          source\n          | extend Bad = nosuch(Id) | project-away Bad\n"
    )
    path.write_text(text, encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    error = next(d for d in diagnostics if d.code == "UnknownFunction")
    assert (error.line, error.column) == (13, 26)
    assert text.splitlines()[12][25:].startswith("nosuch(")


def test_a_yaml_comment_cutting_an_unquoted_transform_is_explained(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + 'source | extend TimeGenerated = Time, Msg = "issue #1" | project-away Time\n', encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    syntax = next(d for d in diagnostics if d.code == "SyntaxError")
    assert "as a comment" in syntax.fix
    path.write_text(HEAD + "source | extend TimeGenerated = Time, X = nosuch(1) | project-away Time, X  # a note\n", encoding="utf-8")
    _, diagnostics = validate_scenario(path)
    assert all("as a comment" not in d.fix for d in diagnostics)
