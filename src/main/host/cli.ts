// The `latentlab` command: serve | run | runs | export. Plain Node, no electron.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';
import { Notebook, type CellOutput } from '../../shared/domain';
import { ExportError, exportEnv, exportGridGif, parseLabels, exportGridPng, exportMetricsCsv, exportReport, exportReportPdf, findRun } from '../services/exports';
import { LabService } from '../services/lab-service';
import { runNotebook } from '../services/notebook-runner';
import { injectParameters, parseParameterValue } from '../services/parameters';
import { appRoot, examplesDir, rendererDir } from '../services/paths';
import { Tracker } from '../services/tracker';
import { TrustStore } from '../services/trust';
import { readNotebookFile, Workspace } from '../services/workspace';
import { nodeEngineLauncher } from './node-engine';
import { serve } from './server';
import { EXPORT_KINDS } from '../../shared/exports';
import { EXPORTABLE_DATASETS, exportDataset, type ExportableDataset } from '../services/data-export';
import { runNames } from '../../shared/run-names';
import { convergenceFromMetrics, convergenceNote } from '../../shared/convergence';

const USAGE = `latentlab — a lab notebook for deep generative models

Usage:
  latentlab serve [--workspace DIR] [--port N] [--host ADDR] [--backend NAME]
      Start the browser host; prints the URL (with its access token) to open.
  latentlab run NOTEBOOK [-p NAME VALUE]... [--workspace DIR] [--backend NAME] [--json]
      Run every code cell of a notebook headlessly, tracking its runs in the workspace
      (default: the notebook's folder). -p sets a parameter (papermill style).
  latentlab trust NOTEBOOK...
      Trust notebooks you got from elsewhere, so their cells may run in the app
      (a notebook not written by Latent Lab on this computer opens untrusted).
  latentlab runs [--workspace DIR] [--json]
      List the runs tracked in a workspace.
  latentlab runs rm RUN [--workspace DIR]
      Delete a run that is not running, with its artifacts and checkpoints.
  latentlab runs rename RUN NAME [--workspace DIR]
      Name a run ('' gives back the name made from what differs from its siblings).
  latentlab export metrics RUN... --out FILE.csv [--workspace DIR]
      Every metric point of the runs as CSV (run_id,run_name,key,step,value,wall_time).
  latentlab export grid RUN --out FILE.png [--step N] [--rows R] [--cols C] [--pad P] [--scale K]
                   [--row-labels A,B,..|index] [--col-labels A,B,..|index] [--workspace DIR]
      A run's sample grid at step N (default: the last) as PNG, laid out R×C with P
      pixels between images, upscaled K times, with optional labels left of the rows
      and above the columns ('index' numbers them). RUN is an id or a unique prefix of one.
  latentlab export gif RUN --out FILE.gif [--scale K] [--delay MS] [--workspace DIR]
      The run's sample grid over training as an animated GIF, a frame per logged grid.
  latentlab export report RUN... --out PATH [--format html|md|pdf] [--workspace DIR]
      A report of the runs: curves, sample grids, settings, final metrics, model code
      and environment; one self-contained HTML file, Markdown with PATH_files/, or a
      PDF printed by headless Chromium.
  latentlab export data mnist|fashion-mnist --out DIR [--binarize stochastic|threshold|none]
                   [--binarize-seed N] [--limit N]
      The dataset's train / validation / test splits as NumPy files (X_x.npy float32
      [n, 784], X_y.npy uint8 classes) plus data.json, the very rows lab.data gives a
      notebook with those settings: train code outside the app on the same split.

Backends: webgpu, tensorflow-gpu, tensorflow, wasm, cpu (default: the best that loads;
webgpu on a software adapter such as SwiftShader only when named).
Default workspace for serve: $LATENTLAB_WORKSPACE or ~/LatentLab.`;

class UsageError extends Error {}
/** bad input (a missing or malformed file): exit 1 with the reason */
class InputError extends Error {}

