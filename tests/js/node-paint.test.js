// node --test tests/js/ — the canvas view's nodes painted a step a task (canvas-paint.js
// NodePainter, issue 18): the image is each node's square in its colour, the nodes changed while
// the steps went on are handed back to be painted again, and a newer paint supersedes an older.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { NODES_PER_STEP, NodePainter } from '../../static/js/graph/canvas-paint.js';

globalThis.ImageData ??= class {
  constructor(width, height) { this.width = width; this.height = height; this.data = new Uint8ClampedArray(4 * width * height); }
};

const W = 250;
const H = 100; // one pixel a node: W × H nodes, more than a step holds
const PALETTE = ['rgb(255, 0, 0)', 'rgb(0, 0, 255)', 'rgb(0, 128, 0)'];
const RGB = [[255, 0, 0], [0, 0, 255], [0, 128, 0]];

function canvas() {
  const images = [];
  return { width: W, height: H, images, getContext: () => ({ putImageData: (image) => images.push(image) }) };
}

// Node k's square is exactly pixel (k mod W, k div W): size 1, centred on the pixel's centre.
function what(bucket) {
  const n = W * H;
  const x = Float64Array.from({ length: n }, (_, k) => (k % W) + 0.5);
  const y = Float64Array.from({ length: n }, (_, k) => Math.floor(k / W) + 0.5);
  return { layout: { x, y }, transform: { x: 0, y: 0, k: 1 }, size: 1, bucket, palette: PALETTE };
}

const pixel = (image, k) => Array.from(image.data.subarray(4 * k, 4 * k + 4));

test('a paint in steps puts every node in its colour, once, and hands back those changed meanwhile', async () => {
  assert.ok(W * H > 2 * NODES_PER_STEP); // it does take steps
  const bucket = Uint8Array.from({ length: W * H }, (_, k) => k % 2);
  const target = canvas();
  const done = new Promise((resolve) => {
    const painter = new NodePainter(resolve);
    painter.paint(target, W, what(bucket));
    assert.equal(target.images.length, 0); // nothing yet: it goes on in later tasks
    bucket[7] = 2;
    painter.note([7]);
  });
  assert.deepEqual(await done, [7]);
  assert.equal(target.images.length, 1);
  const [image] = target.images;
  for (let k = 0; k < W * H; k++) {
    if (k === 7) continue; // painted again by the view (either colour here)
    assert.deepEqual(pixel(image, k), [...RGB[bucket[k]], 255], `node ${k}`);
  }
});

test('a newer paint supersedes the steps still to come of an older one', async () => {
  const target = canvas();
  const calls = [];
  let painter;
  const done = new Promise((resolve) => {
    painter = new NodePainter((changed) => { calls.push(changed); resolve(); });
  });
  painter.paint(target, W, what(new Uint8Array(W * H).fill(0)));
  painter.paint(target, W, what(new Uint8Array(W * H).fill(2)));
  await done;
  assert.equal(calls.length, 1);
  assert.equal(target.images.length, 1);
  for (const k of [0, 1234, W * H - 1]) assert.deepEqual(pixel(target.images[0], k), [...RGB[2], 255]);
});
