// Monaco, set up once: the editor core plus only the languages a notebook needs
// (TypeScript with its language service, Markdown), the web workers bundled by
// Vite, and the `lab` API typings so cells get completion and hover docs.
import 'monaco-editor/esm/vs/editor/edcore.main.js';
import 'monaco-editor/esm/vs/basic-languages/typescript/typescript.contribution.js';
import 'monaco-editor/esm/vs/basic-languages/markdown/markdown.contribution.js';
import 'monaco-editor/esm/vs/language/typescript/monaco.contribution.js';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import TsWorker from 'monaco-editor/esm/vs/language/typescript/ts.worker.js?worker';

// The cell API's declaration (the one the engine is compiled against) and the two
// globals a cell sees: imported as text, so a moved file fails the build.
import apiTypings from '../../../engine/lab/api.d.ts?raw';
import cellGlobals from '../../../engine/lab/cell-globals.d.ts?raw';

declare global {
  interface Window {
    MonacoEnvironment?: monaco.Environment;
  }
}

let ready = false;

/** TypeScript diagnostics that are wrong for notebook cells. */
const IGNORED_DIAGNOSTICS = [
  1375, // 'await' at top level only in modules: the kernel allows top-level await in every cell
  1378, // top-level 'await' needs module/target options (same reason)
  2451, // cannot redeclare block-scoped variable: re-declaring in another cell is normal in a notebook
  1108, // a 'return' statement can only be used within a function body: the kernel wraps cells
];

export function setupMonaco(): typeof monaco {
  if (ready) return monaco;
  ready = true;
  self.MonacoEnvironment = {
    getWorker(_workerId: string, label: string) {
      if (label === 'typescript' || label === 'javascript') return new TsWorker();
      return new EditorWorker();
    },
  };
  const ts = monaco.languages.typescript;
  ts.typescriptDefaults.setCompilerOptions({
    // ES2022 (= 9 in TypeScript's enum); Monaco's copy of the enum stops at ES2020.
    target: 9 as typeof ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    allowNonTsExtensions: true,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
  });
  ts.typescriptDefaults.setDiagnosticsOptions({
    noSemanticValidation: false,
    noSyntaxValidation: false,
    diagnosticCodesToIgnore: IGNORED_DIAGNOSTICS,
  });
  ts.typescriptDefaults.setEagerModelSync(true);
  ts.typescriptDefaults.addExtraLib(apiTypings, 'file:///latentlab-api.d.ts');
  ts.typescriptDefaults.addExtraLib(cellGlobals, 'file:///latentlab-cell-globals.d.ts');
  return monaco;
}

export { monaco };
