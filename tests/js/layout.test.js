// node --test tests/js/ — the linear-time layered layout and the editor's locations.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildGraph } from '../../static/js/graph/graph-model.js';
import { columnar } from './columnar.js';
import { layeredLayout } from '../../static/js/graph/graph-layout.js';
import { parseLocation } from '../../static/js/graph/editor-problems.js';

function chainOfSums(n) {
  // leaves 0..n-1, then a balanced sum tree over them
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push({ id: i, op: 'input', name: `x${i}`, group: null, children: [], depth: 0 });
  let level = nodes.map((d) => d.id);
  let depth = 0;
  while (level.length > 1) {
    depth++;
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const id = nodes.length;
      nodes.push({ id, op: '+', name: null, group: null, children: [level[i], level[i + 1]], depth });
      next.push(id);
    }
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return buildGraph(columnar({ nodes, inputs: [], consts: [], outputs: [level[0]], groups: [] }));
}

test('layered layout: ranks by depth, left to right, no two nodes in one place', () => {
  const graph = chainOfSums(64);
  const ids = Array.from({ length: graph.n }, (_, i) => i);
  const layout = layeredLayout(graph, ids, { rankSep: 100, nodeSep: 20 });
  const places = new Set();
  for (let k = 0; k < ids.length; k++) {
    assert.equal(layout.x[k], graph.depth[ids[k]] * 100);
    places.add(`${layout.x[k]},${layout.y[k]}`);
  }
  assert.equal(places.size, ids.length);
});

test('layered layout wraps tall ranks into columns and stays linear on 30,000 nodes', () => {
  const graph = chainOfSums(15000);
  const ids = Array.from({ length: graph.n }, (_, i) => i);
  const start = performance.now();
  const layout = layeredLayout(graph, ids, { maxRows: 100, nodeSep: 16, subColumnSep: 16 });
  assert.ok(performance.now() - start < 2000);
  assert.ok(layout.height <= 100 * 16);
  const places = new Set(ids.map((_, k) => `${layout.x[k]},${layout.y[k]}`));
  assert.equal(places.size, ids.length);
});

test('problem locations: line:column, or a JSON pointer', () => {
  assert.deepEqual(parseLocation('2:8'), { line: 2, column: 8 });
  assert.deepEqual(parseLocation('/nodes/3/args/0'), { pointer: '/nodes/3/args/0' });
  assert.deepEqual(parseLocation(''), { pointer: '' });
});
