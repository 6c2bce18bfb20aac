"""The 'transform' command group through Typer's CliRunner (exit codes, text and JSON output)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from provision.cli import app

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_check_valid_prints_schema_and_exits_0():
    result = invoke("transform", "check", "--columns", "Time:datetime,Msg:string", "--query",
                    "source | extend TimeGenerated = Time | project-away Time", "--table-columns", "TimeGenerated:dateTime,Msg:string")
    assert result.exit_code == 0, result.output
    assert "Msg: string" in result.output and "TimeGenerated: datetime" in result.output


def test_check_invalid_exits_1_with_caret_and_fix():
    result = invoke("transform", "check", "--columns", "Time:datetime", "--query", "source | extend TimeGenerated = Tim")
    assert result.exit_code == 1
    assert "1:33: error [UnknownColumn] unknown column 'Tim'" in result.output
    assert "^" in result.output and "did you mean 'Time'?" in result.output


def test_check_json_format():
    result = invoke("transform", "check", "--columns", "Time:datetime", "--query", "source | extend TimeGenerated = Time, x = coalesce(1, 2)",
                    "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["valid"] is False
    assert {"name": "TimeGenerated", "type": "datetime"} in payload["output_columns"]
    diag = payload["diagnostics"][0]
    assert {k: diag[k] for k in ("severity", "code", "line", "column")} == {"severity": "error", "code": "UnsupportedFunction", "line": 1, "column": 43}


def test_check_strict_profile_and_azure_table():
    args = ["transform", "check", "--columns", "Time:datetime,Computer:string,SyslogMessage:string", "--query",
            "source | extend TimeGenerated = Time, SyslogMessage = iff(true, SyslogMessage, '') | project-away Time", "--table", "Syslog"]
    assert invoke(*args).exit_code == 0
    strict = invoke(*args, "--profile", "strict")
    assert strict.exit_code == 1 and "strict profile" in strict.output


def test_check_usage_errors_exit_1_without_traceback():
    for args in (["--columns", "Time:datetme", "--query", "source"], ["--columns", "Time:datetime"],
                 ["--columns", "Time:datetime", "--query", "source", "--table", "Mine_CL"],
                 ["--columns", "Time:datetime", "--query", "source", "--profile", "loose"]):
        result = invoke("transform", "check", *args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output


def test_run_prints_rows_and_drop_summary(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"Time": "2024-01-01T10:00:00Z", "EventId": "74BE27DE-1E4E-49D9-B579-FE0B331D3642", "Level": "Info",
                                "Message": "hi", "DurationMs": 1.5, "Properties": {"a": 1}}) + "\n\n" + json.dumps({"Level": "Warn"}) + "\n")
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart:1", "--file", str(rows))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    first = json.loads(lines[0])
    assert first["TimeGenerated"] == "2024-01-01T10:00:00Z" and first["EventId"] == "74be27de-1e4e-49d9-b579-fe0b331d3642"
    assert "Time" not in first
    assert "2 row(s) in, 2 out to AppEvents_CL, 0 filtered out by where, 0 dropped" in result.output


def test_run_json_format_and_flow_without_number(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"Time": "2024-01-01T10:00:00Z", "Level": "Info"}]))
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(rows), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"][0]["Level"] == "Info" and payload["filtered"] == 0 and payload["dropped"] == []
    assert {"name": "TimeGenerated", "type": "datetime"} in payload["output_columns"]


def test_run_bad_inputs_are_clear_errors(tmp_path):
    bad = tmp_path / "rows.json"
    bad.write_text("[{\"a\": 1},\n {oops}]")
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart:1", "--file", str(bad))
    assert result.exit_code == 1 and f"{bad}:2:3: not JSON" in result.output
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart:3", "--file", str(bad))
    assert result.exit_code == 1 and "flow number must be 1 to 1" in result.output
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "other:1", "--file", str(bad))
    assert result.exit_code == 1 and "no rule 'other'" in result.output


def test_non_utf8_files_are_clear_errors(tmp_path):
    binary = tmp_path / "rows.json"
    binary.write_bytes(b"\x80\x81\xff")
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(binary))
    assert result.exit_code == 1 and "not UTF-8 text" in result.output, result.output
    assert not isinstance(result.exception, UnicodeDecodeError)
    result = invoke("transform", "check", "--columns", "Time:datetime", "--query-file", str(binary))
    assert result.exit_code == 1 and "not UTF-8 text" in result.output, result.output


def test_columns_twice_or_guid_input_are_usage_errors():
    # a stream column named twice (KQL names are case-insensitive) would silently shadow the first
    result = invoke("transform", "check", "--columns", "Time:datetime,time:string", "--query", "source")
    assert result.exit_code == 1 and "twice" in result.output
    # guid is a table type, not a stream type (azure-contract.md §5.2 [SPEC-DCR] ColumnDefinition.type)
    result = invoke("transform", "check", "--columns", "Time:datetime,Id:guid", "--query", "source")
    assert result.exit_code == 1 and "toguid(Id)" in result.output
    result = invoke("transform", "check", "--columns", "Time:datetime", "--table-columns", "TimeGenerated:dateTime,Id:guid",
                    "--query", "source | extend TimeGenerated = Time, Id = toguid('x')")
    assert result.exit_code == 0, result.output


def test_caret_lines_up_under_a_query_with_tabs():
    result = invoke("transform", "check", "--columns", "Time:datetime", "--query", "source\n\t| extend TimeGenerated = Time, X = nosuch(1)")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    source = next(ln for ln in lines if "nosuch(1)" in ln and "extend" in ln)
    caret = lines[lines.index(source) + 1]
    assert caret.expandtabs(8).index("^") == source.expandtabs(8).index("nosuch")


def test_deeply_nested_queries_are_a_clear_error_not_an_internal_one():
    # 15,360 characters leave room for thousands of nesting levels; the recursive parser/checker must say so cleanly
    for query in ("print TimeGenerated = now(), x = " + "(" * 3000 + "1" + ")" * 3000,
                  "print TimeGenerated = now(), x = 1" + " + 1" * 3000,
                  "print TimeGenerated = now(), x = dynamic(" + "[" * 3000 + "]" * 3000 + ")"):
        result = invoke("transform", "check", "--columns", "", "--query", query)
        assert result.exit_code == 1 and "QueryTooComplex" in result.output, result.output[:300]
        assert not isinstance(result.exception, RecursionError)
    result = invoke("transform", "check", "--columns", "", "--query", "print TimeGenerated = now(), x = " + "(" * 100 + "1" + ")" * 100)
    assert result.exit_code == 0


def test_column_types_are_the_stream_or_table_spellings():
    # streams: string int long real boolean datetime dynamic (azure-contract.md §5.2); tables add guid and dateTime (§3.1)
    for columns, fragment in (("A:decimal", "not a stream column type"), ("A:timespan", "not a stream column type"),
                              ("A:bool", "write 'boolean'"), ("Time:datetime Msg:string", "separate columns with commas")):
        result = invoke("transform", "check", "--columns", columns, "--query", "print TimeGenerated = now()")
        assert result.exit_code == 1 and fragment in result.output, (columns, result.output)
    result = invoke("transform", "check", "--columns", "Time:DateTime,M:String", "--query", "print TimeGenerated = now()")
    assert result.exit_code == 0, result.output
    result = invoke("transform", "check", "--columns", "Time:datetime", "--table-columns", "TimeGenerated:dateTime,X:timespan",
                    "--query", "source | extend TimeGenerated = Time")
    assert result.exit_code == 1 and "not a table column type" in result.output


def test_run_reads_json_lines_whatever_the_extension_and_says_when_the_file_is_empty(tmp_path):
    lines = tmp_path / "rows.json"
    lines.write_text('{"Time": "2024-01-01T00:00:00Z"}\n{"Time": "2024-01-02T00:00:00Z"}\n')
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(lines), "--format", "json")
    assert result.exit_code == 0 and len(json.loads(result.output)["rows"]) == 2, result.output
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(empty))
    assert result.exit_code == 1 and "is empty" in result.output


def test_check_refuses_a_query_over_the_dcr_length_limit():
    query = "source | extend TimeGenerated = now()" + " " * 15_400  # azure-contract.md §8 [DOC-LIMITS-DCR]: 15,360 characters
    result = invoke("transform", "check", "--columns", "X:string", "--query", query, "--format", "json")
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and not payload["valid"] and payload["diagnostics"][0]["code"] == "TransformTooLong"


def test_run_rejects_nan_and_absurdly_deep_rows_clearly(tmp_path):
    weird = tmp_path / "rows.json"
    weird.write_text('[{"Level": NaN}]')  # Python's json extension, not JSON
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(weird))
    assert result.exit_code == 1 and "NaN is not valid JSON" in result.output
    deep = tmp_path / "deep.json"
    deep.write_text('[{"Properties": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    result = invoke("transform", "run", str(QUICKSTART), "--flow", "dcr-quickstart", "--file", str(deep))
    assert result.exit_code == 1 and "nested too deeply" in result.output
    assert not isinstance(result.exception, RecursionError)