const COMMANDS = ['serve', 'run', 'runs', 'export', 'trust', 'help'];

/** the first line of a message, for one-line reasons */
const firstLine = (m: string) => m.split('\n')[0].trim();

interface Args {
  command: string;
  positional: string[];
  params: Record<string, unknown>;
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[]): Args {
  const [command = 'help', ...rest] = argv;
  const positional: string[] = [];
  const params: Record<string, unknown> = {};
  const flags = new Map<string, string | true>();
  const valued = new Set(['--workspace', '--port', '--host', '--backend', '--out', '--step', '--rows', '--cols', '--pad', '--scale', '--format', '--delay', '--row-labels', '--col-labels', '--binarize', '--binarize-seed', '--limit']);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '-p' || a === '--parameter') {
      const name = rest[i + 1];
      const value = rest[i + 2];
      if (name === undefined || value === undefined) throw new UsageError(`${a} takes a NAME and a VALUE`);
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) throw new UsageError(`${a} ${name}: a parameter name must be an identifier (letters, digits, _ or $)`);
      params[name] = parseParameterValue(value);
      i += 2;
    } else if (valued.has(a)) {
      const v = rest[i + 1];
      if (v === undefined) throw new UsageError(`${a} takes a value`);
      flags.set(a, v);
      i += 1;
    } else if (a.startsWith('--')) {
      const [k, v] = a.split('=', 2);
      if (valued.has(k) && v !== undefined) flags.set(k, v);
      else if (['--json', '--help'].includes(k)) flags.set(k, true);
      else throw new UsageError(`unknown option ${a}`);
    } else positional.push(a);
  }
  return { command, positional, params, flags };
}

const str = (v: string | true | undefined) => (typeof v === 'string' ? v : undefined);

function defaultWorkspace(): string {
  return process.env.LATENTLAB_WORKSPACE || resolve(homedir(), 'LatentLab');
}

const shownKeys = new Set<string>();
function printOutput(o: CellOutput): void {
  // a live view replaces its output in place: the terminal hears of it once
  if ((o.type === 'image' || o.type === 'plot') && o.key !== undefined) {
    if (shownKeys.has(o.key)) return;
    shownKeys.add(o.key);
  }
  if (o.type === 'text') process.stdout.write(o.text.endsWith('\n') ? o.text : o.text + '\n');
  else if (o.type === 'error') process.stderr.write(`${o.name}: ${o.message}${o.line ? ` (line ${o.line})` : ''}\n`);
  else if (o.type === 'image') process.stdout.write(`[image ${o.path}]\n`);
  else if (o.type === 'sweep') process.stdout.write(`[sweep ${o.name} ${o.sweepId}: runs ${o.runIds.join(' ')}]\n`);
  else if (o.type === 'audio') process.stdout.write(`[audio ${o.path}]\n`);
  else if (o.type === 'plot') process.stdout.write(`[plot${o.caption ? ` ${o.caption}` : ''}: ${o.data.length} traces]\n`);
  else process.stdout.write(`[run ${o.runId}]\n`);
}

