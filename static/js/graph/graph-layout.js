// Where each node goes. Leaves on the left, outputs on the right (data flows right in the
// forward pass, gradients flow left in back-prop).
//
// - layeredLayout (layered-layout.js): ranks are the engine's depths, so positions come in linear
//   time. Used for networks, for anything big, and as the fallback; for big graphs it runs in the
//   web worker (layeredLayoutOff), so the main thread stays free to animate and to take input.
// - dagre, in the same worker (layout-worker.js), for arbitrary graphs up to DAGRE_CAP nodes; if
//   it has not answered within TIMEOUT_MS it is terminated, so the page never freezes.
import { layeredLayout, rowsForAspect } from './layered-layout.js';

export { layeredLayout, rowsForAspect };

export const DAGRE_CAP = 600;
export const FIRST_PAINT_WAIT_MS = 350;
export const TIMEOUT_MS = 4000;
/** A layered layout this big is computed in the worker (every graph the canvas draws). */
export const LAYERED_OFF_THREAD = DAGRE_CAP + 1;
/** How long the worker may take over a layered layout before the main thread does it instead. */
export const LAYERED_TIMEOUT_MS = 60000;

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
    else job.resolve({ x, y, width, height }); // Float64Arrays, transferred
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

/** One request to the worker: resolves with {x, y, width, height}; rejects after timeoutMs
 * (and restarts the worker, so a stuck layout never holds the next one). */
function ask(message, transfer, timeoutMs) {
  return new Promise((resolve, reject) => {
    const id = nextRequest++;
    const timer = setTimeout(() => {
      pending.delete(id);
      failAll(new Error('layout timed out'));
      reject(new Error('layout timed out'));
    }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    try {
      getWorker().postMessage({ ...message, id }, transfer);
    } catch (error) {
      clearTimeout(timer);
      pending.delete(id);
      reject(error);
    }
  });
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
  return ask({ kind: 'dagre', n: ids.length, edges, nodeWidth, nodeHeight, rankSep, nodeSep }, [], timeoutMs)
    .then((r) => ({ ...r, ids, index, method: 'dagre', where: 'worker' }));
}

/**
 * layeredLayout(graph, ids, options), in the worker when ids are many (the main thread only
 * copies three typed arrays out and builds the id → position index back). With `aspect` (the
 * view's width / height), options.maxRows is chosen there to fit it (rowsForAspect).
 * Without a worker, or if it fails, the same layout on the main thread.
 */
export function layeredLayoutOff(graph, ids, options = {}, { aspect = null } = {}) {
  const here = () => {
    const maxRows = aspect == null ? options.maxRows : rowsForAspect(graph, ids, aspect, options);
    return { ...layeredLayout(graph, ids, { ...options, maxRows }), where: 'main' };
  };
  if (ids.length < LAYERED_OFF_THREAD || typeof Worker === 'undefined') return Promise.resolve(here());
  const idList = Int32Array.from(ids);
  const message = {
    kind: 'layered', ids: idList, depth: graph.depth, childStart: graph.childStart,
    edgeChild: graph.edgeChild, options, aspect,
  };
  return ask(message, [idList.buffer], LAYERED_TIMEOUT_MS).then(
    (r) => ({ ...r, ids, index: new IdIndex(ids, graph.n), method: 'layered', where: 'worker' }), here);
}

/** Wire id → its index in a layout's `ids`, with a Map's get and has: a Map of 100,000 ids
 * took 8–15 ms of the task that shows the graph, this one array ~1 ms. */
export class IdIndex {
  constructor(ids, n) {
    this.at = new Int32Array(n).fill(-1);
    for (let k = 0; k < ids.length; k++) this.at[ids[k]] = k;
  }

  get(id) {
    const k = this.at[id]; // undefined for an id out of range (or not an integer)
    return k >= 0 ? k : undefined;
  }

  has(id) {
    return this.get(id) !== undefined;
  }
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
