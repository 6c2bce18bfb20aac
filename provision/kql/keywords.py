"""Kusto keywords that cannot be used as bare names (write ['name'] instead).

Derived from Microsoft's parser (Kusto.Language 12.4.1, npm @kusto/language-service-next): every word
for which ``print x = <word>`` is a syntax error there. Sentinel DCRs quote them for this reason, e.g.
``project-away ['date'], type`` (Azure-Sentinel Solutions/Auth0/Data Connectors/Auth0_CCP/DCR.json).
Regenerate with tests/kql/node (see tests/kql/test_differential.py).
"""

RESERVED = frozenset({
    "__contextual_datatable", "__id", "accumulate", "and", "anomalychart", "areachart", "as", "asc", "bagexpansion",
    "barchart", "between", "bin_legacy", "boolean", "by", "byte", "cachingpolicy", "callout", "cancel", "card",
    "char", "columnchart", "contains", "contains_cs", "containscs", "cycles", "dataexport", "datascope", "datatable",
    "date", "datetime", "decimal", "decodeblocks", "desc", "double", "dynamic", "earliest", "encodingpolicy",
    "endswith", "endswith_cs", "expandoutput", "extent_tags_retention", "external_data", "externaldata", "find",
    "first", "flags", "float", "force_remote", "harddelete", "hardretention", "has", "has_all", "has_any", "has_cs",
    "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs", "hotcache", "in", "int", "int16", "int32", "int64",
    "int8", "invoke", "isfuzzy", "journal", "ladderchart", "last", "latest", "like", "likecs", "linechart", "long",
    "materialize", "mdm", "missing", "nooptimization", "notcontains", "notcontainscs", "notlike", "notlikecs", "of",
    "or", "others", "pathformat", "piechart", "pivotchart", "print", "project", "queries", "query_results", "real",
    "relaxed", "restricted_view_access", "row_level_security", "rowstore", "rowstore_references",
    "rowstore_sealinfo", "rowstorepolicy", "rowstores", "sample", "scatterchart", "seal", "seals", "search", "set",
    "shards", "simple", "softdelete", "softretention", "sql", "stackedareachart", "startswith", "startswith_cs",
    "statistics", "storedqueryresultcontainers", "string", "tablepurge", "time", "timechart", "timeline",
    "timepivot", "timespan", "title", "to", "toscalar", "totable", "treemap", "uint", "uint16", "uint32", "uint64",
    "uint8", "ulong", "union", "uniqueid", "unrestrictedviewers", "verbose", "viewers", "views", "where",
    "with_itemindex", "with_match_id", "with_step_name", "writeaheadlog",
})

# Words that may still name a new column, parameter or parsed column (``extend title = 1`` parses).
DECLARATION_OK = frozenset({
    "accumulate", "as", "by", "contains", "datatable", "earliest", "externaldata", "find", "has", "in", "invoke",
    "latest", "materialize", "mdm", "of", "print", "sample", "search", "set", "sql", "title", "to", "toscalar",
    "totable", "verbose", "viewers", "where",
})
