// node --test tests/js/ — rows per column for a big layered layout (graph/layered-layout.js):
// the binary search against every row count tried in turn, and a 200,000-rank chain (one
// argument per rank to Math.max overflowed the stack there).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { rowsForAspect } from '../../static/js/graph/layered-layout.js';

const spacing = { rankSep: 60, nodeSep: 16, subColumnSep: 16 };

function graphOfRanks(sizes) {
  const depth = [];
  sizes.forEach((size, d) => { for (let i = 0; i < size; i++) depth.push(d); });
  return { depth: Int32Array.from(depth), ids: depth.map((_, i) => i) };
}

/** The fewest rows whose layout is no wider than `aspect` times its height, tried one by one. */
function fewestRows(sizes, aspect) {
  const tallest = Math.max(1, ...sizes);
  for (let rows = 1; rows <= tallest; rows++) {
    const columns = sizes.reduce((sum, size) => sum + Math.ceil(size / rows), 0);
    const width = (columns - sizes.length) * spacing.subColumnSep + sizes.length * spacing.rankSep;
    if (width / (Math.min(rows, tallest) * spacing.nodeSep) <= aspect) return rows;
  }
  return tallest;
}

test('rows for the aspect: the fewest rows that fit, as a search one by one finds', () => {
  for (const [sizes, aspect] of [[[1, 3000, 20, 7], 1.6], [[500, 500, 500], 0.5], [[1, 1, 1, 40000], 2.2]]) {
    const { depth, ids } = graphOfRanks(sizes);
    assert.equal(rowsForAspect({ depth }, ids, aspect, spacing), fewestRows(sizes, aspect), String(sizes));
  }
});

test('a 200,000-rank chain: one row, no stack overflow', () => {
  const { depth, ids } = graphOfRanks(new Array(200_000).fill(1));
  assert.equal(rowsForAspect({ depth }, ids, 1.6, spacing), 1);
});
