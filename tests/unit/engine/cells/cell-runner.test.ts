import { describe, expect, it } from 'vitest';
import type { CellOutput } from '../../../../src/shared/domain';
import { CellRunner } from '../../../../src/engine/cells/runner';
import { transformCell } from '../../../../src/engine/cells/transform';

function makeKernel() {
  const kernel = new CellRunner({ answer: 42 });
  const run = async (source: string, cellId = 'c1') => {
    const outputs: CellOutput[] = [];
    const shown: unknown[] = [];
    const status = await kernel.run(cellId, source, {
      emit: (o) => outputs.push(o),
      display: (v) => shown.push(v),
      signal: new AbortController().signal,
    });
    const error = outputs.find((o): o is Extract<CellOutput, { type: 'error' }> => o.type === 'error');
    const text = outputs
      .filter((o): o is Extract<CellOutput, { type: 'text' }> => o.type === 'text')
      .map((o) => o.text)
      .join('');
    return { status, outputs, shown, error, text };
  };
  return { kernel, run };
}

describe('kernel: line numbers', () => {
  it('reports the line of a runtime error', async () => {
    const { run } = makeKernel();
    const r = await run('const a = 1;\nconst b = a + 1;\nthrow new Error("boom");\nconst c = 3;');
    expect(r.status).toBe('error');
    expect(r.error?.message).toBe('boom');
    expect(r.error?.line).toBe(3);
  });

  it('keeps line numbers with TypeScript types and interfaces above', async () => {
    const { run } = makeKernel();
    const src = [
      'interface Point {',
      '  x: number;',
      '  y: number;',
      '}',
      'type Pair = [number, number];',
      'const p: Point = { x: 1, y: 2 } as Point;',
      'function f(q: Point): number {',
      '  return (q as any).nope.deeper;',
      '}',
      'f(p);',
    ].join('\n');
    const r = await run(src);
    expect(r.status).toBe('error');
    expect(r.error?.name).toBe('TypeError');
    expect(r.error?.line).toBe(8);
  });

  it('reports the line of an error on the first line', async () => {
    const { run } = makeKernel();
    const r = await run('null.x');
    expect(r.error?.line).toBe(1);
  });

  it('reports the line of a syntax error (TypeScript and JavaScript level)', async () => {
    const { run } = makeKernel();
    const ts = await run('const a: number = 1;\n\nlet b = ;\n');
    expect(ts.status).toBe('error');
    expect(ts.error?.name).toBe('SyntaxError');
    expect(ts.error?.line).toBe(3);
    const js = await run('const a = 1;\nconst a2 = 2;\nfor (;;) {\n  break\n}\n}\n');
    expect(js.error?.name).toBe('SyntaxError');
    expect(js.error?.line).toBe(6);
  });

  it('transform never changes the number of lines', () => {
    const src = 'const a = 1,\n  {b, c} = {b: 2, c: 3};\nlet d;\nclass K {\n  m() { return 1 }\n}\nfunction g() {\n  return 2\n}\na + b';
    const { code } = transformCell(src);
    expect(code.split('\n').length).toBe(src.split('\n').length + 1); // + the closing line of the wrapper
  });
});

describe('kernel: stack traces in the cell\'s own lines and columns', () => {
  const frames = (stack: string | undefined) => (stack ?? '').split('\n').filter((l) => l.includes('cell:'));

  it('maps every frame back through type stripping and the transform, across cells', async () => {
    const { run } = makeKernel();
    // types before the failing expression move its column in the stripped JS
    expect((await run('function g(x: { foo?: { bar: number } }): number {\n  return (x as any).foo.bar;\n}', 'defs')).status).toBe('ok');
    const src = 'const a: number = 1;\n\nconst b: Promise<number> = Promise.resolve(2); g({} as any)';
    const r = await run(src, 'use');
    expect(r.error?.line).toBe(3);
    expect(frames(r.error?.stack)).toEqual([
      // `.bar` on line 2 of cell defs: column of `bar`
      `    at g (cell:defs:2:${'  return (x as any).foo.'.length + 1})`,
      `    at cell:use:3:${src.split('\n')[2].indexOf('g({}') + 1}`,
    ]);
  });

  it("has no frame of the wrapper's own line, and the first line's column is the cell's", async () => {
    const { run } = makeKernel();
    const r = await run('null.x');
    expect(frames(r.error?.stack)).toEqual(['    at cell:c1:1:6']);
    const r2 = await run('const q: string = "a";\n  lab_missing()');
    expect(r2.error?.name).toBe('ReferenceError');
    expect(frames(r2.error?.stack)).toEqual(['    at cell:c1:2:3']);
  });
});

