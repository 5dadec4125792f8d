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

/** Paint `values` (a resolution² grid, row 0 at the top) into `context` over w × h pixels. */
export function paintMap(context, values, resolution, width, height, discrete = false) {
  const image = context.createImageData(resolution, resolution);
  for (let k = 0; k < resolution * resolution; k += 1) {
    const v = discrete ? Math.sign(values[k]) : values[k];
    const [r, g, b] = rgbOf(v);
    image.data.set([r, g, b, 255], k * 4);
  }
  const tile = document.createElement('canvas');
  tile.width = tile.height = resolution;
  tile.getContext('2d').putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(tile, 0, 0, width, height);
}
