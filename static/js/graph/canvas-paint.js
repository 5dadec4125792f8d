// Drawing a big graph onto the canvas view's layers (graph-view-canvas.js) cheaply enough for
// 100,000 nodes: the nodes as the pixels of one image, the edges a slice at a time.
import * as d3 from 'd3';
import { nextTask, sliceTimer } from '../shared/yield.js';

/**
 * Every node's square onto `canvas` (whose CSS width is `cssWidth`), as the pixels of one image:
 * 100,000 fillRect calls took 60 ms of a frame. Each square covers the device pixels it overlaps
 * by the fraction it covers them, as the canvas's antialiasing does (whole-pixel squares showed
 * moiré when a pixel holds more than one node). The squares never overlap, so coverage adds up
 * to at most about one per pixel. `scratch`: the buffer the last call returned, reused.
 *
 * A generator: it yields every NODES_PER_STEP nodes and PIXELS_PER_STEP pixels (at 100,000
 * nodes the whole took 25–50 ms, its memory accesses scattered over a 4-float-per-pixel buffer,
 * then 6–10 ms turning that into colours), puts the image on the canvas
 * at its end and returns the buffer (NodePainter below runs it).
 */
export function* nodePainting(canvas, cssWidth, { layout, transform, size, bucket, palette }, scratch) {
  const w = canvas.width;
  const h = canvas.height;
  const acc = scratch && scratch.length === 4 * w * h ? scratch : new Float32Array(4 * w * h);
  acc.fill(0); // per pixel: red, green, blue (each times coverage), coverage
  yield; // (19 MB at 1400×860: a step of its own)
  const squares = { w, h, colours: palette.map((css) => d3.rgb(css)), ratio: w / Math.max(1, cssWidth),
    x: layout.x, y: layout.y, t: transform, size, bucket };
  for (let from = 0; from < bucket.length; from += NODES_PER_STEP) {
    if (from > 0) yield;
    addSquares(acc, squares, from, Math.min(bucket.length, from + NODES_PER_STEP));
  }
  const image = new ImageData(w, h);
  const band = 4 * w * Math.max(1, Math.floor(PIXELS_PER_STEP / w)); // whole rows a step
  for (let from = 0; from < acc.length; from += band) {
    yield;
    toColours(acc, image.data, from, Math.min(acc.length, from + band));
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
  return acc;
}

// nodePainting's steps: the squares of nodes `from` … `to` − 1 into `acc`, and pixels into colours.
function addSquares(acc, { w, h, colours, ratio, x, y, t, size, bucket }, from, to) {
  const half = size / 2;
  for (let k = from; k < to; k++) {
    const left = (t.x + t.k * x[k] - half) * ratio;
    const top = (t.y + t.k * y[k] - half) * ratio;
    const right = left + size * ratio;
    const bottom = top + size * ratio;
    if (right <= 0 || bottom <= 0 || left >= w || top >= h) continue;
    const c = colours[bucket[k]];
    const y1 = Math.min(h, Math.ceil(bottom));
    const x1 = Math.min(w, Math.ceil(right));
    for (let py = Math.max(0, Math.floor(top)); py < y1; py++) {
      const cy = Math.min(py + 1, bottom) - Math.max(py, top);
      for (let px = Math.max(0, Math.floor(left)); px < x1; px++) {
        const cover = cy * (Math.min(px + 1, right) - Math.max(px, left));
        const i = 4 * (py * w + px);
        acc[i] += cover * c.r;
        acc[i + 1] += cover * c.g;
        acc[i + 2] += cover * c.b;
        acc[i + 3] += cover;
      }
    }
  }
}

function toColours(acc, out, from, to) {
  for (let i = from; i < to; i += 4) {
    const a = acc[i + 3];
    if (a <= 0) continue;
    out[i] = acc[i] / a;
    out[i + 1] = acc[i + 1] / a;
    out[i + 2] = acc[i + 2] / a;
    out[i + 3] = Math.min(1, a) * 255 + 0.5;
  }
}

// Nodes a step of nodePainting goes through, and pixels it turns into colours: a few
// milliseconds of a task each (20,000 nodes were up to 20 ms on a loaded machine).
export const NODES_PER_STEP = 10000;
const PIXELS_PER_STEP = 250000;

/**
 * The nodes canvas's full repaints: at once for a few nodes, else nodePainting's steps, as many
 * a task as fit a slice of the event loop (a newer paint supersedes the steps still to come of
 * an older one). A paint in steps reads
 * each node's colour when its step comes, so the nodes changed meanwhile (`note`) are handed
 * to `onDone(changed)` to be painted over once its image is on the canvas.
 */
export class NodePainter {
  constructor(onDone) {
    this.onDone = onDone;
    this.draws = 0; // paints begun
    this.pending = false;
    this.scratch = null; // nodePainting's buffer, kept between paints
    this.meanwhile = [];
    this.shown = null; // the transform and canvas size of the image on the canvas
  }

  paint(canvas, cssWidth, what) {
    const draw = ++this.draws;
    const painting = nodePainting(canvas, cssWidth, what, this.scratch);
    this.meanwhile = [];
    this.pending = true;
    const inSteps = what.bucket.length > NODES_PER_STEP;
    if (inSteps) this._reproject(canvas, cssWidth, what.transform);
    const step = () => {
      if (draw !== this.draws) return;
      const timer = sliceTimer(); // as many steps a task as fit a slice of the event loop
      let next = painting.next();
      while (!next.done && (!inSteps || !timer.due())) next = painting.next();
      if (!next.done) {
        nextTask().then(step);
        return;
      }
      this.scratch = next.value;
      this.pending = false;
      this.shown = { transform: what.transform, width: canvas.width, height: canvas.height };
      const changed = this.meanwhile;
      this.meanwhile = [];
      this.onDone(changed);
    };
    // In steps, from the next task on: not in the animation frame that asked (its own drawing
    // is enough for one task).
    if (inSteps) nextTask().then(step);
    else step();
  }

  /** Until a paint in steps is done (a zoom's, say), the image already there is shown at the
   * new transform, scaled: never the nodes where they were before the zoom. */
  _reproject(canvas, cssWidth, to) {
    const from = this.shown && this.shown.transform;
    if (!from || (from.k === to.k && from.x === to.x && from.y === to.y)) return;
    if (this.shown.width !== canvas.width || this.shown.height !== canvas.height) return; // cleared
    const copy = this.copy || (this.copy = document.createElement('canvas'));
    copy.width = canvas.width;
    copy.height = canvas.height;
    copy.getContext('2d').drawImage(canvas, 0, 0);
    const ratio = canvas.width / Math.max(1, cssWidth);
    const k = to.k / from.k; // a node at screen x₀ under `from` is at to.x + k (x₀ − from.x)
    const ctx = canvas.getContext('2d');
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(k, 0, 0, k, ratio * (to.x - k * from.x), ratio * (to.y - k * from.y));
    ctx.drawImage(copy, 0, 0);
    ctx.restore();
    this.shown = { ...this.shown, transform: to };
  }

  /** Nodes (layout indexes) painted over since the paint began: painted again after it. */
  note(changed) {
    if (this.pending) for (const k of changed) this.meanwhile.push(k);
  }

  /** No paint in steps goes on (the canvas was cleared). */
  cancel() {
    this.draws++;
    this.pending = false;
    this.meanwhile = [];
    this.shown = null;
  }
}

/** Edges `from` … `to` − 1 of `ends` (pairs of layout indexes: child, parent) as one path. */
export function strokeEdges(ctx, { x, y }, ends, t, from, to, alpha) {
  ctx.save();
  ctx.translate(t.x, t.y);
  ctx.scale(t.k, t.k);
  ctx.lineWidth = 0.8 / t.k;
  ctx.strokeStyle = `rgba(110,120,135,${alpha.toFixed(3)})`;
  ctx.beginPath();
  for (let j = 2 * from; j < 2 * to; j += 2) {
    ctx.moveTo(x[ends[j]], y[ends[j]]);
    ctx.lineTo(x[ends[j + 1]], y[ends[j + 1]]);
  }
  ctx.stroke();
  ctx.restore();
}
