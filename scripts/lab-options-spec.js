// Derives the options every lab.models.*, lab.data.* builder and lab.train accept
// from the cell typings (src/engine/lab/api.d.ts), for the engine's option checks:
//   node scripts/lab-options-spec.js          writes src/engine/lab/options-spec.ts
//   node scripts/lab-options-spec.js --check  exits 1 when that file is out of date
// tests/unit/engine/lab/options.test.ts runs the check too, so the two never drift apart.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const DTS = join(root, 'src', 'engine', 'lab', 'api.d.ts');
const OUT = join(root, 'src', 'engine', 'lab', 'options-spec.ts');

function deriveSpec() {
  const ts = require('typescript');
  const program = ts.createProgram([DTS], { types: [] });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(DTS);
  const ns = sf.statements.find((s) => ts.isModuleDeclaration(s));
  const decl = (name) => {
    const d = ns.body.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === name);
    if (!d) throw new Error(`api.d.ts has no interface ${name}`);
    return d;
  };
  const field = (t) => {
    const kinds = new Set();
    const values = [];
    for (const p of t.isUnion() ? t.types : [t]) {
      if (p.flags & ts.TypeFlags.StringLiteral) {
        kinds.add('string');
        values.push(p.value);
      } else if (p.flags & ts.TypeFlags.NumberLike) kinds.add('number');
      else if (p.flags & ts.TypeFlags.StringLike) kinds.add('string');
      else if (p.flags & ts.TypeFlags.BooleanLike) kinds.add('boolean');
      else if (p.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)) continue;
      else if (checker.isArrayType(p) || checker.isTupleType(p)) kinds.add('array');
      else if (p.getCallSignatures().length > 0) kinds.add('function');
      else kinds.add('object');
    }
    // a string-literal union names its values; a plain string takes any
    const anyString = (t.isUnion() ? t.types : [t]).some((p) => (p.flags & ts.TypeFlags.String) !== 0);
    return anyString || values.length === 0 ? { kinds: [...kinds].sort() } : { kinds: [...kinds].sort(), values };
  };
  const fieldsOf = (type, at) => {
    const out = {};
    for (const f of checker.getNonNullableType(type).getProperties()) {
      out[f.name] = field(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(f, at)));
    }
    return out;
  };
  const builders = (iface) => {
    const at = decl(iface);
    const out = {};
    for (const m of checker.getTypeAtLocation(at).getProperties()) {
      const sig = checker.getTypeOfSymbolAtLocation(m, at).getCallSignatures()[0];
      if (!sig) continue;
      const params = sig.getParameters();
      const arg = params.findIndex((p) => p.name === 'cfg' || p.name === 'opts');
      if (arg < 0) continue;
      out[m.name] = { arg, fields: fieldsOf(checker.getTypeOfSymbolAtLocation(params[arg], at), at) };
    }
    return out;
  };
  const trainAt = decl('TrainOptions');
  return {
    models: builders('ModelsApi'),
    data: builders('DataApi'),
    train: { arg: 2, fields: fieldsOf(checker.getTypeAtLocation(trainAt), trainAt) },
  };
}

function builder(b, indent) {
  const fields = Object.entries(b.fields).map(([k, f]) => `${indent}  ${JSON.stringify(k)}: ${JSON.stringify(f)},`);
  return fields.length === 0 ? `{ arg: ${b.arg}, fields: {} }` : [`{ arg: ${b.arg}, fields: {`, ...fields, `${indent}} }`].join('\n');
}

function render(spec) {
  return [
    '// Generated from api.d.ts by scripts/lab-options-spec.js: do not edit by hand.',
    '// The options each lab.* builder accepts: kinds of value, and the allowed values of enums.',
    "import type { OptionsSpec } from './option-types';",
    '',
    'export const LAB_OPTIONS: { models: Record<string, OptionsSpec>; data: Record<string, OptionsSpec>; train: OptionsSpec } = {',
    ...['models', 'data'].flatMap((group) => [
      `  ${group}: {`,
      ...Object.entries(spec[group]).map(([name, b]) => `    ${name}: ${builder(b, '    ')},`),
      '  },',
    ]),
    `  train: ${builder(spec.train, '  ')},`,
    '};',
    '',
  ].join('\n');
}

module.exports = { deriveSpec, render, OUT };

if (require.main === module) {
  const text = render(deriveSpec());
  if (process.argv.includes('--check')) {
    const now = readFileSync(OUT, 'utf8');
    if (now !== text) {
      process.stderr.write(`${OUT} is out of date with api.d.ts: run node scripts/lab-options-spec.js\n`);
      process.exit(1);
    }
  } else writeFileSync(OUT, text);
}