async function cmdServe(a: Args): Promise<void> {
  const workspace = new Workspace(str(a.flags.get('--workspace')) ?? defaultWorkspace());
  workspace.init(examplesDir());
  const port = Number(str(a.flags.get('--port')) ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a number 0..65535');
  const service = new LabService({
    workspace,
    launcher: nodeEngineLauncher(undefined, undefined, { background: true }),
    backend: str(a.flags.get('--backend')) ?? null,
    log: (m) => process.stderr.write(m + '\n'),
  });
  const host = str(a.flags.get('--host')) ?? '127.0.0.1';
  const running = await serve({ service, rendererDir: rendererDir(), port, host });
  void service.startEngine().catch((e) => process.stderr.write(`engine: ${(e as Error).message}\n`));
  if (host !== '127.0.0.1' && host !== 'localhost') process.stderr.write(`warning: listening on ${host}; anyone with the token can run code\n`);
  process.stdout.write(`Latent Lab is serving workspace ${workspace.dir}\nOpen ${running.url}\n`);
  const stop = async () => {
    await running.close();
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function cmdRun(a: Args): Promise<number> {
  const file = a.positional[0];
  if (!file) throw new UsageError('run needs a NOTEBOOK');
  const abs = resolve(file);
  if (!existsSync(abs)) throw new InputError(`cannot read notebook ${file}: no such file`);
  const read = readNotebookFile(abs);
  if (read.problem) throw new InputError(`${file} ${firstLine(read.problem)}`);
  const nb = read.raw as Notebook;
  nb.cells.forEach((c, i) => (c.id ??= `cell-${i + 1}`));
  const workspace = new Workspace(str(a.flags.get('--workspace')) ?? dirname(abs));
  // naming the file on the command line is the user's choice to run it, trusted or not
  if (!workspace.trust.isTrusted(nb)) process.stderr.write(`note: ${file} is not trusted in the app; it runs because you asked for it here (\`latentlab trust ${file}\` trusts it)\n`);
  const rel = relative(workspace.dir, abs);
  const nbPath = rel.startsWith('..') ? abs : rel.split(sep).join('/');
  const json = a.flags.has('--json');
  const service = new LabService({
    workspace,
    launcher: nodeEngineLauncher(),
    backend: str(a.flags.get('--backend')) ?? null,
    log: (m) => process.stderr.write(m + '\n'),
  });
  const runIds: string[] = [];
  service.subscribe((event, payload) => {
    if (event === 'run.updated') {
      const run = (payload as { run: { id: string; status: string; steps: number; totalSteps: number; name: string } }).run;
      if (!runIds.includes(run.id)) runIds.push(run.id);
      if (!json && run.status !== 'running') process.stderr.write(`run ${run.name} (${run.id}): ${run.status} after ${run.steps} steps\n`);
    }
    if (!json && event === 'cell.output') printOutput((payload as { output: CellOutput }).output);
  });
  let status;
  let reason = '';
  try {
    await service.startEngine();
    if (!json) {
      const info = service.engineInfo();
      process.stderr.write(`engine backend: ${info.label ?? info.backend}${info.detail ? ` (${info.detail})` : ''}\n`);
    }
    const withParams = injectParameters(nb, a.params);
    const result = await runNotebook(service, nbPath, withParams, (cell, i) => {
      if (!json) process.stderr.write(`--- cell ${i + 1} (${cell.id}) ---\n`);
    });
    status = result.status;
    if (json) {
      const failed = result.cells.find((c) => c.status !== 'ok');
      const error = failed?.outputs.find((o) => o.type === 'error');
      const runs = runIds.map((id) => {
        const r = service.tracker.getRun(id)!;
        const metrics = service.tracker.metricSummary(id);
        const ev = evalJson(r, metrics);
        const evaluation = ev ? { eval: ev } : {};
        return {
          id: r.id, name: r.name, family: r.family, status: r.status, steps: r.steps, backend: r.backend,
          metrics, ...evaluation,
        };
      });
      process.stdout.write(JSON.stringify({ notebook: nbPath, status, runs, ...(error ? { error } : {}) }) + '\n');
    }
    const failed = result.cells.find((c) => c.status !== 'ok');
    if (failed) {
      const index = withParams.cells.findIndex((c) => c.id === failed.cellId);
      const err = failed.outputs.find((o) => o.type === 'error');
      const what = err && err.type === 'error' ? `${err.name}: ${firstLine(err.message)}` : failed.status;
      const line = err && err.type === 'error' && err.line ? ` line ${err.line}` : '';
      reason = `cell ${index + 1} (${failed.cellId})${line}: ${what}`;
    }
  } finally {
    await service.close();
  }
  if (status === 'ok') return 0;
  // the last line says why, in one line
  process.stderr.write(`latentlab: ${file} stopped at ${reason || status}\n`);
  return 1;
}

function cmdTrust(a: Args): number {
  if (a.positional.length === 0) throw new UsageError('trust needs a NOTEBOOK');
  const store = new TrustStore();
  for (const file of a.positional) {
    const abs = resolve(file);
    if (!existsSync(abs)) throw new InputError(`cannot read notebook ${file}: no such file`);
    const read = readNotebookFile(abs);
    if (read.problem) throw new InputError(`${file} ${firstLine(read.problem)}`);
    store.trust(read.raw as Notebook);
    process.stderr.write(`trusted ${file}\n`);
  }
  return 0;
}

/** the name of the pinned classifier `version` of a dataset (resources/classifiers/*.json), e.g. 'mnist-mlp-v1' */
function classifierName(dataName: string, version: number): string {
  try {
    const dir = resolve(appRoot(), 'resources', 'classifiers');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const info = JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as { dataset?: string; version?: string; versionNumber?: number };
      if (info.dataset === dataName && info.versionNumber === version && info.version) return info.version;
    }
  } catch {
    /* no classifiers folder: the number alone */
  }
  return `${dataName}-v${version}`;
}

/**
 * lab.evaluate's results on a run, as `latentlab run --json` reports them: the test NLL
 * with the kind the model declared for it (plus sample metrics when they were computed),
 * or for a model without a likelihood its sample metrics (kind 'sample'): FID, KID,
 * precision, recall, class coverage on images; MMD on 2-D and tabular data.
 */
export function evalJson(r: { dataName: string; config: Record<string, unknown> }, metrics: Record<string, { last: number }>): Record<string, unknown> | null {
  const last = (k: string) => metrics[k]?.last;
  const sample: Record<string, unknown> = {};
  if (last('test/fid') !== undefined) {
    sample.fid = last('test/fid');
    for (const [key, name] of [['test/kid', 'kid'], ['test/kid_std', 'kid_std'], ['test/precision', 'precision'], ['test/recall', 'recall'], ['test/class_coverage', 'class_coverage']] as const) {
      if (last(key) !== undefined) sample[name] = last(key);
    }
  } else if (last('test/mmd') !== undefined) sample.mmd = last('test/mmd');
  const hasSample = Object.keys(sample).length > 0;
  if (hasSample) {
    if (last('test/sample_n') !== undefined) sample.n = last('test/sample_n');
    const v = last('test/classifier_version');
    if (v !== undefined) sample.classifier = classifierName(r.dataName, v);
  }
  if (last('test/nll') !== undefined && last('test/bits_per_dim') !== undefined) {
    const kind = (r.config.metricKinds as Record<string, string> | undefined)?.['test/nll'] ?? 'exact';
    const stderr = last('test/nll_stderr');
    // an estimate's convergence check (AIS temperatures, IWAE k): the NLL at the knob and at 4× it
    const conv = convergenceFromMetrics(last, Object.keys(metrics));
    const convergence = conv ? { ...conv, note: convergenceNote(conv) } : undefined;
    return { nll_nats: last('test/nll'), bits_per_dim: last('test/bits_per_dim'), kind, ...(stderr !== undefined ? { stderr } : {}), ...(convergence ? { convergence } : {}), ...sample };
  }
  return hasSample ? { kind: 'sample', ...sample } : null;
}

function cmdRuns(a: Args): void {
  const workspace = new Workspace(str(a.flags.get('--workspace')) ?? defaultWorkspace());
  const tracker = new Tracker(workspace.trackerFile);
  try {
    // the same liveness check a host makes when it opens the workspace: a run whose host is gone crashed
    tracker.markOrphansCrashed();
    const [sub, ref, ...rest] = a.positional;
    if (sub === 'rm' || sub === 'rename') {
      if (!ref) throw new UsageError(`runs ${sub} takes a RUN (its id or a unique prefix)`);
      const run = findRun(tracker, ref);
      if (sub === 'rm') {
        if (rest.length > 0) throw new UsageError('runs rm takes one RUN');
        const { removed } = tracker.deleteRun(run.id, workspace.artifactsDir);
        process.stdout.write(`deleted run ${run.id} (${run.name}) and ${removed} file(s) or folder(s) of its artifacts\n`);
      } else {
        if (rest.length === 0) throw new UsageError("runs rename takes a RUN and a NAME ('' gives back the made name)");
        const renamed = tracker.renameRun(run.id, rest.join(' '));
        process.stdout.write(`run ${run.id} is now ${renamed.renamed ? `'${renamed.name}'` : `named by what differs from its siblings`}\n`);
      }
      return;
    }
    if (sub !== undefined) throw new UsageError(`unknown runs subcommand '${sub}'; it takes rm RUN or rename RUN NAME`);
    const runs = tracker.listRuns({ limit: 10_000 });
    const shown = runNames(runs);
    if (a.flags.has('--json')) {
      process.stdout.write(JSON.stringify({ runs }) + '\n');
      return;
    }
    if (runs.length === 0) {
      process.stdout.write(`no runs in ${workspace.dir}\n`);
      return;
    }
    const rows = runs.map((r) => [
      r.id, shown.get(r.id) ?? r.name, r.family, r.status, `${r.steps}/${r.totalSteps}`, r.backend, String(r.seed),
      Object.entries(r.finalMetrics).filter(([k]) => k.startsWith('val/')).slice(0, 2).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' '),
    ]);
    const head = ['ID', 'NAME', 'FAMILY', 'STATUS', 'STEPS', 'BACKEND', 'SEED', 'VALIDATION'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  } finally {
    tracker.close();
  }
}

function intFlag(a: Args, name: string): number | undefined {
  const v = str(a.flags.get(name));
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a whole number (got '${v}')`);
  return Number(v);
}

/** `export data DATASET --out DIR`: a built-in dataset's splits as .npy files (services/data-export.ts) */
function cmdExportData(a: Args, refs: string[], out: string | undefined): number {
  const [name, ...extra] = refs;
  if (!name || extra.length > 0) throw new UsageError(`export data takes one DATASET: ${EXPORTABLE_DATASETS.join(' or ')}`);
  if (!(EXPORTABLE_DATASETS as readonly string[]).includes(name)) throw new UsageError(`export data: no dataset '${name}'; the built-in image datasets are ${EXPORTABLE_DATASETS.join(' and ')}`);
  if (!out) throw new UsageError('export data needs --out DIR');
  const binarize = str(a.flags.get('--binarize')) ?? 'stochastic';
  if (binarize !== 'stochastic' && binarize !== 'threshold' && binarize !== 'none') throw new UsageError(`--binarize is stochastic, threshold or none (got ${binarize})`);
  const limit = intFlag(a, '--limit');
  if (limit !== undefined && limit < 10) throw new UsageError(`--limit takes at least 10 rows (got ${limit})`);
  const done = exportDataset(name as ExportableDataset, binarize, resolve(out), { binarizeSeed: intFlag(a, '--binarize-seed'), limit });
  process.stderr.write(`wrote ${name} (${binarize}) to ${out}: ${done.sizes.train} train, ${done.sizes.val} validation, ${done.sizes.test} test rows; fingerprint ${done.fingerprint}\n`);
  return 0;
}

async function cmdExport(a: Args): Promise<number> {
  const [what, ...refs] = a.positional;
  const out = str(a.flags.get('--out'));
  if (what === 'data') return cmdExportData(a, refs, out);
  if (!(EXPORT_KINDS as readonly string[]).includes(what)) throw new UsageError(`export what? ${[...EXPORT_KINDS, 'data'].join(', ')} (got ${what ?? 'nothing'})`);
  if (refs.length === 0) throw new UsageError(`export ${what} needs a RUN`);
  if (!out) throw new UsageError(`export ${what} needs --out FILE`);
  const workspace = new Workspace(str(a.flags.get('--workspace')) ?? defaultWorkspace());
  const tracker = new Tracker(workspace.trackerFile);
  try {
    const runs = refs.map((r) => findRun(tracker, r));
    if (what === 'metrics') {
      const n = await exportMetricsCsv(tracker, runs, resolve(out));
      process.stderr.write(`wrote ${n} metric points of ${runs.length} run(s) to ${out}\n`);
      return 0;
    }
    if (what === 'report') {
      const format = str(a.flags.get('--format')) ?? (/\.md$/i.test(out) ? 'md' : /\.pdf$/i.test(out) ? 'pdf' : 'html');
      if (format !== 'html' && format !== 'md' && format !== 'pdf') throw new UsageError(`--format is html, md or pdf (got ${format})`);
      if (format === 'pdf') {
        exportReportPdf(tracker, workspace.artifactsDir, runs, resolve(out), exportEnv());
        process.stderr.write(`wrote a PDF report of ${runs.length} run(s) to ${out}\n`);
        return 0;
      }
      const files = exportReport(tracker, workspace.artifactsDir, runs, format, resolve(out), exportEnv());
      process.stderr.write(`wrote a ${format} report of ${runs.length} run(s) to ${out}${files.length > 1 ? ` (+${files.length - 1} image files)` : ''}\n`);
      return 0;
    }
    if (runs.length !== 1) throw new UsageError(`export ${what} takes one RUN`);
    if (what === 'gif') {
      const gif = exportGridGif(tracker, workspace.artifactsDir, runs[0], { scale: intFlag(a, '--scale'), delay: intFlag(a, '--delay') });
      writeFileSync(resolve(out), gif.gif);
      process.stderr.write(`wrote ${gif.frames} frames of ${runs[0].id} (${gif.width}×${gif.height}) to ${out}\n`);
      return 0;
    }
    const rows = intFlag(a, '--rows'), cols = intFlag(a, '--cols');
    const grid = exportGridPng(tracker, workspace.artifactsDir, runs[0], {
      step: intFlag(a, '--step'), rows, cols, pad: intFlag(a, '--pad'), scale: intFlag(a, '--scale'),
      rowLabels: parseLabels(str(a.flags.get('--row-labels'))), colLabels: parseLabels(str(a.flags.get('--col-labels'))),
    });
    writeFileSync(resolve(out), grid.png);
    process.stderr.write(`wrote the step-${grid.step} grid of ${runs[0].id} (${grid.width}×${grid.height}) to ${out}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ExportError) {
      process.stderr.write(`latentlab: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    tracker.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
    if (a.flags.has('--help') || a.command === 'help' || a.command === '--help' || a.command === '-h') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (a.command === '--version') {
      process.stdout.write(JSON.parse(readFileSync(resolve(appRoot(), 'package.json'), 'utf8')).version + '\n');
      return 0;
    }
    switch (a.command) {
      case 'serve':
        await cmdServe(a);
        return -1; // keeps running
      case 'run':
        return await cmdRun(a);
      case 'runs':
        cmdRuns(a);
        return 0;
      case 'export':
        return await cmdExport(a);
      case 'trust':
        return cmdTrust(a);
      default:
        throw new UsageError(`unknown command '${a.command}'; the commands are ${COMMANDS.join(', ')}`);
    }
  } catch (e) {
    // one line that says why; `latentlab help` has the rest
    if (e instanceof UsageError) {
      process.stderr.write(`latentlab: ${firstLine(e.message)} (see latentlab --help)\n`);
      return 2;
    }
    process.stderr.write(`latentlab: ${firstLine((e as Error).message)}\n`);
    return 1;
  }
}

if (require.main === module || process.env.LATENTLAB_CLI === '1') {
  void main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
