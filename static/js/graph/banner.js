// The one message over the graph: the latest thing that went wrong, in words — what failed
// (naming the file), why, and what is on screen instead. There is only ever one: a later error
// replaces it and any later success clears it, so an old "Could not compute" never lingers.

export class Banner {
  constructor(element) {
    this.element = element;
  }

  /** Show `lines` (the first says what failed; more give the problems and what is shown). */
  show(lines, { kind = 'error' } = {}) {
    this.element.textContent = lines.filter(Boolean).join('\n');
    this.element.dataset.kind = kind;
    this.element.hidden = false;
  }

  clear() {
    this.element.hidden = true;
    this.element.textContent = '';
    delete this.element.dataset.kind;
  }

  get text() {
    return this.element.hidden ? '' : this.element.textContent;
  }
}

/** A ServerError's problems as lines: "line 1, column 1: syntax error". */
export function problemLines(error) {
  return (error.problems || []).map((p) => {
    const m = /^(\d+):(\d+)$/.exec(p.location || '');
    const where = m ? `line ${m[1]}, column ${m[2]}` : p.location;
    return where ? `${where}: ${p.message}` : p.message;
  });
}
