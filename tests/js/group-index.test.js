// groupIndex (trace-state.js): each node's block, made once per graph (issue 18).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildGraph } from '../../static/js/graph/graph-model.js';
import { groupIndex } from '../../static/js/graph/trace-state.js';
import { columnar } from './columnar.js';

const graph = () => buildGraph(columnar({
  nodes: [
    { id: 0, op: 'input', name: 'image[0]', group: null, children: [], depth: 0 },
    { id: 1, op: 'input', name: 'image[1]', group: null, children: [], depth: 0 },
    { id: 2, op: 'input', name: 'w', group: 'FC1', children: [], depth: 0 },
    { id: 3, op: '*', name: null, group: 'FC1', children: [0, 2], depth: 1 },
    { id: 4, op: '+', name: null, group: 'FC1', children: [3, 1], depth: 2 },
    { id: 5, op: 'tanh', name: 'y', group: 'Out', children: [4], depth: 3, output: true },
  ],
  inputs: [0, 1, 2],
  groups: [{ name: 'FC1', size: 2 }, { name: 'Out', size: 1 }],
}), 'test');

test('groupIndex: leaf-only blocks first (a name without its index), then the groups in order', () => {
  const g = graph();
  const { names, of } = groupIndex(g);
  assert.deepEqual(names, ['image', 'FC1', 'Out']);
  assert.deepEqual([...of].map((k) => names[k]), ['image', 'image', 'FC1', 'FC1', 'FC1', 'Out']);
});

test('groupIndex is made once per graph, and apart for another graph', () => {
  const g = graph();
  assert.equal(groupIndex(g), groupIndex(g));
  const other = graph();
  assert.notEqual(groupIndex(other), groupIndex(g));
  assert.deepEqual(groupIndex(other).names, groupIndex(g).names);
});
