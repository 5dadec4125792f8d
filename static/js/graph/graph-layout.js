// Where each node goes. Leaves on the left, outputs on the right (data flows right in the
// forward pass, gradients flow left in back-prop).
//
// - layeredLayout: ranks are the engine's depths, so positions come in linear time; order within
//   a rank by a few barycentre sweeps. Used for networks, for anything big, and as the fallback.
// - dagre, in a web worker (layout-worker.js), for arbitrary graphs up to DAGRE_CAP nodes; if it
//   has not answered within TIMEOUT_MS it is terminated, so the page never freezes.

export const DAGRE_CAP = 600;
export const FIRST_PAINT_WAIT_MS = 350;
export const TIMEOUT_MS = 4000;

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

let worker = null;
let workerUrl = null; // null: layout-worker.js beside this bundle
let nextRequest = 1;
const pending = new Map();

/** Where the layout worker is, for a host whose bundle has no folder (a blob: URL). */
export function setLayoutWorkerUrl(url) {
  workerUrl = url;
}

function getWorker() {
  if (worker) return worker;
  worker = new Worker(workerUrl ?? new URL('./layout-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    const { id, x, y, width, height, error } = event.data;
    const job = pending.get(id);
    if (!job) return;
    pending.delete(id);
    clearTimeout(job.timer);
    if (error) job.reject(new Error(error));
    else job.resolve({ x: Float64Array.from(x), y: Float64Array.from(y), width, height });
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`layout worker: ${event.message}`));
  };
  return worker;
}

function failAll(error) {
  for (const job of pending.values()) {
    clearTimeout(job.timer);
    job.reject(error);
  }
  pending.clear();
  if (worker) worker.terminate();
  worker = null;
}

/** dagre in the worker; rejects after TIMEOUT_MS (and restarts the worker). */
export function dagreLayout(graph, ids, { nodeWidth = 64, nodeHeight = 40, rankSep = 70,
  nodeSep = 18, timeoutMs = TIMEOUT_MS } = {}) {
  const index = new Map(ids.map((id, k) => [id, k]));
  const edges = [];
  for (const p of ids) {
    for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) {
      const c = index.get(graph.edgeChild[e]);
      if (c !== undefined) edges.push([c, index.get(p)]);
    }
  }
  return new Promise((resolve, reject) => {
    const id = nextRequest++;
    const timer = setTimeout(() => {
      pending.delete(id);
      failAll(new Error('layout timed out'));
      reject(new Error('layout timed out'));
    }, timeoutMs);
    pending.set(id, { resolve: (r) => resolve({ ...r, ids, index, method: 'dagre' }), reject, timer });
    try {
      getWorker().postMessage({ id, n: ids.length, edges, nodeWidth, nodeHeight, rankSep, nodeSep });
    } catch (error) {
      clearTimeout(timer);
      pending.delete(id);
      reject(error);
    }
  });
}

/**
 * The layout for a scalar view of `ids`: dagre when small enough and quick, else layered.
 * Resolves within FIRST_PAINT_WAIT_MS; if dagre finishes later, `onImproved(layout)` gets it.
 */
export function layoutNodes(graph, ids, { onImproved = null, layered = {}, dagre = {} } = {}) {
  const fallback = () => layeredLayout(graph, ids, layered);
  if (ids.length > DAGRE_CAP || typeof Worker === 'undefined') return Promise.resolve(fallback());
  const job = dagreLayout(graph, ids, dagre);
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      resolve(fallback());
      job.then((layout) => onImproved && onImproved(layout), () => {});
    }, FIRST_PAINT_WAIT_MS);
    job.then((layout) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(layout);
    }, () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(fallback());
    });
  });
}
