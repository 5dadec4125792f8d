// Where a view puts its drawing when it fits it: as large as fits, but — for a graph small
// enough to have its labels drawn — never so small that they cannot be read. Such a graph then
// overflows the view, starting from where the story starts (its left edge: the inputs; its top
// for blocks, whose data flows down), and the person pans to the rest. Pure: no DOM.

/** Scalar graphs up to this many nodes keep readable labels when fitted (the SVG view also
 * writes edge values up to here). */
export const READABLE_NODES = 60;

/**
 * {k, x, y} of a zoom transform (screen = k·layout + (x, y)) that shows `bounds`
 * ({x0, y0, x1, y1}, layout units) in a `width` × `height` view with `pad` pixels around.
 * `maxScale` caps the zoom; `minScale` is the smallest allowed (labels stay readable).
 */
export function fitTransform({ width, height, bounds, pad = 16, maxScale = 1.6, minScale = 0 }) {
  const w = Math.max(1, bounds.x1 - bounds.x0);
  const h = Math.max(1, bounds.y1 - bounds.y0);
  const fits = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
  const k = Math.max(Math.min(maxScale, fits), Math.min(minScale, maxScale));
  const place = (size, lo, extent) => (k * extent <= size - 2 * pad
    ? size / 2 - k * (lo + extent / 2) // centred
    : pad - k * lo); // from its start
  return { k, x: place(width, bounds.x0, w), y: place(height, bounds.y0, h) };
}
