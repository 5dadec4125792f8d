// The layered layout: ranks are the engine's depths, so positions come in linear time; order
// within a rank by a few barycentre sweeps. Pure (no DOM): the page runs it in the layout
// worker for big graphs (graph-layout.js layeredLayoutOff), and on the main thread for small ones.

/**
 * Layered layout of the nodes `ids` (a subset of graph's nodes, in id order).
 * Returns {ids, index (id → k), x, y, width, height, method}.
 */
export function layeredLayout(graph, ids, { rankSep = 120, nodeSep = 56, maxRows = Infinity,
  subColumnSep = null, sweeps = 4 } = {}) {
  const m = ids.length;
  const index = new Map();
  for (let k = 0; k < m; k++) index.set(ids[k], k);
  // Compress depths to consecutive ranks.
  const depths = Array.from(new Set(ids.map((id) => graph.depth[id]))).sort((a, b) => a - b);
  const rankOf = new Map(depths.map((d, r) => [d, r]));
  const ranks = depths.map(() => []);
  for (let k = 0; k < m; k++) ranks[rankOf.get(graph.depth[ids[k]])].push(k);

  // Neighbours inside the subset, by local index.
  const children = new Array(m);
  const parents = Array.from({ length: m }, () => []);
  for (let k = 0; k < m; k++) {
    const p = ids[k];
    const list = [];
    for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) {
      const c = index.get(graph.edgeChild[e]);
      if (c !== undefined) {
        list.push(c);
        parents[c].push(k);
      }
    }
    children[k] = list;
  }

  const order = new Float64Array(m); // position within its rank, normalised to [0, 1]
  const normalise = (rank) => {
    const denominator = Math.max(1, rank.length - 1);
    rank.forEach((k, i) => { order[k] = rank.length === 1 ? 0.5 : i / denominator; });
  };
  ranks.forEach(normalise);
  const sortBy = (rank, neighbours) => {
    const key = new Float64Array(rank.length);
    rank.forEach((k, i) => {
      const list = neighbours[k];
      if (list.length === 0) { key[i] = order[k]; return; }
      let s = 0;
      for (const j of list) s += order[j];
      key[i] = s / list.length;
    });
    const positions = rank.map((k, i) => i).sort((a, b) => key[a] - key[b] || a - b);
    const sorted = positions.map((i) => rank[i]);
    for (let i = 0; i < rank.length; i++) rank[i] = sorted[i];
    normalise(rank);
  };
  for (let s = 0; s < sweeps; s++) {
    if (s % 2 === 0) for (let r = 1; r < ranks.length; r++) sortBy(ranks[r], children);
    else for (let r = ranks.length - 2; r >= 0; r--) sortBy(ranks[r], parents);
  }

  const x = new Float64Array(m);
  const y = new Float64Array(m);
  const subSep = subColumnSep ?? nodeSep;
  let rankX = 0;
  let height = 0;
  for (const rank of ranks) {
    const rows = Math.min(rank.length, maxRows);
    const columns = Math.ceil(rank.length / rows);
    rank.forEach((k, i) => {
      const column = Math.floor(i / rows);
      const row = i % rows;
      x[k] = rankX + column * subSep;
      y[k] = (row - (rows - 1) / 2) * nodeSep;
    });
    height = Math.max(height, (rows - 1) * nodeSep);
    rankX += (columns - 1) * subSep + rankSep;
  }
  for (let k = 0; k < m; k++) y[k] += height / 2;
  return { ids, index, x, y, width: Math.max(0, rankX - rankSep), height, method: 'layered' };
}

/** Rows per column so that a big layered layout is about `aspect` (width / height) of the view:
 * tall ranks wrap into columns. Linear in ids (no spread of one argument per rank). */
export function rowsForAspect(graph, ids, aspect, { rankSep, nodeSep, subColumnSep }) {
  const sizes = new Map();
  for (const id of ids) sizes.set(graph.depth[id], (sizes.get(graph.depth[id]) || 0) + 1);
  const ranks = Array.from(sizes.values());
  let tallest = 1;
  for (const size of ranks) if (size > tallest) tallest = size;
  const ratio = (rows) => {
    let columns = 0;
    for (const size of ranks) columns += Math.ceil(size / rows);
    const width = (columns - ranks.length) * subColumnSep + ranks.length * rankSep;
    return width / (Math.min(rows, tallest) * nodeSep);
  };
  let lo = 1;
  let hi = tallest;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ratio(mid) > aspect) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
