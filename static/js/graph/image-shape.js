// Which blocks are images: a block's pixel nodes named Block[i,j] (a Conv) or Block[k] with
// k = i·W + j (an image, a ReLU, an Add), and the order their pixels lie in.

/** The block's pixels as an image, or null when its nodes are not one: {rows, cols, pixels}
 * with pixels[r·cols + c] the node id. */
export function imageShape(graph, ids, block) {
  if (!block) return null;
  const at = new Map();
  let rows = 0;
  let cols = 0;
  let flat = false;
  const pattern = new RegExp(`^${block.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\[(\\d+)(?:,(\\d+))?\\]$`);
  for (const id of ids) {
    const m = graph.name[id] && pattern.exec(graph.name[id]);
    if (!m) continue;
    if (m[2] === undefined) flat = true;
    const key = m[2] === undefined ? m[1] : `${m[1]},${m[2]}`;
    at.set(key, id);
    if (m[2] !== undefined) {
      rows = Math.max(rows, Number(m[1]) + 1);
      cols = Math.max(cols, Number(m[2]) + 1);
    }
  }
  if (flat) {
    const side = Math.round(Math.sqrt(at.size));
    if (side < 2 || side * side !== at.size) return null;
    rows = cols = side;
  }
  if (rows < 2 || cols < 2 || rows * cols !== at.size) return null;
  const pixels = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const id = at.get(flat ? String(r * cols + c) : `${r},${c}`);
      if (id === undefined) return null;
      pixels[r * cols + c] = id;
    }
  }
  return { method: 'image', rows, cols, pixels, ids: Array.from(pixels) };
}
