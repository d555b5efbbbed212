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
import { IGNORED_DIAGNOSTICS, NOTEBOOK_COMPILER_OPTIONS } from '../../../shared/notebook-program';

declare global {
  interface Window {
    MonacoEnvironment?: monaco.Environment;
  }
}

let ready = false;

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
  // The notebook program's options (ES2023 library, no DOM, strict): the same as the test's.
  // (target ES2022 = 9 in TypeScript's enum; Monaco's copy of the enum stops at ES2020)
  ts.typescriptDefaults.setCompilerOptions({ ...NOTEBOOK_COMPILER_OPTIONS, lib: [...NOTEBOOK_COMPILER_OPTIONS.lib], types: [] } as unknown as monaco.languages.typescript.CompilerOptions);
  ts.typescriptDefaults.setDiagnosticsOptions({
    noSemanticValidation: false,
    noSyntaxValidation: false,
    diagnosticCodesToIgnore: [...IGNORED_DIAGNOSTICS],
  });
  // No per-model validation: a cell alone does not see the cells before it. The notebook's
  // cells are checked together (notebook-diagnostics.ts), which sets each cell's markers.
  ts.typescriptDefaults.setModeConfiguration({ ...ts.typescriptDefaults.modeConfiguration, diagnostics: false });
  ts.typescriptDefaults.setEagerModelSync(true);
  ts.typescriptDefaults.addExtraLib(apiTypings, 'file:///latentlab-api.d.ts');
  ts.typescriptDefaults.addExtraLib(cellGlobals, 'file:///latentlab-cell-globals.d.ts');
  return monaco;
}

export { monaco };
