// One size×size map — a digit, a feature map or the loss's gradient on it — painted on a canvas,
// one canvas pixel per map pixel (CSS scales it up, pixelated). Digits are ink on paper (grey
// scale); activations and gradients use the diverging scale, blue below 0, red above, so the
// sign reads at a glance. The canvas keeps its numbers (`mapValues`) for the hover readout and
// the tests.
import * as d3 from 'd3';

const INK = d3.scaleLinear().range(['#ffffff', '#111111']).clamp(true);

/** The largest |v| of `values` (1 when all are 0), the half-width of a diverging scale. */
export function maxAbs(values) {
  let m = 0;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

/** The colour for each value: 'ink' (grey, lo..hi) or 'diverging' (linear, ±max of the values
 * or of [lo, hi]). Both are linear, so paint() can read them from a table. */
export function mapScale(kind, values, lo = d3.min(values), hi = d3.max(values)) {
  if (kind === 'ink') return INK.copy().domain([lo, hi > lo ? hi : lo + 1]);
  const m = Math.max(maxAbs(values), Math.abs(lo), Math.abs(hi)) || 1;
  return d3.scaleDiverging((t) => d3.interpolateRdBu(1 - t)).domain([-m, 0, m]).clamp(true);
}

const STEPS = 256; // colours in a scale's table: finer than the eye tells apart
const tables = new WeakMap(); // scale → its colour table

/** `color`'s colours at STEPS points across its (linear) domain, as RGBA bytes. */
function table(color) {
  if (tables.has(color)) return tables.get(color);
  const domain = color.domain();
  const lo = domain[0];
  const hi = domain[domain.length - 1];
  const bytes = new Uint8ClampedArray(4 * (STEPS + 1));
  for (let k = 0; k <= STEPS; k++) {
    const c = d3.rgb(color(lo + ((hi - lo) * k) / STEPS));
    bytes.set([c.r, c.g, c.b, 255], 4 * k);
  }
  const made = { lo, span: hi - lo || 1, bytes };
  tables.set(color, made);
  return made;
}

/** A canvas (role img, named `label`) showing `values` (size² numbers, row by row). */
export function pixelMap(values, size, { kind = 'diverging', label = '', lo, hi, scale = 3 } = {}) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  canvas.className = 'pixel-map';
  canvas.style.width = `${size * scale}px`;
  canvas.style.height = `${size * scale}px`;
  // Named, it is an image; unnamed, it is drawn inside something that says what it shows.
  if (label) {
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
  } else canvas.setAttribute('aria-hidden', 'true');
  paint(canvas, values, size, mapScale(kind, values, lo, hi));
  return canvas;
}

/** Paint `values` (`height` rows of `size`) with the linear scale `color` (through its colour table: a map is drawn on
 * every click, and parsing 256 colour strings per map was most of the time). */
export function paint(canvas, values, size, color, height = size) {
  const context = canvas.getContext('2d');
  const image = context.createImageData(size, height);
  const { lo, span, bytes } = table(color);
  for (let k = 0; k < size * height; k++) {
    const at = Math.round(((values[k] - lo) / span) * STEPS);
    const i = 4 * (Number.isFinite(at) ? Math.min(STEPS, Math.max(0, at)) : 0);
    image.data.set(bytes.subarray(i, i + 4), 4 * k);
  }
  context.putImageData(image, 0, 0);
  canvas.mapValues = values;
}
