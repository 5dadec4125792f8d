// The "Expression" editor: CodeMirror 6 with our syntax coloured, line numbers, a "Load" button
// (and Ctrl+Enter), and problems shown in place — the line number marked, the character to the
// end of its line underlined as a lint diagnostic with the message after it, and each message
// listed below with its line and column (click to jump there). CodeMirror draws only the lines
// in view, so a 100,000-line source costs nothing while the graph animates.
// It holds the source of the graph on screen (setSource: an example's or an upload's text, a
// JSON file as its text); a status line says whether the text is that source or an edit not yet
// loaded, and problems are only ever shown for text that is in the editor.
import { history, historyKeymap, defaultKeymap } from '@codemirror/commands';
import { lintKeymap } from '@codemirror/lint';
import { Compartment, EditorSelection, EditorState, Prec, Text } from '@codemirror/state';
import {
  EditorView, drawSelection, highlightActiveLineGutter, highlightSpecialChars, keymap,
  lineNumbers, placeholder,
} from '@codemirror/view';
import { editorLook } from './editor-look.js';
import { parseLocation, problemMarking, problemRange, showProblemsSpec } from './editor-problems.js';
import { expressionLanguage } from './expr-language.js';
import { nextTask } from '../shared/yield.js';

// Characters of a source split into lines in one task (about 10,000 lines): a 100,000-line
// source given to CodeMirror at once was a 40 ms task.
const STEP_CHARS = 1 << 18;

export { parseLocation };

export class ExpressionEditor {
  constructor(root, { onLoad = () => {} } = {}) {
    this.root = root;
    this.problemList = root.querySelector('.problems');
    this.button = root.querySelector('button.load');
    this.problems = [];
    this.source = null; // {text, format, name, ref}: what the graph on screen was made from
    this.sourceDoc = null; // the editor's document when it was set to the source's text
    this.readOnly = false;
    this.loading = false; // a long source's document is being built (setSource): read-only meanwhile
    this.version = 0; // documents set so far: a long source still being built gives way to a newer one
    this.placeholderText = '';
    this.readOnlyPart = new Compartment();
    this.placeholderPart = new Compartment();
    this.status = root.querySelector('.editor-status') || Object.assign(document.createElement('p'), { className: 'editor-status' });
    if (!this.status.isConnected) {
      this.status.setAttribute('role', 'status');
      root.querySelector('.editor-actions').after(this.status);
    }
    this.load = () => { if (!this.readOnly) onLoad(this.text, this.format); };
    this.button.addEventListener('click', this.load);
    // The markup holds the first text (readable before the script runs); the editor takes it over.
    const box = root.querySelector('.code');
    const initial = box.textContent.replace(/^\n/, '');
    box.replaceChildren();
    this.view = new EditorView({ parent: box, state: this._state(initial) });
    root.expressionEditor = this; // for the tests and bench/browser.py, as window.__frameStats
  }

