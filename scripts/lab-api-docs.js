#!/usr/bin/env node
// Writes docs/lab-api.md, the reference of the `lab` API, from the one declaration of
// it: the `declare namespace LatentLab { ... }` typings that the engine is compiled
// against and Monaco loads (src/engine/lab/api.d.ts; the globals `lab` and `tf` from
// cell-globals.d.ts beside it). Every member of Lab, DataApi, ModelsApi and Views with
// its signature and its JSDoc, then every option / config interface and the other
// types with their fields. The declaration is the source: fix a doc there, then run
//
//   node scripts/lab-api-docs.js            writes docs/lab-api.md
//   node scripts/lab-api-docs.js --check    exit 1 when docs/lab-api.md is out of date
//   node scripts/lab-api-docs.js --in FILE  read another declaration file
//
// Uses the `typescript` package's parser (no type checking, no emit).
const { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');
const ts = require('typescript');

const root = join(__dirname, '..');
const OUT = join(root, 'docs', 'lab-api.md');
const DEFAULT_IN = join(root, 'src', 'engine', 'lab', 'api.d.ts');
/** the cell's globals (`declare const lab`), where they are declared apart from the namespace */
const GLOBALS_FILE = 'cell-globals.d.ts';

/** The sections of the API, in order: the interface, how a member is written, the heading. */
const API = [
  { iface: 'Lab', prefix: 'lab.', title: '`lab`' },
  { iface: 'DataApi', prefix: 'lab.data.', title: '`lab.data`: datasets' },
  { iface: 'ModelsApi', prefix: 'lab.models.', title: '`lab.models`: model families' },
  { iface: 'Views', prefix: 'lab.views.', title: '`lab.views`: views' },
];
/** type aliases that are options although their names do not say so */
const OPTION_ALIASES = new Set(['Schedule', 'SweepSpec', 'SweepParams', 'Toy2dName', 'GmmCovariance']);

function usage(msg) {
  if (msg) process.stderr.write(`lab-api-docs: ${msg}\n`);
  process.stderr.write('usage: node scripts/lab-api-docs.js [--check] [--in FILE.d.ts]\n');
  process.exit(2);
}

/** The declaration file: --in, else the usual place, else the .d.ts under src/ that declares the namespace. */
function findDeclaration(explicit) {
  if (explicit) return explicit;
  if (existsSync(DEFAULT_IN)) return DEFAULT_IN;
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.d.ts') && /declare\s+namespace\s+LatentLab\b/.test(readFileSync(p, 'utf8'))) found.push(p);
    }
  };
  walk(join(root, 'src'));
  if (found.length !== 1) usage(found.length ? `several declarations of LatentLab: ${found.join(', ')}; pass --in` : 'no .d.ts under src/ declares namespace LatentLab');
  return found[0];
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function main(argv) {
  let check = false;
  let input = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--in') input = argv[++i] ?? usage('--in needs a file');
    else usage(`unknown argument '${argv[i]}'`);
  }
  const file = findDeclaration(input);
  const md = render(file);
  const rel = relative(root, OUT);
  if (check) {
    const now = existsSync(OUT) ? readFileSync(OUT, 'utf8') : null;
    if (now === md) {
      process.stdout.write(`${rel} is up to date\n`);
      return 0;
    }
    process.stderr.write(`${rel} is ${now === null ? 'missing' : 'out of date'}: run \`node scripts/lab-api-docs.js\`\n`);
    return 1;
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  process.stdout.write(`wrote ${rel} from ${relative(root, file)}\n`);
  return 0;
}

