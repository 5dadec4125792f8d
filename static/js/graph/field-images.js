// Which pixels of the network's image-shaped blocks feed one node: its receptive field as
// pictures. The whole ancestry is walked (the scalar field view stops at a few hundred nodes;
// a Conv2 pixel alone has more), then each image-shaped block keeps the pixels in it.
import { receptiveField } from './graph-model.js';
import { imageShape } from './image-shape.js';

/** The graph's image-shaped blocks (declared or not: the image's nodes have no group), in the
 * blocks' order: [{block, rows, cols, pixels}]. */
export function imageBlocks(graph, groups) {
  const members = groups.names.map(() => []);
  for (let i = 0; i < graph.n; i++) members[groups.of[i]].push(i);
  const found = [];
  groups.names.forEach((block, b) => {
    const shape = imageShape(graph, members[b], block);
    if (shape) found.push({ block, rows: shape.rows, cols: shape.cols, pixels: shape.pixels });
  });
  return found;
}

/** The image blocks `root` depends on, each with `inField[k]` = 1 for pixel k in the field
 * (root's own pixel included); blocks it does not reach are left out. */
export function fieldOnImages(graph, images, root) {
  const field = new Set(receptiveField(graph, root, Infinity));
  const spanned = [];
  for (const image of images) {
    const inField = Uint8Array.from(image.pixels, (id) => (field.has(id) ? 1 : 0));
    const count = inField.reduce((a, b) => a + b, 0);
    if (count) spanned.push({ ...image, inField, count });
  }
  return spanned;
}

/** The field's border on one grid of `cell` px squares (an SVG path): each side of an in-field pixel whose neighbour is outside. */
export function fieldOutline({ rows, cols, inField }, cell) {
  const inside = (r, c) => r >= 0 && c >= 0 && r < rows && c < cols && inField[r * cols + c] === 1;
  const d = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!inside(r, c)) continue;
      const x = c * cell - 0.5;
      const y = r * cell - 0.5;
      if (!inside(r - 1, c)) d.push(`M${x},${y}h${cell}`);
      if (!inside(r + 1, c)) d.push(`M${x},${y + cell}h${cell}`);
      if (!inside(r, c - 1)) d.push(`M${x},${y}v${cell}`);
      if (!inside(r, c + 1)) d.push(`M${x + cell},${y}v${cell}`);
    }
  }
  return d.join('');
}
