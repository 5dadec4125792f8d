// The "Expression" editor: a textarea with line numbers, a "Load" button (and Ctrl+Enter), and
// problems shown inline — the offending line marked in the gutter, the character highlighted,
// and each message listed with its line and column (click to jump there).

export class ExpressionEditor {
  constructor(root, { onLoad = () => {} } = {}) {
    this.root = root;
    this.textarea = root.querySelector('textarea');
    this.gutter = root.querySelector('.gutter');
    this.backdrop = root.querySelector('.backdrop');
    this.problemList = root.querySelector('.problems');
    this.button = root.querySelector('button.load');
    this.problems = [];
    this.button.addEventListener('click', () => onLoad(this.text));
    this.textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        onLoad(this.text);
      }
    });
    this.textarea.addEventListener('input', () => this._render());
    this.textarea.addEventListener('scroll', () => this._sync());
    this._render();
  }

  get text() {
    return this.textarea.value;
  }

  set text(value) {
    this.textarea.value = value;
    this.showProblems([]);
  }

  setBusy(busy) {
    this.button.disabled = busy;
    this.root.classList.toggle('busy', busy);
  }

  setReadOnly(readOnly) {
    this.textarea.readOnly = readOnly;
    this.button.disabled = readOnly;
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
