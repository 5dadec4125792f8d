// node --test tests/js/ — the page's pure modules: frames → timeline → state, step and undo.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildGraph } from '../../static/js/graph/graph-model.js';
import { X, bytes, description, frames } from './fan-out.js';
import { Timeline, FORWARD, SEED, GRADIENT, EDGE } from '../../static/js/graph/timeline.js';
import { TraceState, GRAD_FINAL } from '../../static/js/graph/trace-state.js';
import { f64, num } from '../../static/js/shared/wire-numbers.js';


function timeline() {
  const graph = buildGraph(description, 'test');
  const t = new Timeline(graph, 'r');
  for (const frame of frames()) t.addFrame(frame);
  t.finish({ trace: 'r', flagged: [] });
  return { graph, t };
}

test('frames unroll into the engine order: values, seed, then each gradient and its edges', () => {
  const { t } = timeline();
  const kinds = Array.from(t.kind.subarray(0, t.length));
  assert.deepEqual(kinds, [FORWARD, FORWARD, FORWARD, FORWARD, SEED,
    GRADIENT, EDGE, EDGE, GRADIENT, EDGE, EDGE, GRADIENT, EDGE, GRADIENT]);
  assert.equal(t.forwardCount, 4);
  // x*x has two edges to x: the first goes to operand slot 0, the second to slot 1.
  assert.deepEqual([t.edge[9], t.edge[10]], [0, 1]);
});

// The same trace as the server sends it since issue 18: levels share a frame (bounded by bytes
// and events, not by level), a back-prop frame naming its nodes as spans, one per level.
function boundedFrames() {
  const perLevel = frames();
  const cat = (Type, parts) => new Type(parts.flatMap((b) => Array.from(new Type(b)))).buffer;
  const backward = perLevel.slice(4);
  const edges = (key, Type) => cat(Type, backward.map((f) => f.edges[key]));
  return [
    { trace: 'r', phase: 'forward', level: 0, start: 0, count: 4,
      values: cat(Float64Array, perLevel.slice(0, 3).map((f) => f.values)) },
    perLevel[3],
    { trace: 'r', phase: 'backward', level: 2, count: 4, spans: bytes(Int32Array, [3, 1, 1, 2, 0, 1]),
      grads: cat(Float64Array, backward.map((f) => f.grads)),
      edges: { count: 5, parent: edges('parent', Int32Array), child: edges('child', Int32Array),
        local: edges('local', Float64Array), contribution: edges('contribution', Float64Array) } },
  ];
}

test('frames holding several levels unroll into the same events as one frame per level', () => {
  const { graph, t } = timeline();
  const bounded = new Timeline(graph, 'r');
  for (const frame of boundedFrames()) bounded.addFrame(frame);
  for (const key of ['kind', 'node', 'edge', 'value', 'local']) {
    assert.deepEqual(Array.from(bounded[key].subarray(0, bounded.length)).map(String),
      Array.from(t[key].subarray(0, t.length)).map(String), key);
  }
  assert.equal(bounded.forwardCount, 4);
});

test('a back-prop frame whose spans do not add up to its count is refused', () => {
  const { graph } = timeline();
  const bad = new Timeline(graph, 'r');
  const [forward, seed, backward] = boundedFrames();
  bad.addFrame(forward);
  bad.addFrame(seed);
  assert.throws(() => bad.addFrame({ ...backward, count: 3 }), /spans hold 4 ids, not 3/);
});

test('playing to the end gives every value and the final gradients, the fan-out summed', () => {
  const { t } = timeline();
  const s = new TraceState(t.graph, t);
  s.seek(t.length);
  assert.equal(s.value[3], X * X + Math.sin(X));
  assert.equal(s.gradState[0], GRAD_FINAL);
  assert.equal(s.gradFinal[0], X + X + Math.cos(X));
  assert.equal(s.received[0], 3);
  assert.equal(s.gradSum[0], X + X + Math.cos(X));
});

test('stepping back undoes exactly; a long jump equals stepping', () => {
  const { t } = timeline();
  const snapshot = (s) => JSON.stringify([Array.from(s.value), Array.from(s.gradSum),
    Array.from(s.gradState), Array.from(s.received), Array.from(s.edgeReached)]);
  const stepping = new TraceState(t.graph, t);
  const seen = [snapshot(stepping)];
  for (let i = 1; i <= t.length; i++) {
    stepping.seek(i);
    seen.push(snapshot(stepping));
  }
  for (let i = t.length - 1; i >= 0; i--) {
    stepping.seek(i);
    assert.equal(snapshot(stepping), seen[i], `after stepping back to ${i}`);
  }
  for (const i of [13, 2, 9, 0, 14, 5]) {
    stepping.seek(i);
    assert.equal(snapshot(stepping), seen[i], `after jumping to ${i}`);
  }
});

test('contributionsTo lists what a node received, in order', () => {
  const { t } = timeline();
  const s = new TraceState(t.graph, t);
  s.seek(11); // after x*x's two edges
  const got = s.contributionsTo(0).map((c) => [c.parent, c.contribution]);
  assert.deepEqual(got, [[1, X], [1, X]]);
});

test('wire numbers: strings for non-finite, binary arrays read as float64', () => {
  assert.ok(Number.isNaN(num('NaN')));
  assert.equal(num('-Infinity'), -Infinity);
  assert.deepEqual(Array.from(f64(new Float64Array([1.5, NaN]).buffer)).map(String), ['1.5', 'NaN']);
  assert.deepEqual(Array.from(f64([1, 'Infinity'])), [1, Infinity]);
});