describe('kernel: state and results', () => {
  it('persists variables, functions and classes across cells', async () => {
    const { run } = makeKernel();
    expect((await run('const a = 1, {b} = {b: 2};\nlet [c] = [3];\nfunction f(x: number) { return x * 10 }\nclass K { v = 5 }')).status).toBe('ok');
    const r = await run('a + b + c + f(1) + new K().v');
    expect(r.status).toBe('ok');
    expect(r.shown).toEqual([1 + 2 + 3 + 10 + 5]);
  });

  it('re-running a const cell works', async () => {
    const { run } = makeKernel();
    expect((await run('const x = 1;')).status).toBe('ok');
    const again = await run('const x = 2;');
    expect(again.status).toBe('ok');
    expect((await run('x')).shown).toEqual([2]);
  });

  it('hoists functions inside a cell', async () => {
    const { run } = makeKernel();
    expect((await run('const y = h();\nfunction h() { return 7 }\ny')).shown).toEqual([7]);
  });

  it('shows the last expression, nothing for statements or undefined', async () => {
    const { run } = makeKernel();
    expect((await run('1 + 1')).shown).toEqual([2]);
    expect((await run('const z = 3;')).shown).toEqual([]);
    expect((await run('undefined')).shown).toEqual([]);
    expect((await run('await Promise.resolve(answer)')).shown).toEqual([42]);
    expect((await run('({ a: 1, b: [2] })')).shown).toEqual([{ a: 1, b: [2] }]);
    expect((await run('(1 + 2) * 3;')).shown).toEqual([9]);
    expect((await run('const q = 5\nq // the answer\n')).shown).toEqual([5]);
  });

  it('an assignment or `void x` at the end shows nothing (as `x = 1` in Jupyter); other expressions still show', async () => {
    const { run } = makeKernel();
    await run('const model = { temperature: 0.5 };\nlet n = 1;');
    expect((await run('model.temperature = 1;')).shown).toEqual([]);
    expect((await run('n += 2')).shown).toEqual([]);
    expect((await run('[n] = [7];')).shown).toEqual([]);
    expect((await run('void model')).shown).toEqual([]);
    // the assignment still happened; a semicolon does not hide a value (TypeScript ends statements with one)
    expect((await run('model.temperature;')).shown).toEqual([1]);
    expect((await run('n')).shown).toEqual([7]);
    expect((await run('(n = 3), n * 2')).shown).toEqual([6]);
  });

  it("lists the cells' variables, not its own globals", async () => {
    const { kernel, run } = makeKernel();
    expect(kernel.variables()).toEqual([]);
    await run('const a = 1;\nfunction f() {}\nclass K {}\nglobalThis.g = 2;');
    expect(kernel.variables().sort()).toEqual(['K', 'a', 'f', 'g']);
  });

  it('dispose stops the timers its cells started', async () => {
    const { kernel, run } = makeKernel();
    await run('let ticks = 0;\nsetInterval(() => { ticks++; }, 5);\nsetTimeout(() => { ticks += 100; }, 30);');
    await new Promise((r) => setTimeout(r, 20));
    kernel.dispose();
    const seen = (await run('ticks')).shown[0] as number;
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 60));
    expect((await run('ticks')).shown).toEqual([seen]);
  });

  it('captures console.log as text output', async () => {
    const { run } = makeKernel();
    const r = await run('console.log("hello", 1, {a: 2});\nconsole.log("second")');
    expect(r.status).toBe('ok');
    expect(r.text).toBe("hello 1 { a: 2 }\nsecond\n");
  });

  it('interrupt ends a cell that awaits forever', async () => {
    const kernel = new CellRunner({});
    kernel.interruptGraceMs = 20;
    const ac = new AbortController();
    const outputs: CellOutput[] = [];
    const p = kernel.run('c9', 'await new Promise(() => {});', { emit: (o) => outputs.push(o), display: () => {}, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await p).toBe('interrupted');
  });
});
