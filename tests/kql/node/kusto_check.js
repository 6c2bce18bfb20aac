// Microsoft's KQL parser/binder (Kusto.Language, @kusto/language-service-next) as an oracle for
// tests/kql/test_differential.py. stdin: JSON array of {query, columns: [[name, type]]};
// stdout: JSON array of {syntax: [{message, start}], errors: [{code, message, start}], columns: [[name, type]] | null}.
// `source` is bound by prefixing `let source = datatable(<columns>)[];` (positions are shifted back).
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = Kusto.Language;

const TYPE = { boolean: 'bool', guid: 'guid', datetime: 'datetime', timespan: 'timespan', string: 'string', int: 'int', long: 'long', real: 'real', dynamic: 'dynamic' };
const BACK = { bool: 'boolean', decimal: 'real' };

function list(items) {
  const out = [];
  for (let i = 0; i < items.Count; i++) out.push(items.getItem(i));
  return out;
}

function quote(name) {
  return "['" + name.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "']";
}

function check(item) {
  const syntax = list(K.KustoCode.Parse(item.query).GetDiagnostics())
    .filter((d) => String(d.Severity) === 'Error')
    .map((d) => ({ message: d.Message, start: d.Start }));
  const decl = (item.columns || []).map(([n, t]) => `${quote(n)}:${TYPE[t] || 'dynamic'}`).join(', ');
  const prefix = `let source = datatable(${decl || 'x_:string'})[];\n`;
  const code = K.KustoCode.ParseAndAnalyze(prefix + item.query);
  const errors = list(code.GetDiagnostics())
    .filter((d) => String(d.Severity) === 'Error')
    .map((d) => ({ code: d.Code, message: d.Message, start: d.Start - prefix.length }));
  let columns = null;
  const rt = code.ResultType;
  if (rt && rt.Columns) {
    columns = list(rt.Columns).map((c) => [c.Name, BACK[c.Type.Name] || c.Type.Name]);
  }
  return { syntax, errors, columns };
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const items = JSON.parse(input);
  process.stdout.write(JSON.stringify(items.map(check)));
});