  _state(doc) {
    return EditorState.create({
      doc,
      extensions: [
        Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => { this.load(); return true; } }])),
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(),
        keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap]), // no Tab: it moves the focus on
        expressionLanguage, editorLook, problemMarking,
        EditorView.contentAttributes.of({
          id: 'expression', 'aria-labelledby': 'expression-title',
          tabindex: '0', // focusable already (contenteditable); said so for axe's scrollable-region rule
          spellcheck: 'false', autocorrect: 'off', autocapitalize: 'off',
        }),
        this.readOnlyPart.of(EditorState.readOnly.of(this.readOnly || this.loading)),
        this.placeholderPart.of(placeholder(this.placeholderText)),
        EditorView.cspNonce.of(styleNonce()),
        EditorView.updateListener.of((update) => { if (update.docChanged) this._say(); }),
      ],
    });
  }

  get text() {
    return this.view.state.doc.toString();
  }

  /** Replaces the text (and its undo history); no problems are shown for the new text. */
  set text(value) {
    this._setDoc(value);
  }

  /** A new state holding `doc` (a string or a Text), read-only while `loading`; a long source
   * still being built gives way to it. The placeholder and read-only are the state's own from
   * the start: each dispatch after it was one more update of a 100,000-line document. */
  _setDoc(doc, loading = false) {
    this.version++;
    this.loading = loading;
    this.view.setState(this._state(doc));
    this._listProblems([]); // a new state has no problems marked: only the list goes
    this._say();
  }

  /** The format Load sends: JSON text as the JSON format it came in (or the server sniffs
   * it), anything else as an expression. */
  get format() {
    const doc = this.view.state.doc;
    const head = doc.sliceString(0, Math.min(doc.length, 4096)).trimStart();
    if (!(head ? head.startsWith('{') : this.text.trimStart().startsWith('{'))) return 'expr';
    const f = this.source && this.source.format;
    return f === 'graph' || f === 'network' ? f : null;
  }

  /** The graph on screen was made from `source` ({text, format, name, ref}, text null when it
   * has none — a model built in code): show it, replacing whatever was here. A long text is
   * shown once its document is built, a step a task; until then the editor is empty, read-only
   * and says the text is loading (never another graph's text as this one's). Resolves once the
   * text is shown (false if another text replaced it first). */
  async setSource(source) {
    const text = source.text ?? '';
    // The text just loaded is already here (Load, then the graph arrives): keep the cursor, the
    // scroll position and the undo history; only the problems go.
    const doc = this.view.state.doc;
    if (doc.length === text.length && this.text === text) return this._show(source, null);
    if (text.length <= STEP_CHARS) return this._show(source, text);
    this._clear(`Loading the text of ${source.name || source.ref}…`, true);
    const version = this.version;
    const built = await documentInSteps(text, () => this.version === version);
    return built ? this._show(source, built) : false;
  }

  /** `doc`: the source's document (a string or a Text), null when it is the one here. */
  _show(source, doc) {
    this.version++; // a long source still being built is not this one
    this.loading = false;
    this.source = source;
    this.note = '';
    const hint = source.text == null ? 'Type an expression here and press Load.' : '';
    if (doc === null) {
      this._placeholder(hint);
      this._showReadOnly();
      this.showProblems([]);
    } else {
      this.placeholderText = hint;
      this._setDoc(doc);
    }
    this.sourceDoc = this.view.state.doc;
    this._say();
    return true;
  }

  /** The graph on screen is gone (none could be loaded): nothing here is its source. */
  clearSource(note = '') {
    this._clear(note, false);
  }

  _clear(note, loading) {
    this.source = null;
    this.sourceDoc = null;
    this.note = note; // said in the status line, which wraps (the editor does not)
    this.placeholderText = note ? '…' : '';
    this._setDoc('', loading);
  }

  _placeholder(text) {
    if (text === this.placeholderText) return;
    this.placeholderText = text;
    this.view.dispatch({ effects: this.placeholderPart.reconfigure(placeholder(text)) });
  }

  /** The text is the graph's source, an edit not yet loaded, or (read-only) a shared graph. */
  _say() {
    if (!this.status) return;
    const src = this.source;
    const doc = this.view.state.doc;
    let text = '';
    let state = 'none';
    if (src && src.text != null && this.sourceDoc && doc.eq(this.sourceDoc)) {
      state = 'source';
      text = `The source of the graph on screen: ${src.name || src.ref}${this.readOnly ? ' (read-only)' : ''}.`;
    } else if (src && src.text == null && doc.length === 0) {
      state = 'no-text';
      text = `${src.name || src.ref} is built in code: it has no text to show here.`;
    } else if (/\S/.test(doc.sliceString(0, 65536)) || this.text.trim()) {
      state = 'edited';
      text = 'Edited, not loaded: press Load (Ctrl+Enter) to show it.';
    } else if (this.note) {
      text = this.note;
    }
    this.status.textContent = text;
    this.root.dataset.sourceState = state;
  }

  /** The state is read-only when the editor is, or while a long source is being built. */
  _showReadOnly() {
    const readOnly = this.readOnly || this.loading;
    if (readOnly === this.view.state.readOnly) return;
    this.view.dispatch({ effects: this.readOnlyPart.reconfigure(EditorState.readOnly.of(readOnly)) });
  }

  setBusy(busy) {
    this.button.disabled = busy || this.readOnly;
    this.root.classList.toggle('busy', busy);
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this._showReadOnly();
    this.root.classList.toggle('read-only', readOnly);
    this.button.disabled = readOnly;
    this._say();
  }

  /** problems: [{location, message}] from the server; location "line:col", a JSON pointer or "". */
  showProblems(problems, { message = null } = {}) {
    this._listProblems(problems, message);
    this.view.dispatch(showProblemsSpec(this.view.state, this.problems.filter((p) => p.line),
      this.problemList.childElementCount));
  }

  /** The problems listed below the editor (not marked in it). */
  _listProblems(problems, message = null) {
    this.problems = problems.map((p) => ({ ...p, ...parseLocation(p.location) }));
    const list = this.problemList;
    list.replaceChildren();
    if (message && !problems.length) list.append(item({ message }));
    for (const problem of this.problems) {
      const li = item(problem);
      if (problem.line) li.addEventListener('click', () => this.jumpTo(problem.line, problem.column));
      list.append(li);
    }
    this.root.classList.toggle('has-problems', list.childElementCount > 0);
  }

  jumpTo(line, column = 1) {
    const range = problemRange(this.view.state.doc, { line, column });
    if (!range) return;
    this.view.focus();
    this.view.dispatch({
      selection: EditorSelection.single(range.from, Math.min(range.to, range.from + 1)),
      effects: EditorView.scrollIntoView(range.from, { y: 'center' }),
    });
  }
}

/**
 * `text` as a CodeMirror document, split into lines STEP_CHARS at a time, a task each; null if
 * `wanted()` turns false meanwhile. Lines break where CodeMirror's own split breaks them (\r\n,
 * \r or \n); a step ends at a \n, so a \r\n is never cut in two.
 */
async function documentInSteps(text, wanted) {
  await nextTask(); // not in the task that asked (it shows the graph)
  if (!wanted()) return null;
  let doc = null;
  for (let start = 0; ;) {
    let end = text.indexOf('\n', start + STEP_CHARS);
    const last = end < 0;
    if (last) end = text.length;
    const cut = !last && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const lines = text.slice(start, cut).split(/\r\n?|\n/);
    // A step's lines begin a line of their own: '' ends the document's last line there.
    doc = doc ? doc.append(Text.of(['', ...lines])) : Text.of(lines);
    if (last) return doc;
    start = end + 1;
    await nextTask();
    if (!wanted()) return null;
  }
}

/** The nonce the page's Content-Security-Policy allows for CodeMirror's <style> elements. */
function styleNonce() {
  const meta = document.querySelector('meta[name=style-nonce]');
  return meta ? meta.content : '';
}

function item(problem) {
  const li = document.createElement('li');
  let where = '';
  if (problem.line) where = `Line ${problem.line}, column ${problem.column}: `;
  else if (problem.pointer) where = `At ${problem.pointer}: `;
  li.textContent = `${where}${problem.message}`;
  if (problem.line) {
    li.dataset.line = String(problem.line);
    li.dataset.column = String(problem.column);
    li.tabIndex = 0;
  }
  return li;
}
