// The highlighter for what the editor holds: our expression syntax (docs/formats.md) and the
// micrograd-style Python the server also accepts (Value(...), a.relu(), loss.backward()). It is
// a tokenizer, not a parser — identifiers, numbers, operators, keywords and comments coloured
// generically, so a file the server refuses still reads well while its problems are shown.
import { StreamLanguage, StringStream } from '@codemirror/language';

const KEYWORDS = new Set([
  'input', 'const', 'output', // ours
  'import', 'from', 'as', 'for', 'in', 'range', 'def', 'return', 'lambda', 'if', 'else',
  'and', 'or', 'not', 'True', 'False', 'None', 'print',
]);
const NUMBER = /^(?:0[xX][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/;
const NAME = /^[A-Za-z_][\w]*/;
const OPERATOR = /^(?:\*\*=?|\/\/=?|[-+*/%@]=?|==|!=|<=|>=|[<>=])/;

function token(stream) {
  if (stream.eatSpace()) return null;
  if (stream.peek() === '#') {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match(/^(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)/)) return 'string';
  if (stream.match(NUMBER)) return 'number';
  const name = stream.match(NAME);
  if (name) {
    const word = name[0];
    const before = stream.string.charAt(stream.start - 1);
    if (before === '.') return 'propertyName';
    if (KEYWORDS.has(word)) return 'keyword';
    if (stream.match(/^\s*\(/, false)) return 'variableName.function';
    return 'variableName';
  }
  if (stream.match(OPERATOR)) return 'operator';
  const ch = stream.next();
  if ('()[]{}'.includes(ch)) return 'paren';
  if (ch === ',' || ch === '.' || ch === ':' || ch === ';') return 'punctuation';
  return 'invalid';
}

export const expressionLanguage = StreamLanguage.define({
  name: 'backprop-expression',
  token,
  languageData: { commentTokens: { line: '#' } },
});

/** The tokens of one line as [text, style] pairs — what the editor colours, for node tests. */
export function tokensOf(line) {
  const stream = new StringStream(line, 4, 2);
  const out = [];
  while (!stream.eol()) {
    stream.start = stream.pos;
    const style = token(stream);
    if (style) out.push([stream.current(), style]);
  }
  return out;
}
