// node --test tests/js/ — issue 11: how nodes are called on the page (graph-model.js label)
// and the place a share link carries (url-state.js placeLink / placeFromUrl).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildGraph, label, MAX_LABEL } from '../../static/js/graph/graph-model.js';
import { placeFromUrl, placeLink } from '../../static/js/shared/url-state.js';
import { columnar } from './columnar.js';

const OPERATORS = {
  '+': { formula: 'a + b' }, '*': { formula: 'a * b' }, sin: { formula: 'sin(a)' },
  exp: { formula: 'exp(a)' }, neg: { formula: '-a' }, log: { formula: 'ln(a)' },
};

// x1 = input(0.3); y = sin(x1 + 1) * exp(-(x1 + 1)); y = y + y (two nodes named y)
function graph() {
  const d = columnar({
    nodes: [
      { id: 0, op: 'input', name: 'x1', children: [], depth: 0 },
      { id: 1, op: 'const', name: null, children: [], depth: 0 },
      { id: 2, op: '+', name: null, children: [0, 1], depth: 1 },
      { id: 3, op: 'sin', name: null, children: [2], depth: 2 },
      { id: 4, op: 'neg', name: null, children: [2], depth: 2 },
      { id: 5, op: 'exp', name: null, children: [4], depth: 3 },
      { id: 6, op: '*', name: 'y', children: [3, 5], depth: 4 },
      { id: 7, op: '+', name: 'y', children: [6, 6], depth: 5, output: true },
    ],
    inputs: [0], consts: [1], outputs: [7], operators: OPERATORS,
  });
  d.leaf_values = new Float64Array([0.3, 1]).buffer;
  return buildGraph(d);
}

test('an unnamed node is called by the sub-expression it computes', () => {
  const g = graph();
  assert.equal(label(g, 2), 'x1 + 1');
  assert.equal(label(g, 3), 'sin(x1 + 1)');
  assert.equal(label(g, 4), '-(x1 + 1)');
  assert.equal(label(g, 5), 'exp(-(x1 + 1))');
});

test('a name given to several nodes gets a subscript, in id order, everywhere', () => {
  const g = graph();
  assert.deepEqual([label(g, 6), label(g, 7)], ['y₁', 'y₂']);
  assert.equal(label(g, 0), 'x1'); // a unique name stays as it is
  assert.deepEqual(g.name.slice(6), ['y', 'y']); // the raw names (and the test hooks) stay
});

test('a long sub-expression is shortened from the inside, never past the limit', () => {
  const nodes = [{ id: 0, op: 'input', name: 'a', children: [], depth: 0 }];
  for (let k = 1; k <= 12; k++) nodes.push({ id: k, op: k % 2 ? 'sin' : 'exp', name: null, children: [k - 1], depth: k });
  const g = buildGraph(columnar({ nodes, inputs: [0], outputs: [12], operators: OPERATORS }));
  const text = label(g, 12);
  assert.ok(text.length <= MAX_LABEL, text);
  assert.match(text, /^exp\(sin\(.*…/);
});

function at(href) {
  globalThis.window = {
    location: { get href() { return href; }, get hash() { return new URL(href).hash; } },
    history: { replaceState: () => {} },
  };
}

test('a share link carries what-if values, playhead and mode, and reads back the same', () => {
  const link = placeLink('http://host/?shared=k3y', { values: { x1: 0.25, 7: -1 }, at: 42, mode: 'backward' });
  at(link);
  assert.deepEqual(placeFromUrl(), { values: { x1: 0.25, 7: -1 }, at: 42, mode: 'backward' });
});

test('a fresh place adds nothing to a link; bad parts of a place are dropped', () => {
  assert.equal(placeLink('http://host/?shared=k3y', { values: {}, at: 0, mode: 'both' }), 'http://host/?shared=k3y');
  at('http://host/?graph=example:a.expr&values=%7Bnot%20json&at=-3&mode=sideways');
  assert.deepEqual(placeFromUrl(), { values: {}, at: null, mode: null });
  at('http://host/?graph=example:a.expr');
  assert.equal(placeFromUrl(), null);
});

test('names travel as one UTF-8 buffer: ASCII and not, each node keeps its own', () => {
  // The server's encoding is Python's own (tests/server checks it against engine.frames);
  // here TextEncoder's, independent of the page's decoding.
  for (const names of [['a', 'bb', 'x1'], ['x₁', 'é', 'a', '日本', '𝑥', '']]) {
    const g = buildGraph(columnar({
      nodes: names.map((name, id) => ({ id, op: 'input', name, children: [], depth: 0 })),
      inputs: names.map((_, id) => id),
    }));
    assert.deepEqual(g.name, names);
  }
});
