"""The newcomer moments of issue 14 in ``validate``: one clear error per mistake, "did you mean", the precise line.

Each test starts from the shipped quickstart and makes the one slip a new user made, then checks the whole
report: the error that names the slip, and nothing it set off (knock-on errors, contradictions, repeated advice).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.scenario import validate_scenario

QUICKSTART = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"


def slip(tmp_path, old: str, new: str) -> Path:
    text = QUICKSTART.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def report(path, **kwargs):
    _, diagnostics = validate_scenario(path, environ=kwargs.pop("environ", {}), **kwargs)
    return diagnostics


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize("written", ["AppEvents_LC", "AppEvents_cl", "AppEvents_Cl", "AppEventsCL"])
def test_a_custom_table_suffix_slip_is_one_error_suggesting_the_CL_name(tmp_path, written):
    path = slip(tmp_path, "AppEvents_CL", written)
    diagnostics = report(path)
    assert [d.code for d in diagnostics] == ["TableNotSupported"]  # no "PlanOnAzureTable ... is an Azure table"
    assert diagnostics[0].fix.startswith("did you mean 'AppEvents_CL'?")


def test_plan_on_a_real_azure_table_is_still_reported(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(QUICKSTART.read_text().split("tables:")[0] + "tables:\n  Syslog:\n    plan: Basic\n    columns: {A_CF: string}\n")
    assert "PlanOnAzureTable" in [d.code for d in report(path)]


def test_a_flow_to_a_suffix_slip_suggests_the_declared_table_at_the_table_line(tmp_path):
    path = slip(tmp_path, "        table: AppEvents_CL", "        table: AppEvents_cl")
    diagnostics = report(path)
    assert [(d.code, d.line) for d in diagnostics] == [("FlowTableUnknown", line_of(path, "table: AppEvents_cl"))]
    assert diagnostics[0].fix == "did you mean 'AppEvents_CL'?"


def test_flow_table_unknown_points_at_the_table_line_not_the_flows_first_line(tmp_path):
    path = slip(tmp_path, "        table: AppEvents_CL", "        table: Nope_CL")
    (diagnostic,) = report(path)
    assert diagnostic.code == "FlowTableUnknown"
    assert diagnostic.line == line_of(path, "table: Nope_CL") == line_of(path, "- stream: Custom-AppEventsRaw") + 1


@pytest.mark.parametrize("old,new,meant", [
    ("    columns:\n      TimeGenerated", "    colums:\n      TimeGenerated", "columns"),
    ("    flows:", "    flws:", "flows"),
    ("    streams:", "    stream:", "streams"),
    ("workspace: ", "workspce: ", "workspace"),
    ("        table: AppEvents_CL", "        tabel: AppEvents_CL", "table"),
    ("Properties: {type: dynamic,", "Properties: {typ: dynamic,", "type"),
])
def test_an_unknown_key_is_one_error_without_what_the_misspelling_left_missing(tmp_path, old, new, meant):
    path = slip(tmp_path, old, new)
    diagnostics = report(path)
    assert [(d.code, d.severity) for d in diagnostics] == [("UnknownKey", "error")]
    assert diagnostics[0].fix == f"did you mean '{meant}'?"


def test_missing_time_generated_is_not_followed_by_advice_to_drop_it(tmp_path):
    path = slip(tmp_path, "      TimeGenerated: datetime\n", "")
    diagnostics = report(path)
    assert [d.code for d in diagnostics] == ["MissingTimeGenerated"]
    assert "add 'TimeGenerated: datetime'" in diagnostics[0].fix
    assert not any("project-away TimeGenerated" in d.fix for d in diagnostics)


def test_extra_columns_are_still_warned_when_the_table_is_complete(tmp_path):
    path = slip(tmp_path, "      Message: string\n      DurationMs", "      DurationMs")  # the stream's Message has no column
    assert [(d.code, d.fix) for d in report(path)] == [("ExtraColumn", "add it to the table, or drop it with '| project-away Message'")]


@pytest.mark.parametrize("old,new,codes", [
    ("      Level: string\n      Message", "      Level: strng\n      Message", ["ColumnType"]),
    ("        Level: string\n        Message", "        Level: strng\n        Message", ["StreamType"]),
    ("      DurationMs: real\n      Prop", "      DurationMs: reall\n      Prop", ["ColumnType"]),
    ("      TimeGenerated: datetime", "      TimeGenerated: datetim", ["ColumnType"]),
])
def test_a_misspelt_type_gets_did_you_mean(tmp_path, old, new, codes):
    diagnostics = report(slip(tmp_path, old, new))
    assert [d.code for d in diagnostics][: len(codes)] == codes
    meant = {"strng": "string", "reall": "real", "datetim": "dateTime"}[new.split(": ")[1].split("\n")[0]]
    assert diagnostics[0].fix.startswith(f"did you mean '{meant}'?")


def test_a_type_alias_keeps_its_plain_fix(tmp_path):
    diagnostics = report(slip(tmp_path, "      DurationMs: real\n      Prop", "      DurationMs: float\n      Prop"))
    assert diagnostics[0].fix == "write 'real'"


def test_a_misspelt_variable_names_the_one_that_has_a_value(tmp_path):
    path = slip(tmp_path, "${RESOURCE_GROUP:-rg-local}", "${RESOUCE_GROUP}")
    (diagnostic,) = report(path, environ={"RESOURCE_GROUP": "rg-orders"})
    assert diagnostic.code == "UnresolvedVariable"
    assert diagnostic.fix.startswith("did you mean ${RESOURCE_GROUP} (it has a value)? Otherwise pass --var RESOUCE_GROUP=")
    (from_var,) = report(path, variables={"RESOURCE_GROUP": "rg"})
    assert from_var.fix.startswith("did you mean ${RESOURCE_GROUP}")


def test_an_unresolved_variable_with_nothing_close_keeps_the_plain_fix(tmp_path):
    (diagnostic,) = report(slip(tmp_path, "${RESOURCE_GROUP:-rg-local}", "${RESOUCE_GROUP}"), environ={"PATH": "/bin"})
    assert diagnostic.fix.startswith("pass --var RESOUCE_GROUP=...")


def test_a_secret_is_never_suggested_as_a_variable(tmp_path):
    path = slip(tmp_path, "${RESOURCE_GROUP:-rg-local}", "${CLIENT_SECRT}")
    (diagnostic,) = report(path, environ={"CLIENT_SECRET": "s3cr3t-value"})
    assert "CLIENT_SECRET" not in diagnostic.fix and "s3cr3t" not in diagnostic.fix
