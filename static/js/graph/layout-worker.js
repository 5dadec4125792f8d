// dagre off the main thread: {id, n, edges: [[from, to]], sizes} → {id, x, y, width, height}.
import dagre from '@dagrejs/dagre';

self.onmessage = (event) => {
  const { id, n, edges, nodeWidth, nodeHeight, rankSep, nodeSep } = event.data;
  try {
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
    self.postMessage({ id, x, y, width: graph.width, height: graph.height }, [x.buffer, y.buffer]);
  } catch (error) {
    self.postMessage({ id, error: String(error && error.message || error) });
  }
};
