// Layouts off the main thread. Two requests, each answered {id, x, y, width, height} (x and y
// Float64Arrays, transferred) or {id, error}:
// - {kind: 'dagre', n, edges: [[from, to]], nodeWidth, nodeHeight, rankSep, nodeSep}
// - {kind: 'layered', ids, depth, childStart, edgeChild, options, aspect}: layered-layout.js.
import dagre from '@dagrejs/dagre';
import { layeredLayout, rowsForAspect } from './layered-layout.js';

function dagreLayout({ n, edges, nodeWidth, nodeHeight, rankSep, nodeSep }) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', ranksep: rankSep, nodesep: nodeSep, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (let k = 0; k < n; k++) g.setNode(String(k), { width: nodeWidth, height: nodeHeight });
  edges.forEach(([a, b], e) => g.setEdge(String(a), String(b), {}, `e${e}`));
  dagre.layout(g);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const node = g.node(String(k));
    x[k] = node.x;
    y[k] = node.y;
  }
  const graph = g.graph();
  return { x, y, width: graph.width, height: graph.height };
}

function layered({ ids, depth, childStart, edgeChild, options, aspect }) {
  const graph = { depth, childStart, edgeChild };
  const maxRows = aspect == null ? options.maxRows : rowsForAspect(graph, ids, aspect, options);
  const { x, y, width, height } = layeredLayout(graph, ids, { ...options, maxRows });
  return { x, y, width, height };
}

self.onmessage = (event) => {
  const { id, kind } = event.data;
  try {
    const r = kind === 'layered' ? layered(event.data) : dagreLayout(event.data);
    self.postMessage({ id, ...r }, [r.x.buffer, r.y.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error && error.message || error) });
  }
};
