"""Every offline rule of `provision validate`, each with a bad case (reported, with file:line, fix and source)
and a good case (not reported). Sources are cited per case; they point into shared/reference/azure-contract.md.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from provision.scenario import validate_scenario

WS = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-local/providers/Microsoft.OperationalInsights/workspaces/law-local"
BASE = {
    "location": "westeurope",
    "workspace": WS,
    "resource_group": "rg-local",
    "tables": {"Orders_CL": {"columns": {"TimeGenerated": "datetime", "OrderId": "string", "Amount": "real"}}},
    "rules": {"dcr-orders": {"flows": [{"table": "Orders_CL"}]}},
    "publishers": [{"app_id": "a2a2a2a2-0000-4000-8000-000000000002"}],
}


def run(tmp_path, doc, **kwargs):
    path = tmp_path / "scenario.yaml"
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False)
    path.write_text(text)
    scenario, diagnostics = validate_scenario(path, **kwargs)
    return scenario, diagnostics, text


def edit(fn):
    doc = copy.deepcopy(BASE)
    fn(doc)
    return doc


def cols(doc, table="Orders_CL"):
    return doc["tables"][table]["columns"]


def set_cols(**columns):
    return lambda d: cols(d).update(columns)


def with_stream(columns, transform="source", stream="Custom-OrdersRaw"):
    def fn(d):
        d["rules"]["dcr-orders"]["streams"] = {stream: columns}
        d["rules"]["dcr-orders"]["flows"] = [{"stream": stream, "table": "Orders_CL", "transform": transform}]
    return fn


def syslog(columns):
    def fn(d):
        d["tables"]["Syslog"] = {"columns": columns}
    return fn


def table_props(**props):
    return lambda d: d["tables"]["Orders_CL"].update(props)


def many_flows(n):
    def fn(d):
        d["rules"]["dcr-orders"]["flows"] = [{"table": "Orders_CL"} for _ in range(n)]
    return fn


def many_streams(n):
    def fn(d):
        d["rules"]["dcr-orders"]["streams"] = {f"Custom-S{i}": {"TimeGenerated": "datetime"} for i in range(n)}
        d["rules"]["dcr-orders"]["flows"] = [{"streams": [f"Custom-S{i}" for i in range(n)], "table": "Orders_CL"}]
    return fn


def auxiliary(transform="source"):
    def fn(d):
        d["tables"]["Orders_CL"]["plan"] = "Auxiliary"
        d["rules"]["dcr-orders"]["flows"] = [{"table": "Orders_CL", "transform": transform}]
    return fn


def two_tables(plan):
    def fn(d):
        d["tables"]["Orders_CL"]["plan"] = plan
        d["tables"]["Other_CL"] = {"columns": {"TimeGenerated": "datetime"}}
        d["rules"]["dcr-orders"]["flows"] = [{"table": "Orders_CL"}, {"table": "Other_CL"}]
    return fn


def publisher(**p):
    return lambda d: d.update(publishers=[p])


def nothing(d):
    pass


# (rule code, bad edit, good edit, source cited by the rule)
CASES = [
    # table names: [DOC-TABLE] custom tables end in _CL; tableName 4-63 characters
    ("TableName", lambda d: d["tables"].update({"Bad-Name_CL": {"columns": {"TimeGenerated": "datetime"}}}),
     lambda d: d["tables"].update({"GoodName_CL": {"columns": {"TimeGenerated": "datetime"}}}), "DOC-TABLE"),
    ("TableName", lambda d: d["tables"].update({"T" * 61 + "_CL": {"columns": {"TimeGenerated": "datetime"}}}),
     lambda d: d["tables"].update({"T" * 60 + "_CL": {"columns": {"TimeGenerated": "datetime"}}}), "DOC-TABLE"),
    # other names must be Azure tables the Logs Ingestion API supports ([DOC-LIA] §Supported tables)
    ("TableNotSupported", lambda d: d["tables"].update({"MyTable": {"columns": {"X_CF": "string"}}}), syslog({"X_CF": "string"}), "Supported tables"),
    # column names: letter first, letters/digits/_, 2-45 chars ([DOC-TABLE] §Add or delete a custom column)
    ("ColumnName", set_cols(**{"1Amount": "real"}), set_cols(Amount1="real"), "DOC-TABLE"),
    ("ColumnName", set_cols(A="real"), set_cols(Ab="real"), "DOC-TABLE"),
    ("ColumnName", set_cols(**{"A" * 46: "real"}), set_cols(**{"A" * 45: "real"}), "DOC-TABLE"),
    ("ColumnName", set_cols(**{"Order.Id": "string"}), set_cols(Order_Id="string"), "DOC-TABLE"),
    ("ColumnName", set_cols(Größe="string"), set_cols(Groesse="string"), "DOC-TABLE"),
    # _CF suffix on Azure tables
    ("ColumnNeedsCF", syslog({"AppName": "string"}), syslog({"AppName_CF": "string"}), "DOC-TABLE"),
    # differ only by case: warned on Analytics, error on Auxiliary (next case)
    ("ColumnCaseClash", set_cols(amount="real"), set_cols(amount2="real"), "DOC-TABLE"),
    # types ([SPEC-TBL25-07] Column.type); case-insensitive spellings are accepted
    ("ColumnType", set_cols(Amount="float"), set_cols(Amount="REAL", When="DateTime"), "SPEC-TBL25-07"),
    ("StreamTypeGuid", with_stream({"TimeGenerated": "datetime", "OrderId": "guid"}, "source | extend OrderId = toguid(OrderId)"),
     with_stream({"TimeGenerated": "datetime", "OrderId": "string"}), "SPEC-DCR"),
    ("StreamType", with_stream({"TimeGenerated": "datetime", "OrderId": "text"}), with_stream({"TimeGenerated": "dateTime", "OrderId": "string"}), "SPEC-DCR"),
    # TimeGenerated mandatory, datetime ([DOC-TABLE])
    ("MissingTimeGenerated", lambda d: cols(d).pop("TimeGenerated"), nothing, "TimeGenerated is mandatory"),
    ("TimeGeneratedType", set_cols(TimeGenerated="string"), set_cols(TimeGenerated="datetime"), "TimeGenerated is mandatory"),
    # at most 500 columns ([DOC-WSLIM])
    ("TooManyColumns", set_cols(**{f"C{i}": "string" for i in range(498)}), set_cols(**{f"C{i}": "string" for i in range(497)}), "DOC-WSLIM"),
    # retention 4-730 / total 4-4383 or -1 ([SPEC-TBL25-07])
    ("RetentionRange", table_props(retention_days=3), table_props(retention_days=4), "SPEC-TBL25-07"),
    ("RetentionRange", table_props(retention_days=731), table_props(retention_days=730), "SPEC-TBL25-07"),
    ("RetentionRange", table_props(total_retention_days=4384), table_props(total_retention_days=4383), "SPEC-TBL25-07"),
    ("RetentionRange", table_props(retention_days=0), table_props(retention_days=-1, total_retention_days=-1), "SPEC-TBL25-07"),
    ("RetentionReadOnly", table_props(plan="Basic", retention_days=30), table_props(plan="Basic", total_retention_days=30), "SPEC-TBL25-07"),
    ("RetentionTotalBelowInteractive", table_props(retention_days=90, total_retention_days=30), table_props(retention_days=30, total_retention_days=90), "SPEC-TBL25-07"),
    ("PlanValue", table_props(plan="Premium"), table_props(plan="analytics"), "SPEC-TBL25-07"),
    ("PlanOnAzureTable", lambda d: d["tables"].update({"Syslog": {"plan": "Basic", "columns": {"A_CF": "string"}}}), syslog({"A_CF": "string"}), "SPEC-TBL25-07"),
    # reserved names ([DOC-TABLE])
    ("ColumnReserved", set_cols(TenantId="string"), set_cols(TenantName="string"), "DOC-TABLE"),
    # DCR streams must begin with Custom- ([DOC-DCR-STRUCT] §Stream declarations)
    ("StreamName", with_stream({"TimeGenerated": "datetime"}, stream="OrdersRaw"), with_stream({"TimeGenerated": "datetime"}, stream="Custom-OrdersRaw"), "DOC-DCR-STRUCT"),
    ("StreamEmpty", with_stream({}), with_stream({"TimeGenerated": "datetime"}), "DOC-DCR-STRUCT"),
    # every flow's stream declared or derivable ([DOC-DCR-STRUCT] §Data flows)
    ("FlowStreamUndeclared", lambda d: d["rules"]["dcr-orders"]["flows"][0].update(stream="Custom-Nope"),
     lambda d: d["rules"]["dcr-orders"]["flows"][0].update(stream="Custom-Orders"), "DOC-DCR-STRUCT"),
    # every flow's table declared or a supported Azure table
    ("FlowTableUnknown", lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "Missing_CL"}),
     lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "Orders_CL"}), "Supported tables"),
    ("FlowTableUnknown", lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "SysLogs", "stream": "Custom-Orders"}),
     lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "Syslog", "stream": "Custom-Syslog"}), "Supported tables"),
    ("FlowTableAbsent", lambda d: d["tables"]["Orders_CL"].update(ensure="absent"), lambda d: d["tables"]["Orders_CL"].update(ensure="present"), "DOC-DCR-STRUCT"),
    # limits ([DOC-LIMITS-DCR])
    ("TooManyDataFlows", many_flows(11), many_flows(10), "DOC-LIMITS-DCR"),
    ("TooManyStreams", many_streams(11), many_streams(10), "DOC-LIMITS-DCR"),
    ("TransformTooLong", lambda d: d["rules"]["dcr-orders"]["flows"][0].update(transform="source" + " " * 15_355),
     lambda d: d["rules"]["dcr-orders"]["flows"][0].update(transform="source" + " " * 15_354), "DOC-LIMITS-DCR"),
    # Auxiliary: no transform, one table per DCR
    ("AuxiliaryTransform", auxiliary("source | where Amount > 0"), auxiliary("source"), "Auxiliary"),
    ("AuxiliaryOneTable", two_tables("Auxiliary"), two_tables("Analytics"), "Auxiliary"),
    # transform: source -> the stream must fit the table ([DOC-DCR-STRUCT] §Data flows)
    ("SourceColumnNotInTable", with_stream({"TimeGenerated": "datetime", "Extra": "string"}), with_stream({"TimeGenerated": "datetime", "OrderId": "string"}), "DOC-DCR-STRUCT"),
    ("SourceTypeMismatch", with_stream({"TimeGenerated": "datetime", "Amount": "string"}), with_stream({"TimeGenerated": "datetime", "Amount": "real"}), "DOC-DCR-STRUCT"),
    ("SourceNoTimeGenerated", with_stream({"OrderId": "string"}), with_stream({"TimeGenerated": "datetime", "OrderId": "string"}), "TimeGenerated"),
    # Azure tables cannot be deleted ([DOC-TABLE])
    ("AzureTableDelete", lambda d: d["tables"].update({"Syslog": {"ensure": "absent"}}), lambda d: d["tables"]["Orders_CL"].update(ensure="absent") or d.pop("rules") or d.pop("publishers"), "DOC-TABLE"),
    # publishers: valid GUIDs, one identity each ([SPEC-RA] principalId)
    ("PublisherGuid", publisher(app_id="sender-app"), publisher(app_id="A2A2A2A2-0000-4000-8000-000000000002"), "SPEC-RA"),
    ("PublisherIdentity", publisher(app_id="a2a2a2a2-0000-4000-8000-000000000002", object_id="b2b2b2b2-0000-4000-8000-000000000002"),
     publisher(object_id="b2b2b2b2-0000-4000-8000-000000000002"), "SPEC-RA"),
    # DCR/DCE names are ARM id path segments
    ("ResourceName", lambda d: d["rules"].update({"dcr/other": {"flows": [{"table": "Orders_CL"}]}}),
     lambda d: d["rules"].update({"dcr-other.v2": {"flows": [{"table": "Orders_CL"}]}}), "azure-contract.md §1"),
    ("ResourceName", lambda d: d.update(endpoint={"name": "dce orders"}), lambda d: d.update(endpoint={"name": "dce-orders"}), "azure-contract.md §1"),
    ("ColumnReservedCase", set_cols(ID="string"), set_cols(Ident="string"), "DOC-TABLE"),
    ("DescriptionLength", lambda d: d["rules"]["dcr-orders"].update(description="x" * 257),
     lambda d: d["rules"]["dcr-orders"].update(description="x" * 256), "256"),
    ("FlowManyStreams", lambda d: (many_streams(2)(d), d["rules"]["dcr-orders"]["flows"][0].update(transform="source | where true")),
     lambda d: (many_streams(2)(d), d["rules"]["dcr-orders"]["flows"][0].update(transform="source")), "DOC-DCR-STRUCT"),
    ("FlowStreamKeys", lambda d: d["rules"]["dcr-orders"]["flows"][0].update(stream="Custom-Orders", streams=["Custom-Orders"]),
     lambda d: d["rules"]["dcr-orders"]["flows"][0].update(streams=["Custom-Orders"]), "README"),
    ("RuleNoFlows", lambda d: d["rules"]["dcr-orders"].update(flows=[]), nothing, "DOC-DCR-STRUCT"),
    ("PublisherDuplicate", lambda d: d.update(publishers=[{"app_id": "a2a2a2a2-0000-4000-8000-000000000002"}, {"app_id": "A2A2A2A2-0000-4000-8000-000000000002"}]),
     lambda d: d.update(publishers=[{"app_id": "a2a2a2a2-0000-4000-8000-000000000002"}, {"object_id": "b2b2b2b2-0000-4000-8000-000000000002"}]), "SPEC-RA"),
    ("PublishersWithoutRule", lambda d: d.pop("rules"), nothing, "SPEC-RA"),
    # structure
    ("UnknownKey", lambda d: d.update(locaton="westeurope"), nothing, "README"),
    ("MissingKey", lambda d: d.pop("location"), nothing, "README"),
    ("ScenarioName", lambda d: d.update(name="../../evil"), lambda d: d.update(name="orders-v2.1"), "README"),  # names <name>.deployment.json
    ("EmptyValue", lambda d: d.update(workspace="${NOT_SET_ANYWHERE:-}"), nothing, "README"),  # was reported as "missing"
    ("DuplicateFlow", lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "Orders_CL"}),
     lambda d: d["rules"]["dcr-orders"]["flows"].append({"table": "Orders_CL", "transform": "source | where Amount > 0"}), "DOC-DCR-STRUCT"),
    ("WorkspaceId", lambda d: d.update(workspace="law-local"), nothing, "azure-contract.md §2"),
    ("ResourceGroupName", lambda d: d.update(resource_group="rg/local"), lambda d: d.update(resource_group="rg.local(1)"), "CT5"),
    ("EnsureValue", table_props(ensure="deleted"), table_props(ensure="present"), "README"),
    ("EndpointNetworkAccess", lambda d: d.update(endpoint={"name": "dce-x", "public_network_access": "Off"}),
     lambda d: d.update(endpoint={"name": "dce-x", "public_network_access": "disabled"}), "SPEC-DCE"),
    # env/GitHub/Azure DevOps output variables: dcr-orders and dcr_orders would both be DCR_DCR_ORDERS_ID
    ("OutputNameClash", lambda d: d["rules"].update({"dcr_orders": {"flows": [{"table": "Orders_CL", "transform": "source | where Amount > 0"}]}}),
     lambda d: d["rules"].update({"dcr-orders2": {"flows": [{"table": "Orders_CL", "transform": "source | where Amount > 0"}]}}), "README"),
]


def _ids():
    seen: dict[str, int] = {}
    out = []
    for code, *_ in CASES:
        seen[code] = seen.get(code, 0) + 1
        out.append(f"{code}-{seen[code]}")
    return out


def test_base_scenario_is_clean(tmp_path):
    scenario, diagnostics, _ = run(tmp_path, BASE)
    assert scenario is not None
    assert [d.format() for d in diagnostics if d.severity != "info"] == []


@pytest.mark.parametrize("code,bad,good,source", CASES, ids=_ids())
def test_rule_bad_case_is_reported(tmp_path, code, bad, good, source):
    _, diagnostics, text = run(tmp_path, edit(bad))
    hits = [d for d in diagnostics if d.code == code]
    assert hits, f"{code} not reported; got {[d.format() for d in diagnostics]}"
    for d in hits:
        assert d.file and d.file.endswith("scenario.yaml")
        assert d.line is not None and 1 <= d.line <= len(text.splitlines())
        assert d.fix, "every diagnostic says how to fix it"
        assert source in d.source, f"{code} should cite {source}, cites {d.source!r}"


@pytest.mark.parametrize("code,bad,good,source", CASES, ids=_ids())
def test_rule_good_case_is_not_reported(tmp_path, code, bad, good, source):
    _, diagnostics, _ = run(tmp_path, edit(good))
    assert [d.format() for d in diagnostics if d.code == code] == []
    assert [d.format() for d in diagnostics if d.is_error] == []


@pytest.mark.parametrize("name", ["id", "BilledSize", "IsBillable", "InvalidTimeGenerated", "TenantId", "Title", "Type", "UniqueId",
                                  "_ItemId", "_ResourceGroup", "_ResourceId", "_SubscriptionId", "_TimeReceived"])
def test_every_reserved_column_name_is_rejected(tmp_path, name):
    # [DOC-TABLE] reserved column names (azure-contract.md §3.2); names starting with '_' also fail ColumnName
    _, diagnostics, _ = run(tmp_path, edit(set_cols(**{name: "string"})))
    assert "ColumnReserved" in {d.code for d in diagnostics if d.is_error}


def test_case_clash_is_an_error_on_auxiliary_and_a_warning_elsewhere(tmp_path):
    _, analytics, _ = run(tmp_path, edit(set_cols(amount="real")))
    assert [d.severity for d in analytics if d.code == "ColumnCaseClash"] == ["warning"]
    _, aux, _ = run(tmp_path, edit(lambda d: (set_cols(amount="real")(d), auxiliary()(d))))
    assert [d.severity for d in aux if d.code == "ColumnCaseClash"] == ["error"]


def test_warnings_alone_keep_the_scenario_valid(tmp_path):
    scenario, diagnostics, _ = run(tmp_path, edit(set_cols(amount="real")))
    assert scenario is not None and diagnostics and not any(d.is_error for d in diagnostics)


def test_empty_non_source_transform_is_an_error_at_its_line(tmp_path):
    doc = edit(lambda d: d["rules"]["dcr-orders"]["flows"][0].update(transform="   "))
    _, diagnostics, text = run(tmp_path, doc)
    errors = [d for d in diagnostics if d.is_error]
    assert errors, "an empty transform must be rejected"
    transform_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "transform:" in ln)
    assert errors[0].line == transform_line


def test_all_problems_are_reported_in_one_run(tmp_path):
    def many(d):
        d.update(locaton="x")
        set_cols(TenantId="string", Amount="float", **{"1x": "int"})(d)
        d["tables"]["Orders_CL"]["retention_days"] = 1000
        d["publishers"] = [{"app_id": "nope"}]
    _, diagnostics, _ = run(tmp_path, edit(many))
    codes = {d.code for d in diagnostics if d.is_error}
    assert {"UnknownKey", "ColumnReserved", "ColumnType", "ColumnName", "RetentionRange", "PublisherGuid"} <= codes


def test_diagnostics_point_at_the_offending_line(tmp_path):
    text = (
        "location: westeurope\n"
        f"workspace: {WS}\n"
        "resource_group: rg-local\n"
        "tables:\n"
        "  Orders_CL:\n"
        "    retention_days: 1000\n"
        "    columns:\n"
        "      TimeGenerated: datetime\n"
        "      TenantId: string\n"
    )
    _, diagnostics, _ = run(tmp_path, text)
    where = {d.code: d.line for d in diagnostics}
    assert where["RetentionRange"] == 6
    assert where["ColumnReserved"] == 9


def test_an_unresolved_resource_group_is_reported_once_as_a_variable(tmp_path):
    _, diagnostics, _ = run(tmp_path, edit(lambda d: d.update(resource_group="${NOT_SET_ANYWHERE}")))
    assert [d.code for d in diagnostics if d.is_error] == ["UnresolvedVariable"]


def test_a_folder_or_a_non_utf8_file_is_a_clear_error(tmp_path):
    folder = tmp_path / "s.yaml"
    folder.mkdir()
    _, diagnostics = validate_scenario(folder)
    assert [d.code for d in diagnostics] == ["FileUnreadable"] and "is a folder" in diagnostics[0].message
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"location: x\n# caf\xe9\n")
    _, diagnostics = validate_scenario(latin)
    assert [(d.code, d.line) for d in diagnostics] == [("FileUnreadable", 2)] and "not UTF-8" in diagnostics[0].message
