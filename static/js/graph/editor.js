// The "Expression" editor: a textarea with line numbers, a "Load" button (and Ctrl+Enter), and
// problems shown inline — the offending line marked in the gutter, the character highlighted,
// and each message listed with its line and column (click to jump there).
// It holds the source of the graph on screen (setSource: an example's or an upload's text, a
// JSON file as its text); a status line says whether the text is that source or an edit not yet
// loaded, and problems are only ever shown for text that is in the editor.

export class ExpressionEditor {
  constructor(root, { onLoad = () => {} } = {}) {
    this.root = root;
    this.textarea = root.querySelector('textarea');
    this.gutter = root.querySelector('.gutter');
    this.backdrop = root.querySelector('.backdrop');
    this.problemList = root.querySelector('.problems');
    this.button = root.querySelector('button.load');
    this.problems = [];
    this.source = null; // {text, format, name, ref}: what the graph on screen was made from
    this.status = root.querySelector('.editor-status') || Object.assign(document.createElement('p'), { className: 'editor-status' });
    if (!this.status.isConnected) {
      this.status.setAttribute('role', 'status');
      root.querySelector('.editor-actions').after(this.status);
    }
    const load = () => { if (!this.textarea.readOnly) onLoad(this.text, this.format); };
    this.button.addEventListener('click', load);
    this.textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        load();
      }
    });
    this.textarea.addEventListener('input', () => {
      this._render();
      this._say();
    });
    this.textarea.addEventListener('scroll', () => this._sync());
    this._render();
  }

  get text() {
    return this.textarea.value;
  }

  set text(value) {
    this.textarea.value = value;
    this.showProblems([]);
    this._say();
  }

  /** The format Load sends: JSON text as the JSON format it came in (or the server sniffs
   * it), anything else as an expression. */
  get format() {
    if (!this.text.trimStart().startsWith('{')) return 'expr';
    const f = this.source && this.source.format;
    return f === 'graph' || f === 'network' ? f : null;
  }

  /** The graph on screen was made from `source` ({text, format, name, ref}, text null when it
   * has none — a model built in code): show it, replacing whatever was here. */
  setSource(source) {
    this.source = source;
    this.note = '';
    this.textarea.placeholder = source.text == null ? 'Type an expression here and press Load.' : '';
    this.text = source.text ?? '';
  }

  /** The graph on screen is gone (none could be loaded): nothing here is its source. */
  clearSource(note = '') {
    this.source = null;
    this.note = note; // said in the status line, which wraps (the textarea does not)
    this.textarea.placeholder = note ? '…' : '';
    this.text = '';
  }

  /** The text is the graph's source, an edit not yet loaded, or (read-only) a shared graph. */
  _say() {
    if (!this.status) return;
    const src = this.source;
    let text = '';
    let state = 'none';
    if (src && src.text != null && this.text === src.text) {
      state = 'source';
      text = `The source of the graph on screen: ${src.name || src.ref}${this.textarea.readOnly ? ' (read-only)' : ''}.`;
    } else if (src && src.text == null && this.text === '') {
      state = 'no-text';
      text = `${src.name || src.ref} is built in code: it has no text to show here.`;
    } else if (this.text.trim()) {
      state = 'edited';
      text = 'Edited, not loaded: press Load (Ctrl+Enter) to show it.';
    } else if (this.note) {
      text = this.note;
    }
    this.status.textContent = text;
    this.root.dataset.sourceState = state;
  }

  setBusy(busy) {
    this.button.disabled = busy || this.textarea.readOnly;
    this.root.classList.toggle('busy', busy);
  }

  setReadOnly(readOnly) {
    this.textarea.readOnly = readOnly;
    this.button.disabled = readOnly;
    this._say();
  }

  /** problems: [{location, message}] from the server; location "line:col", a JSON pointer or "". */
  showProblems(problems, { message = null } = {}) {
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
    this.textarea.setAttribute('aria-invalid', String(list.childElementCount > 0));
    this._render();
  }

  jumpTo(line, column = 1) {
    const lines = this.textarea.value.split('\n');
    let offset = 0;
    for (let l = 0; l < line - 1 && l < lines.length; l++) offset += lines[l].length + 1;
    offset += Math.max(0, column - 1);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset + 1);
  }

  _render() {
    const lines = this.textarea.value.split('\n');
    const bad = new Map();
    for (const p of this.problems) if (p.line) bad.set(p.line, p);
    this.gutter.replaceChildren(...lines.map((_, i) => {
      const div = document.createElement('div');
      div.textContent = String(i + 1);
      const p = bad.get(i + 1);
      if (p) {
        div.className = 'error';
        div.title = p.message;
        div.dataset.line = String(i + 1);
      }
      return div;
    }));
    // Backdrop: the same text, with the problem's character (to the end of its line) marked.
    const parts = [];
    lines.forEach((text, i) => {
      const p = bad.get(i + 1);
      if (!p) {
        parts.push(document.createTextNode(`${text}\n`));
        return;
      }
      const c = Math.max(0, Math.min(text.length, (p.column || 1) - 1));
      const mark = document.createElement('mark');
      mark.textContent = text.slice(c) || ' ';
      mark.dataset.line = String(i + 1);
      const note = document.createElement('span');
      note.className = 'inline-problem';
      note.textContent = `  ← ${p.message}`;
      parts.push(document.createTextNode(text.slice(0, c)), mark, note, document.createTextNode('\n'));
    });
    this.backdrop.replaceChildren(...parts);
    this._sync();
  }

  _sync() {
    this.backdrop.scrollTop = this.textarea.scrollTop;
    this.backdrop.scrollLeft = this.textarea.scrollLeft;
    this.gutter.scrollTop = this.textarea.scrollTop;
  }
}

export function parseLocation(location) {
  const match = /^(\d+):(\d+)$/.exec(location || '');
  if (match) return { line: Number(match[1]), column: Number(match[2]) };
  return { pointer: location || '' };
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
