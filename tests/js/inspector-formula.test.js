// The Inspector's formula with operand labels: a sub-expression is bracketed where precedence
// needs it, and one operand's label is never rewritten by the next substitution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symbolic } from '../../static/js/graph/inspector.js';

const AB = ['a', 'b'];

test('a compound divisor is bracketed', () => {
  assert.equal(symbolic('a / b', ['exp(u * v)', '1 + u'], AB), 'exp(u * v) / (1 + u)');
});

test('a label alone inside a call needs no brackets', () => {
  assert.equal(symbolic('sin(a)', ['x1 + 1'], AB), 'sin(x1 + 1)');
  assert.equal(symbolic('max(a, b)', ['x + 1', 'y * 2'], AB), 'max(x + 1, y * 2)');
});

test('names are substituted in one pass: an input called b stays b', () => {
  assert.equal(symbolic('a * b', ['b', 'w1'], AB), 'b * w1');
  assert.equal(symbolic('a + b', ['w1 * x1 + w2 * x2', 'b'], AB), '(w1 * x1 + w2 * x2) + b');
});

test('plain names and calls are left as they are', () => {
  assert.equal(symbolic('a * b', ['x1', 'sin(x1 + 1)'], AB), 'x1 * sin(x1 + 1)');
});
