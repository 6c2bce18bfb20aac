// Derives the operator and function typing rules of Microsoft's binder (Kusto.Language) for
// provision/kql/signatures.py: for every binary operator and every function of the DCR catalogue,
// which argument type combinations bind and what they return. Input (stdin): {"functions": {name: [min, max|null]}}.
// Run through tests/kql/regen_signatures.py; the result is committed, so this runs only on regeneration.
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = Kusto.Language;

const LIT = { string: "'day'", long: '1', int: 'int(1)', real: '1.5', boolean: 'true', datetime: 'datetime(2024-01-01)',
  timespan: '1h', dynamic: "parse_json('[1]')", guid: 'guid(74be27de-1e4e-49d9-b579-fe0b331d3642)',
  array: 'dynamic([1])', bag: "dynamic({'a':1})" };  // array/bag: dynamic values whose shape the binder can see
const TYPES = Object.keys(LIT);
const BACK = { bool: 'boolean', decimal: 'real' };
const SPECIAL = { countof: { 2: "'normal'" } };
const OPS = ['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '=~', '!~', 'contains', '!contains', 'contains_cs', '!contains_cs',
  'has', '!has', 'has_cs', '!has_cs', 'startswith', '!startswith', 'startswith_cs', '!startswith_cs', 'endswith', '!endswith',
  'endswith_cs', '!endswith_cs', 'matches regex', 'and', 'or', 'in', '!in'];

function typeOf(query) {
  let code;
  try {
    code = K.KustoCode.ParseAndAnalyze(query);
  } catch (e) {
    return '?';  // the binder itself failed (a Bridge.NET conversion bug): not judged
  }
  const diags = code.GetDiagnostics();
  for (let i = 0; i < diags.Count; i++) if (String(diags.getItem(i).Severity) === 'Error') return null;
  const cols = code.ResultType.Columns;
  const t = cols.getItem(0).Type.Name;
  return BACK[t] || t;
}

function product(n) {
  if (n === 0) return [[]];
  const rest = product(n - 1);
  const out = [];
  for (const t of TYPES) for (const r of rest) out.push([t, ...r]);
  return out;
}

let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const { functions } = JSON.parse(input);
  const binary = {};
  for (const op of OPS) {
    binary[op] = {};
    for (const l of TYPES) for (const r of TYPES) {
      const right = op.endsWith('in') ? `(${LIT[r]})` : LIT[r];
      const t = typeOf(`print r = ${LIT[l]} ${op} ${right}`);
      if (t) binary[op][`${l},${r}`] = t;
    }
  }
  const calls = {};
  for (const [name, [min, max]] of Object.entries(functions)) {
    calls[name] = {};
    const top = Math.min(max === null ? 3 : max, 3);
    for (let n = min; n <= Math.max(top, min); n++) {
      if (n > 3 && n !== min) break;
      for (const combo of product(Math.min(n, 3))) {
        const args = combo.map((t, i) => (SPECIAL[name] && SPECIAL[name][i] && t === 'string') ? SPECIAL[name][i] : LIT[t]);
        while (args.length < n) args.push(args[args.length - 1]);
        const t = typeOf(`print r = ${name}(${args.join(', ')})`);
        if (t) calls[name][combo.join(',')] = t;
      }
    }
  }
  process.stdout.write(JSON.stringify({ binary, calls }));
});
