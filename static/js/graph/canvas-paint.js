// Drawing a big graph onto the canvas view's layers (graph-view-canvas.js) cheaply enough for
// 100,000 nodes: the nodes as the pixels of one image, the edges a slice at a time.
import * as d3 from 'd3';

/**
 * Every node's square onto `canvas` (whose CSS width is `cssWidth`), as the pixels of one image:
 * 100,000 fillRect calls took 60 ms of a frame. Each square covers the device pixels it overlaps
 * by the fraction it covers them, as the canvas's antialiasing does (whole-pixel squares showed
 * moiré when a pixel holds more than one node). The squares never overlap, so coverage adds up
 * to at most about one per pixel. `scratch`: the buffer the last call returned, reused.
 */
export function paintNodes(canvas, cssWidth, { layout, transform: t, size, bucket, palette }, scratch) {
  const w = canvas.width;
  const h = canvas.height;
  const acc = scratch && scratch.length === 4 * w * h ? scratch : new Float32Array(4 * w * h);
  acc.fill(0); // per pixel: red, green, blue (each times coverage), coverage
  const colours = palette.map((css) => d3.rgb(css));
  const ratio = w / Math.max(1, cssWidth);
  const { x, y } = layout;
  const half = size / 2;
  for (let k = 0; k < bucket.length; k++) {
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
  const image = new ImageData(w, h);
  const out = image.data;
  for (let i = 0; i < acc.length; i += 4) {
    const a = acc[i + 3];
    if (a <= 0) continue;
    out[i] = acc[i] / a;
    out[i + 1] = acc[i + 1] / a;
    out[i + 2] = acc[i + 2] / a;
    out[i + 3] = Math.min(1, a) * 255 + 0.5;
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
  return acc;
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
