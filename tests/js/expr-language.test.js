// node --test tests/js/ — the editor's highlighter (graph/expr-language.js): what each piece of
// our expression syntax (docs/formats.md) and of micrograd-style Python is coloured as.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { tokensOf } from '../../static/js/graph/expr-language.js';

const styleOf = (line) => Object.fromEntries(tokensOf(line).map(([text, style]) => [text, style]));

test('expressions: names, functions, numbers, operators, keywords, comments', () => {
  const line = 'y = (sin(x1 + 1) + cos(2*x2)) ** -1.5e-3  # done';
  assert.equal(tokensOf(line).map(([text]) => text).join(''), line.replaceAll(' ', '').replace('#done', '# done'));
  const s = styleOf(line);
  assert.equal(s.y, 'variableName');
  assert.equal(s.x1, 'variableName');
  assert.equal(s.sin, 'variableName.function');
  assert.equal(s['1.5e-3'], 'number');
  assert.equal(s['**'], 'operator');
  assert.equal(s['# done'], 'comment');
  assert.equal(styleOf('x = input(0.5)').input, 'keyword');
  assert.equal(styleOf('output a, b').output, 'keyword');
  assert.equal(styleOf('s += 0x10 * 1_000').s, 'variableName');
  assert.equal(styleOf('s += 0x10 * 1_000')['0x10'], 'number');
  assert.equal(styleOf('s += 0x10 * 1_000')['1_000'], 'number');
  assert.equal(styleOf('s += 0x10 * 1_000')['+='], 'operator');
});

test('micrograd-style code: constructors, methods, imports', () => {
  const s = styleOf('a = Value(2.0); b = a.relu(); b.backward()');
  assert.equal(s.Value, 'variableName.function');
  assert.equal(s.relu, 'propertyName');
  assert.equal(s.backward, 'propertyName');
  assert.equal(s['2.0'], 'number');
  assert.equal(styleOf('from micrograd.engine import Value').from, 'keyword');
  assert.equal(styleOf('from micrograd.engine import Value').engine, 'propertyName');
});

test('text the server would refuse still splits into tokens, and nothing is lost', () => {
  for (const line of ['b = sin(a +', 'x = "unclosed', 'y = a $ b', '   ']) {
    const tokens = tokensOf(line);
    assert.equal(tokens.map(([t]) => t).join(''), line.replace(/\s+/g, ''));
  }
  assert.equal(styleOf('y = a $ b').$, 'invalid');
});