function render(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const ns = sf.statements.find((s) => ts.isModuleDeclaration(s) && s.name.text === 'LatentLab');
  if (!ns || !ns.body || !ts.isModuleBlock(ns.body)) throw new Error(`${file}: no 'declare namespace LatentLab { ... }'`);

  /** name → declaration, in source order */
  const decls = new Map();
  for (const s of ns.body.statements) {
    if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && !decls.has(s.name.text)) decls.set(s.name.text, s);
  }
  for (const { iface } of API) {
    if (!decls.has(iface) || !ts.isInterfaceDeclaration(decls.get(iface))) throw new Error(`${file}: no interface ${iface} in LatentLab`);
  }
  // the globals: declared in the same file, or in cell-globals.d.ts beside it
  const globals = sf.statements.filter((s) => ts.isVariableStatement(s)).map((v) => ({ v, sf }));
  const sources = [file];
  const globalsFile = join(dirname(file), GLOBALS_FILE);
  if (existsSync(globalsFile) && globalsFile !== file) {
    const gsf = ts.createSourceFile(globalsFile, readFileSync(globalsFile, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    for (const s of gsf.statements) if (ts.isVariableStatement(s)) globals.push({ v: s, sf: gsf });
    sources.push(globalsFile);
  }

  const print = (node) => printer.printNode(ts.EmitHint.Unspecified, node, sf);
  const oneLine = (node) => print(node).replace(/\s*\n\s*/g, ' ').replace(/; }/g, ' }');
  const anchorOf = (name) => `#${name.toLowerCase()}`;
  const link = (name) => `[${name}](${anchorOf(name)})`;

  /** the namespace's types a node mentions, in order of first mention */
  const refsOf = (node) => {
    const seen = [];
    const visit = (n) => {
      if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName) && decls.has(n.typeName.text) && !seen.includes(n.typeName.text)) seen.push(n.typeName.text);
      ts.forEachChild(n, visit);
    };
    visit(node);
    return seen;
  };

  const out = [];
  const emit = (...lines) => out.push(...lines);

  emit(
    `<!-- Generated by scripts/lab-api-docs.js from ${sources.map((f) => relative(root, f).split('\\').join('/')).join(' and ')}. Do not edit: change the declaration and run \`node scripts/lab-api-docs.js\`. -->`,
    '',
    '# The `lab` API',
    '',
    'What a notebook cell sees. Every code cell runs in the engine with two globals:',
    '',
  );
  for (const { v, sf: gsf } of globals) {
    for (const d of v.declarationList.declarations) {
      const doc = ts.getJSDocCommentsAndTags(v).filter(ts.isJSDoc).map((j) => ts.getTextOfJSDocComment(j.comment) ?? '').join(' ').trim();
      const type = d.type ? printer.printNode(ts.EmitHint.Unspecified, d.type, gsf).replace(/\s*\n\s*/g, ' ') : '';
      emit(`- \`${d.name.getText(gsf)}\`${type ? `: \`${type}\`` : ''}${doc ? ` — ${doc.replace(/\n/g, ' ')}` : ''}`);
    }
  }
  emit(
    '',
    'Every `lab.models.*` and `lab.data.*` builder and `lab.train` refuses an unknown option or a value of the wrong kind, naming the field and what it takes. ' +
      'Monaco loads the same declaration, so completion and hover in a cell show the text below.',
    '',
    '## Contents',
    '',
  );
  for (const sec of API) emit(`- [${sec.title.replace(/`/g, '')}](#${slug(sec.title)})`);
  emit('- [Options and configurations](#options-and-configurations)', '- [Data, models and results](#data-models-and-results)', '');

  const documented = new Set(API.map((s) => s.iface));

  // ---- the API: one entry per member
  for (const sec of API) {
    const decl = decls.get(sec.iface);
    emit(`## ${sec.title}`, '');
    const intro = docText(decl);
    if (intro) emit(intro, '');
    emit(`Members of \`LatentLab.${sec.iface}\`.`, '');
    for (const m of decl.members) renderMember(m, sec.prefix, 3);
  }

  function renderMember(m, prefix, level) {
    const name = m.name ? m.name.getText(sf) : '(call)';
    const full = `${prefix}${name}`;
    emit(`${'#'.repeat(level)} ${full}`, '');
    emit('```ts', print(m), '```', '');
    const doc = docText(m);
    if (doc) emit(doc, '');
    for (const ex of tagTexts(m, 'example')) emit('Example:', '', '```ts', ex, '```', '');
    // options written inline: their fields and docs
    const params = ts.isMethodSignature(m) ? m.parameters : m.type && ts.isFunctionTypeNode(unparen(m.type)) ? unparen(m.type).parameters : [];
    for (const p of params) {
      const lits = literalsOf(p.type);
      const fields = lits.flatMap((l) => l.members);
      if (fields.length && fields.some((f) => docText(f))) {
        emit(`\`${p.name.getText(sf)}\`${p.questionToken ? ' (optional)' : ''}:`, '');
        for (const f of fields) emit(fieldLine(f));
        emit('');
      }
    }
    // lab.data, lab.models, lab.views: their own sections
    const section = ts.isPropertySignature(m) && m.type && ts.isTypeReferenceNode(m.type) && API.find((s) => s.iface === m.type.typeName.getText(sf));
    if (section) emit(`See [${section.title.replace(/`/g, '')}](#${slug(section.title)}).`, '');
    const refs = refsOf(m).filter((r) => !documented.has(r));
    if (refs.length) emit(`Types: ${refs.map(link).join(', ')}`, '');
    // a property whose type is a function with members of its own (lab.models.gmm.select)
    if (ts.isPropertySignature(m) && m.type && ts.isIntersectionTypeNode(m.type)) {
      for (const part of m.type.types) {
        if (ts.isTypeLiteralNode(part)) for (const sub of part.members) renderMember(sub, `${full}.`, level + 1);
      }
    }
  }

  function unparen(t) {
    while (t && ts.isParenthesizedTypeNode(t)) t = t.type;
    return t;
  }
  function literalsOf(t) {
    t = unparen(t);
    if (!t) return [];
    if (ts.isTypeLiteralNode(t)) return [t];
    if (ts.isIntersectionTypeNode(t)) return t.types.flatMap(literalsOf);
    return [];
  }
  function fieldLine(f) {
    const doc = docText(f);
    return `- \`${oneLine(f).replace(/;$/, '')}\`${doc ? ` — ${doc.replace(/\n+/g, ' ')}` : ''}`;
  }

  // ---- the types
  const names = [...decls.keys()].filter((n) => !documented.has(n));
  const isOption = (n) => /(Options|Config)$/.test(n) || OPTION_ALIASES.has(n);
  const groups = [
    { title: 'Options and configurations', intro: 'What the builders, `lab.train`, `lab.evaluate` and `lab.sweep` take.', names: names.filter(isOption) },
    { title: 'Data, models and results', intro: 'What the API returns: datasets, models, runs, evaluations.', names: names.filter((n) => !isOption(n)) },
  ];
  for (const g of groups) {
    emit(`## ${g.title}`, '', g.intro, '');
    for (const n of g.names) renderType(decls.get(n));
  }

  function renderType(d) {
    const name = d.name.text;
    emit(`### ${name}`, '');
    const doc = docText(d);
    if (ts.isTypeAliasDeclaration(d)) {
      if (doc) emit(doc, '');
      const t = d.type;
      // a union member's doc sits before its `|`: read from the end of the member before
      const unionDoc = (u, i) => leadingDoc(u, i ? t.types[i - 1].end : t.pos);
      if (ts.isUnionTypeNode(t) && t.types.some(unionDoc)) {
        emit(`\`type ${name}\` is one of:`, '');
        for (const [i, u] of t.types.entries()) {
          const ud = unionDoc(u, i);
          emit(`- \`${oneLine(u)}\`${ud ? ` — ${ud.replace(/\s*\n\s*/g, ' ')}` : ''}`);
        }
        emit('');
      } else {
        emit('```ts', print(d), '```', '');
      }
      const refs = refsOf(d.type).filter((r) => r !== name);
      if (refs.length) emit(`Types: ${refs.map(link).join(', ')}`, '');
      return;
    }
    if (doc) emit(doc, '');
    const bases = (d.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(sf)));
    if (bases.length) emit(`Extends ${bases.map((b) => (decls.has(b) ? link(b) : `\`${b}\``)).join(', ')}.`, '');
    if (d.members.length) {
      for (const f of d.members) emit(fieldLine(f));
      emit('');
    }
    const refs = [];
    for (const f of d.members) for (const r of refsOf(f)) if (r !== name && !refs.includes(r) && !documented.has(r)) refs.push(r);
    if (refs.length) emit(`Types: ${refs.map(link).join(', ')}`, '');
  }

  /** the JSDoc text of a node (every /** block attached to it), without tags */
  function docText(node) {
    const parts = [];
    for (const d of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(d)) continue;
      const t = ts.getTextOfJSDocComment(d.comment);
      if (t && t.trim()) parts.push(t.trim());
    }
    // a /** comment on the line of the token before it (`{ /** doc */ hidden?: number }`)
    // is not attached by the parser: read it from the node's leading trivia
    return parts.length ? parts.join('\n\n') : leadingDoc(node);
  }
  function tagTexts(node, tag) {
    const texts = [];
    for (const d of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(d)) continue;
      for (const t of d.tags ?? []) if (t.tagName.text === tag) texts.push((ts.getTextOfJSDocComment(t.comment) ?? '').replace(/^\n+|\s+$/g, ''));
    }
    return texts;
  }
  /** the /** comments in the trivia just before a node (inline fields, union members such as Schedule's cases) */
  function leadingDoc(node, from = node.pos) {
    const trivia = text.slice(from, node.getStart(sf));
    return [...trivia.matchAll(/\/\*\*(?!\/)([\s\S]*?)\*\//g)]
      .map((m) => m[1].replace(/^[ \t]*\* ?/gm, '').trim())
      .filter(Boolean)
      .join('\n\n');
  }

  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** GitHub's heading anchor */
function slug(title) {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`lab-api-docs: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

module.exports = { render };
