// The pictures' pure parts: which test digits the strip shows, which blocks are images
// (and in what order their pixels lie), which of their pixels feed a node. Independent oracles:
// the rules written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripDigits } from '../../static/js/training/digit-strip.js';
import { imageShape } from '../../static/js/graph/image-grid-view.js';

test('the strip shows the first two test digits of each class, in class order', () => {
  const labels = Uint8Array.from([3, 0, 1, 0, 2, 1, 0, 3, 2, 9, 9, 9, 4, 4, 5, 6, 7, 8, 5, 6, 7, 8]);
  assert.deepEqual(stripDigits(labels), [1, 3, 2, 5, 4, 8, 0, 7, 12, 13, 14, 18, 15, 19, 16, 20, 17, 21, 9, 10]);
  assert.deepEqual(stripDigits(Uint8Array.from([1, 1, 1])), [0, 1]); // a class with none is left out
});

function graphOf(names) {
  return { name: names, op: names.map(() => 'add') };
}

test('a Conv block named Block[i,j] is its image, row by row', () => {
  const names = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) names.push(`Conv1[${i},${j}]`);
  names.reverse().push(null, 'other'); // nodes come in any order, with unnamed ones among them
  const shape = imageShape(graphOf(names), names.map((_, k) => k), 'Conv1');
  assert.equal(shape.rows, 3);
  assert.equal(shape.cols, 4);
  assert.deepEqual(Array.from(shape.pixels, (id) => names[id]),
    Array.from({ length: 12 }, (_, k) => `Conv1[${Math.floor(k / 4)},${k % 4}]`));
});

test('a flat block Block[k] is an image when k runs over a square', () => {
  const names = Array.from({ length: 16 }, (_, k) => `ReLU1[${k}]`);
  const shape = imageShape(graphOf(names), names.map((_, k) => k), 'ReLU1');
  assert.deepEqual([shape.rows, shape.cols], [4, 4]);
  assert.deepEqual(Array.from(shape.pixels), names.map((_, k) => k));
});

test('blocks that are not images stay scalar nodes', () => {
  const fc = Array.from({ length: 10 }, (_, k) => `FC4[${k}]`); // 10 is not a square
  assert.equal(imageShape(graphOf(fc), fc.map((_, k) => k), 'FC4'), null);
  const gap = Array.from({ length: 16 }, (_, k) => `Add2[${k === 5 ? 16 : k}]`); // a pixel missing
  assert.equal(imageShape(graphOf(gap), gap.map((_, k) => k), 'Add2'), null);
  const other = Array.from({ length: 16 }, (_, k) => `Add2x[${k}]`); // another block's names
  assert.equal(imageShape(graphOf(other), other.map((_, k) => k), 'Add2'), null);
  assert.equal(imageShape(graphOf(fc), [], null), null);
});

test('a node\'s receptive field on the image blocks it spans: the pixels it depends on', async () => {
  const { fieldOnImages, imageBlocks } = await import('../../static/js/graph/field-images.js');
  // 2×2 image image[0..3]; B[k] = image[k] + image[(k + 1) mod 4]; C[0] = B[0] · B[3] (not an image)
  const name = ['image[0]', 'image[1]', 'image[2]', 'image[3]', 'B[0]', 'B[1]', 'B[2]', 'B[3]', 'C[0]'];
  const children = [[], [], [], [], [0, 1], [1, 2], [2, 3], [3, 0], [4, 7]];
  const childStart = [0];
  for (const c of children) childStart.push(childStart.at(-1) + c.length);
  const graph = { n: name.length, name, op: name.map((_, k) => (k < 4 ? 'const' : 'add')),
    childStart: Int32Array.from(childStart), edgeChild: Int32Array.from(children.flat()),
    groups: [{ name: 'B', kind: 'add' }, { name: 'C', kind: 'mul' }] };
  const groups = { names: ['image', 'B', 'C'], index: new Map([['image', 0], ['B', 1], ['C', 2]]),
    of: Uint32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2]) };
  const images = imageBlocks(graph, groups);
  assert.deepEqual(images.map((im) => im.block), ['image', 'B']); // C has one node: no image
  const marks = (root) => Object.fromEntries(fieldOnImages(graph, images, root)
    .map((im) => [im.block, Array.from(im.inField)]));
  assert.deepEqual(marks(6), { image: [0, 0, 1, 1], B: [0, 0, 1, 0] });
  assert.deepEqual(marks(8), { image: [1, 1, 0, 1], B: [1, 0, 0, 1] });
  assert.deepEqual(marks(1), { image: [0, 1, 0, 0] }); // a leaf: itself, and no later block
});
