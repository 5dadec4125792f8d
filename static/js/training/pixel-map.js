// One size×size map — a digit, a feature map or the loss's gradient on it — painted on a canvas,
// one canvas pixel per map pixel (CSS scales it up, pixelated). Digits are ink on paper (grey
// scale); activations and gradients use the diverging scale, blue below 0, red above, so the
// sign reads at a glance. The canvas keeps its numbers (`mapValues`) for the hover readout and
// the tests.
import * as d3 from 'd3';
import { gradientColor } from '../shared/colors.js';

const INK = d3.scaleLinear().range(['#ffffff', '#111111']).clamp(true);

/** The largest |v| of `values` (1 when all are 0), the half-width of a diverging scale. */
export function maxAbs(values) {
  let m = 0;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

/** The colour for each value: 'ink' (grey, lo..hi), 'diverging' (linear, ±max) or 'gradient'
 * (the graph's symlog gradient scale, ±max). */
export function mapScale(kind, values, lo = d3.min(values), hi = d3.max(values)) {
  if (kind === 'ink') return INK.copy().domain([lo, hi > lo ? hi : lo + 1]);
  const m = maxAbs(values);
  if (kind === 'gradient') return gradientColor(m);
  return d3.scaleDiverging((t) => d3.interpolateRdBu(1 - t)).domain([-m, 0, m]).clamp(true);
}

/** A canvas (role img, named `label`) showing `values` (size² numbers, row by row). */
export function pixelMap(values, size, { kind = 'diverging', label = '', lo, hi, scale = 3 } = {}) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  canvas.className = 'pixel-map';
  canvas.style.width = `${size * scale}px`;
  canvas.style.height = `${size * scale}px`;
  canvas.setAttribute('role', 'img');
  if (label) canvas.setAttribute('aria-label', label);
  paint(canvas, values, size, mapScale(kind, values, lo, hi));
  return canvas;
}

export function paint(canvas, values, size, color) {
  const context = canvas.getContext('2d');
  const image = context.createImageData(size, size);
  for (let k = 0; k < size * size; k++) {
    const c = d3.rgb(color(values[k]));
    image.data.set([c.r, c.g, c.b, 255], 4 * k);
  }
  context.putImageData(image, 0, 0);
  canvas.mapValues = values;
}
