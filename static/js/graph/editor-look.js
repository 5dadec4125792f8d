// How the editor looks: CodeMirror's chrome and the token colours drawn from the page's CSS
// variables (static/css/app.css), so the light, dark and projector themes apply to it unchanged.
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';

const chrome = EditorView.theme({
  '&': { height: '100%', color: 'var(--ink)', backgroundColor: 'var(--field)', font: 'inherit' },
  '&.cm-focused': { outline: 'none' }, // the .code box draws the focus ring
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: 'inherit', overflow: 'auto' },
  '.cm-content': { padding: '6px 0', caretColor: 'var(--ink)' },
  '.cm-line': { padding: '0 6px' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--ink)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground':
    { backgroundColor: 'var(--accent-soft)' },
  '.cm-activeLine': { backgroundColor: 'transparent' },
  '.cm-gutters': { backgroundColor: 'var(--gutter-bg)', color: 'var(--muted)', border: 'none' },
  '.cm-lineNumbers .cm-gutterElement': { padding: '0 4px 0 6px', minWidth: '22px' },
  '.cm-gutterElement.problem-line': { color: '#fff', backgroundColor: '#c81518', borderRadius: '0 3px 3px 0' },
  '.cm-activeLineGutter': { backgroundColor: 'transparent', color: 'var(--ink)' },
  '.cm-gutterElement.problem-line.cm-activeLineGutter': { backgroundColor: '#c81518', color: '#fff' },
  '.cm-lintRange-error': { backgroundColor: 'var(--warn-soft)' },
  '.cm-placeholder': { color: 'var(--muted)' },
  '.inline-problem': { color: 'var(--warn-ink)', fontFamily: 'var(--font)', fontSize: '11px' },
  '.cm-tooltip': { backgroundColor: 'var(--raised)', color: 'var(--ink)', border: '1px solid var(--line)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--warn)' },
  '.cm-panels': { backgroundColor: 'var(--panel)', color: 'var(--ink)' },
});

const colours = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--code-keyword)', fontWeight: '600' },
  { tag: tags.number, color: 'var(--code-number)' },
  { tag: tags.function(tags.variableName), color: 'var(--code-function)' },
  { tag: tags.propertyName, color: 'var(--code-property)' },
  { tag: tags.string, color: 'var(--code-string)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.operator, color: 'var(--ink-2)' },
  { tag: tags.invalid, color: 'var(--warn-ink)' },
]);

export const editorLook = [chrome, syntaxHighlighting(colours)];
