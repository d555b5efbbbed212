// One Monaco editor for one code cell: grows with its content (no inner
// scrolling), owns the cell's text model, and maps the notebook keys.
import { useEffect, useRef } from 'react';
import { useLab } from '../store';
import { monaco, setupMonaco } from './monaco';
import { cellModelUri } from './notebook-diagnostics';

export interface CodeEditorProps {
  cellId: string;
  value: string;
  language: 'typescript' | 'markdown';
  /** 1-based line to highlight as the error line, or null. */
  errorLine: number | null;
  /** Changes whenever the notebook wants the keyboard in this editor. */
  focusSeq: number;
  onChange(value: string): void;
  onRunAdvance(): void;
  onRunInPlace(): void;
  onSave(): void;
  onFocus?(): void;
  /** Esc with none of Monaco's own widgets open: leave the editor for command mode. */
  onEscape?(): void;
  /** a focus request puts the caret at line 1, column 1 (Shift+Enter into the next cell) */
  focusAtStart?: boolean;
}

/** Esc belongs to Monaco while one of its widgets or modes is open (suggest box, hints, find, rename, snippet...). */
const MONACO_OWNS_ESCAPE = [
  'suggestWidgetVisible', 'parameterHintsVisible', 'findWidgetVisible', 'renameInputVisible', 'inSnippetMode',
  'editorHasMultipleSelections', 'inlineSuggestionVisible', 'referenceSearchVisible', 'markersNavigationVisible', 'editorHoverFocused',
].map((k) => `!${k}`).join(' && ');

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const decorations = useRef<monaco.editor.IEditorDecorationsCollection | null>(null);
  // Callbacks change every render; the editor reads the latest through this ref.
  const cb = useRef(props);
  cb.current = props;
  // the model's URI names the notebook too: two notebooks may share cell ids
  const notebookPath = useLab((s) => s.notebook?.path ?? '');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const m = setupMonaco();
    const ext = props.language === 'typescript' ? 'ts' : 'md';
    const uri = cellModelUri(notebookPath, props.cellId, ext);
    const model = m.editor.getModel(uri) ?? m.editor.createModel(props.value, props.language, uri);
    if (model.getValue() !== props.value) model.setValue(props.value);
    const editor = m.editor.create(el, {
      model,
      theme: 'vs',
      fontSize: 13,
      lineHeight: 19,
      fontFamily: "'JetBrains Mono', 'Cascadia Code', 'SF Mono', Menlo, Consolas, monospace",
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      scrollbar: { vertical: 'hidden', horizontal: 'auto', alwaysConsumeMouseWheel: false, verticalScrollbarSize: 0 },
      overviewRulerLanes: 0,
      overviewRulerBorder: false,
      hideCursorInOverviewRuler: true,
      renderLineHighlightOnlyWhenFocus: true,
      lineNumbers: 'on',
      lineNumbersMinChars: 3,
      glyphMargin: false,
      folding: false,
      lineDecorationsWidth: 6,
      automaticLayout: true,
      fixedOverflowWidgets: true,
      tabSize: 2,
      wordWrap: props.language === 'markdown' ? 'on' : 'off',
      padding: { top: 6, bottom: 6 },
      contextmenu: true,
      stickyScroll: { enabled: false },
    });
    editorRef.current = editor;
    decorations.current = editor.createDecorationsCollection([]);

    const fit = () => {
      const h = Math.max(editor.getContentHeight(), 32);
      el.style.height = `${h}px`;
      editor.layout({ width: el.clientWidth, height: h });
    };
    fit();
    const subs = [
      editor.onDidContentSizeChange((e) => {
        if (e.contentHeightChanged) fit();
      }),
      editor.onDidChangeModelContent(() => cb.current.onChange(editor.getValue())),
      editor.onDidFocusEditorText(() => cb.current.onFocus?.()),
    ];
    const K = m.KeyCode;
    const M = m.KeyMod;
    // addAction (not addCommand): its keybindings belong to this editor only.
    editor.addAction({ id: 'latentlab.runAdvance', label: 'Run Cell and Advance', keybindings: [M.Shift | K.Enter], run: () => cb.current.onRunAdvance() });
    editor.addAction({ id: 'latentlab.runInPlace', label: 'Run Cell', keybindings: [M.CtrlCmd | K.Enter], run: () => cb.current.onRunInPlace() });
    editor.addAction({ id: 'latentlab.commandMode', label: 'Command Mode', keybindings: [K.Escape], keybindingContext: MONACO_OWNS_ESCAPE, run: () => cb.current.onEscape?.() });
    editor.addAction({ id: 'latentlab.save', label: 'Save Notebook', keybindings: [M.CtrlCmd | K.KeyS], run: () => cb.current.onSave() });
    return () => {
      subs.forEach((s) => s.dispose());
      editor.dispose();
      model.dispose();
      editorRef.current = null;
    };
    // The editor is created once per cell; later value changes come from the editor itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.cellId, props.language, notebookPath]);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || !decorations.current) return;
    const line = props.errorLine;
    const count = editor.getModel()?.getLineCount() ?? 0;
    if (line == null || line < 1 || line > count) {
      decorations.current.clear();
      return;
    }
    decorations.current.set([
      {
        range: new monaco.Range(line, 1, line, 1),
        options: { isWholeLine: true, className: 'cell-error-line', linesDecorationsClassName: 'cell-error-gutter' },
      },
    ]);
  }, [props.errorLine]);

  useEffect(() => {
    if (props.focusSeq > 0 && editorRef.current) {
      if (props.focusAtStart) {
        editorRef.current.setPosition({ lineNumber: 1, column: 1 });
        editorRef.current.revealLine(1);
      }
      editorRef.current.focus();
      host.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [props.focusSeq]);

  return <div className="code-editor" ref={host} />;
}
