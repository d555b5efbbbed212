// Turn a TypeScript cell into a script for the engine's persistent vm context:
//  1. sucrase strips types, keeping every line where it was;
//  2. acorn parses the result, and top-level declarations become assignments to
//     context globals (so values persist across cells and re-running a `const` cell
//     does not throw "already declared");
//  3. the last top-level expression becomes the cell's return value, unless it is an
//     assignment (`model.temperature = 1;`) or `void x`: those show nothing, as in Jupyter;
//  4. everything is wrapped in an async IIFE that opens on line 1, so `await` works
//     at top level.
// No edit adds or removes a newline; columns move, and `toSource` maps a position of the
// script back to the cell (stack traces show the cell's own lines and columns).
import * as acorn from 'acorn';
import { transform } from 'sucrase';
import { applyEdits, decodeLineColumns, type Edit, type Pos } from './positions';

export class CellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
    readonly column: number | null,
  ) {
    super(message);
    this.name = 'SyntaxError';
  }
}

type AnyNode = acorn.Node & Record<string, any>;

export interface TransformedCell {
  /** the script to run: evaluates to a Promise of the cell's result */
  code: string;
  /** the JavaScript after type stripping (same lines as the source) */
  js: string;
  /** a 1-based line and column of `code` as a line and column of the cell's source (null: the wrapper's own code) */
  toSource(line: number, column: number): Pos | null;
}

export function stripTypes(source: string): string {
  return stripTypesMapped(source).code;
}

function stripTypesMapped(source: string): { code: string; columns: [number, number][][] | null } {
  try {
    const r = transform(source, { transforms: ['typescript'], disableESTransforms: true, filePath: 'cell.ts', sourceMapOptions: { compiledFilename: 'cell.js' } });
    return { code: r.code, columns: r.sourceMap ? decodeLineColumns(r.sourceMap.mappings) : null };
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    const msg = err.message.replace(/\s*\(\d+:\d+\)\s*$/, '');
    throw new CellSyntaxError(msg, err.loc?.line ?? null, err.loc?.column ?? null);
  }
}

function parse(js: string): AnyNode {
  try {
    return acorn.parse(js, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: true,
      locations: true,
    }) as AnyNode;
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    const msg = err.message.replace(/\s*\(\d+:\d+\)\s*$/, '');
    throw new CellSyntaxError(msg, err.loc?.line ?? null, err.loc ? err.loc.column + 1 : null);
  }
}

export function transformCell(source: string): TransformedCell {
  const { code: js, columns } = stripTypesMapped(source);
  const ast = parse(js);
  const edits: Edit[] = [];
  const hoisted: string[] = [];
  const body = ast.body as AnyNode[];

  body.forEach((stmt, i) => {
    const last = i === body.length - 1;
    switch (stmt.type) {
      case 'VariableDeclaration': {
        // `const a = 1, {b} = o;`  →  `a = 1, ;({b} = o);`-style assignments
        edits.push({ at: stmt.start, del: (stmt.kind as string).length, insert: '' });
        (stmt.declarations as AnyNode[]).forEach((d, k) => {
          const pattern = d.id.type !== 'Identifier';
          if (pattern) {
            edits.push({ at: d.start, del: 0, insert: k === 0 ? ';(' : '(' });
            if (!d.init) edits.push({ at: d.id.end, del: 0, insert: ' = undefined' });
            edits.push({ at: d.end, del: 0, insert: ')' });
          } else if (!d.init) {
            edits.push({ at: d.id.end, del: 0, insert: ' = undefined' });
          }
        });
        break;
      }
      case 'FunctionDeclaration':
        // Keep the declaration (hoisting works inside the cell) and publish it as a
        // context global from the first line.
        hoisted.push(stmt.id.name as string);
        break;
      case 'ClassDeclaration':
        edits.push({ at: stmt.start, del: 0, insert: `${stmt.id.name} = ` });
        edits.push({ at: stmt.end, del: 0, insert: ';' });
        break;
      case 'ExpressionStatement':
        // an assignment or `void x` at the end shows nothing (Jupyter shows no value for `x = 1`)
        if (last && stmt.expression.type !== 'AssignmentExpression' && !(stmt.expression.type === 'UnaryExpression' && stmt.expression.operator === 'void')) {
          // statement bounds, not the expression's: acorn drops outer parentheses
          // from the expression's range, e.g. `({ a: 1 })`
          const end = js[stmt.end - 1] === ';' ? stmt.end - 1 : stmt.end;
          edits.push({ at: stmt.start, del: 0, insert: 'return (' });
          edits.push({ at: end, del: 0, insert: ')' });
        }
        break;
      default:
        break;
    }
  });

  const publish = hoisted.map((n) => `globalThis[${JSON.stringify(n)}] = ${n};`).join(' ');
  const { out, toSource } = applyEdits(js, edits, `(async () => { ${publish}`, columns);
  return { code: `${out}\n})()`, js, toSource };
}
