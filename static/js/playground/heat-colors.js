// Playground's diverging colours: orange for −1, blue for +1, near-white at 0 — the same for the
// boundary, the neuron maps and the weights, so a learner reads one legend everywhere.
import * as d3 from 'd3';

const NEGATIVE = '#e8710a';
const POSITIVE = '#0b6fb8';
const scale = d3.scaleLinear().domain([-1, 0, 1]).range([NEGATIVE, '#f4f4f2', POSITIVE])
  .interpolate(d3.interpolateRgb).clamp(true);

export const CLASS_COLORS = { positive: POSITIVE, negative: NEGATIVE };

/** [r, g, b] of `value` in [-1, 1] (clamped). */
export function rgbOf(value) {
  const c = d3.rgb(scale(value));
  return [c.r, c.g, c.b];
}

export function colorOf(value) {
  return scale(value);
}

// The scale sampled once into a table (LEVELS steps over [-1, 1]): a frame paints seven maps
// of 64² values, and going through d3's colour strings per value cost most of a frame.
const LEVELS = 512;
const TABLE = new Uint8ClampedArray(LEVELS * 4);
for (let i = 0; i < LEVELS; i += 1) {
  const c = d3.rgb(scale(-1 + (2 * i) / (LEVELS - 1)));
  TABLE.set([c.r, c.g, c.b, 255], i * 4);
}

/** Paint `values` (a resolution² grid, row 0 at the top) into `context` over w × h pixels. */
export function paintMap(context, values, resolution, width, height, discrete = false) {
  const image = context.createImageData(resolution, resolution);
  const pixels = image.data;
  for (let k = 0; k < resolution * resolution; k += 1) {
    const v = discrete ? Math.sign(values[k]) : values[k];
    const level = Math.round(((Math.min(1, Math.max(-1, v || 0)) + 1) / 2) * (LEVELS - 1));
    pixels.set(TABLE.subarray(level * 4, level * 4 + 4), k * 4);
  }
  const tile = document.createElement('canvas');
  tile.width = tile.height = resolution;
  tile.getContext('2d').putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(tile, 0, 0, width, height);
}
