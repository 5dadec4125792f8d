// The server's problems with the editor's text, in the editor: each located one becomes a lint
// diagnostic (the character to the end of its line underlined, its message on hover and in the
// lint panel), its line number marked in the gutter, and its message written after the line —
// a learner reads it without hovering. All of it moves with the text as it is edited.
import { RangeSet, StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, GutterMarker, WidgetType, gutterLineClass } from '@codemirror/view';
import { setDiagnostics } from '@codemirror/lint';

/** "line:col" → {line, column}; a JSON pointer (or nothing) → {pointer}. */
export function parseLocation(location) {
  const match = /^(\d+):(\d+)$/.exec(location || '');
  if (match) return { line: Number(match[1]), column: Number(match[2]) };
  return { pointer: location || '' };
}

/** Where a located problem sits in `doc` (a CodeMirror Text): {line, from, to}, or null. */
export function problemRange(doc, { line, column }) {
  if (!line || line > doc.lines) return null;
  const at = doc.line(line);
  const from = at.from + Math.max(0, Math.min(at.length, (column || 1) - 1));
  return { line, from, to: at.to };
}

class ProblemLine extends GutterMarker {
  constructor() { super(); this.elementClass = 'problem-line'; }
}
const problemLine = new ProblemLine();

class InlineProblem extends WidgetType {
  constructor(message) { super(); this.message = message; }
  eq(other) { return other.message === this.message; }
  toDOM() {
    const note = document.createElement('span');
    note.className = 'inline-problem';
    note.setAttribute('aria-hidden', 'true'); // the list below the editor says it to a reader
    note.textContent = `  ← ${this.message}`;
    return note;
  }
  ignoreEvent() { return false; }
}

const setProblems = StateEffect.define();

/** {lines: gutter markers, notes: decorations, count}: the marks of the problems now shown. */
const problemMarks = StateField.define({
  create: () => ({ lines: RangeSet.empty, notes: Decoration.none, count: 0 }),
  update(marks, tr) {
    for (const effect of tr.effects) if (effect.is(setProblems)) return effect.value;
    if (!tr.docChanged) return marks;
    return { ...marks, lines: marks.lines.map(tr.changes), notes: marks.notes.map(tr.changes) };
  },
  provide: (field) => [
    gutterLineClass.from(field, (marks) => marks.lines),
    EditorView.decorations.from(field, (marks) => marks.notes),
    EditorView.contentAttributes.from(field, (marks) => ({ 'aria-invalid': String(marks.count > 0) })),
  ],
});

export const problemMarking = [problemMarks];

/** The transaction spec that shows `problems` ([{line, column, message}], others ignored) in
 * `state`, replacing the ones shown. `listed` counts every problem (a JSON pointer too). */
export function showProblemsSpec(state, problems, listed = problems.length) {
  const located = [];
  for (const p of problems) {
    const range = problemRange(state.doc, p);
    if (range) located.push({ ...range, message: p.message });
  }
  located.sort((a, b) => a.from - b.from);
  const diagnostics = located.map((p) => ({ from: p.from, to: p.to, severity: 'error', message: p.message }));
  const lineStarts = [...new Set(located.map((p) => state.doc.line(p.line).from))];
  const notes = Decoration.set(located.map((p) => Decoration.widget({
    widget: new InlineProblem(p.message), side: 1,
  }).range(p.to)), true);
  const marks = { lines: RangeSet.of(lineStarts.map((at) => problemLine.range(at))), notes, count: listed };
  return { effects: [setDiagnostics(state, diagnostics).effects, setProblems.of(marks)].flat() };
}
