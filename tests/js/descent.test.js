// node --test tests/js/ — a descent step as a trace's first phase (timeline.js addUpdate,
// trace-state.js), and the steps kept for Undo and the zero_grad lesson (descent-history.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildGraph } from '../../static/js/graph/graph-model.js';
import { X, description, frames } from './fan-out.js';
import { Timeline, FORWARD, UPDATE, ZERO, KEEP } from '../../static/js/graph/timeline.js';
import { TraceState, GRAD_FINAL, GRAD_NONE, GRAD_PARTIAL } from '../../static/js/graph/trace-state.js';
import { DescentHistory } from '../../static/js/graph/descent-history.js';


function timeline(step, keep) {
  const graph = buildGraph(description, 'test');
  const t = new Timeline(graph, 'r');
  t.addUpdate(step, { keep });
  for (const frame of frames()) t.addFrame(frame);
  t.finish({ trace: 'r', flagged: [] });
  return { graph, t };
}

// The step that led to x = X: from 0.9 with gradient 2, lr 0.1 (0.9 − 0.2 = X up to rounding).
const OLD = 0.9;
const G = 2;
const STEP = { lr: 0.1, ids: Int32Array.from([0]), old: Float64Array.from([OLD]), gradient: Float64Array.from([G]),
  fresh: Float64Array.from([G]), new: Float64Array.from([X]), before: Float64Array.from([1]), after: Float64Array.from([0.5]) };
const FRESH = X + X + Math.cos(X); // dy/dx at X, as the frames carry it

test('a step comes first: each input updated, then its gradient zeroed, then the forward pass', () => {
  const { t } = timeline(STEP, false);
  assert.deepEqual(Array.from(t.kind.subarray(0, 3)), [UPDATE, ZERO, FORWARD]);
  assert.equal(t.updateCount, 2);
  assert.equal(t.forwardCount, 6);
  const s = new TraceState(t.graph, t);
  s.seek(1);
  assert.equal(s.value[0], X);
  assert.equal(s.gradState[0], GRAD_FINAL);
  assert.equal(s.grad(0), G); // the gradient the step used
  s.seek(2);
  assert.equal(s.gradState[0], GRAD_NONE); // zero_grad, visibly
  s.seek(t.length);
  assert.equal(s.grad(0), FRESH);
  s.seek(1); // back through the forward pass and the zeroing: exactly as it was
  assert.equal(s.value[0], X);
  assert.equal(s.grad(0), G);
  assert.equal(s.groupValues.reduce((a, b) => a + b, 0), 1);
  s.seek(0);
  assert.ok(Number.isNaN(s.value[0]));
  assert.equal(s.gradState[0], GRAD_NONE);
});

test('with zero_grad skipped the kept gradient is where the pass adds its own', () => {
  const { t } = timeline(STEP, true);
  assert.equal(t.kind[1], KEEP);
  const s = new TraceState(t.graph, t);
  s.seek(2);
  assert.equal(s.gradState[0], GRAD_PARTIAL);
  assert.equal(s.grad(0), G);
  s.seek(t.length);
  assert.equal(s.grad(0), G + FRESH);
  assert.equal(s.gradSum[0], G + X + X + Math.cos(X)); // the running sum, contribution by contribution
});

test('the history carries a kept gradient into the next step and lists its parts; Undo pops', () => {
  const h = new DescentHistory();
  h.push({ step: STEP, before: new Map(), keep: true });
  assert.deepEqual(h.carried(), { 0: G });
  const second = { ...STEP, old: Float64Array.from([X]), gradient: Float64Array.from([G + FRESH]),
    fresh: Float64Array.from([FRESH]), new: Float64Array.from([X - 0.1 * (G + FRESH)]), before: Float64Array.from([0.5]),
    after: Float64Array.from([0.25]) };
  h.push({ step: second, before: new Map([[0, X]]), keep: true });
  assert.deepEqual(h.keptParts(0), [G, FRESH]);
  assert.deepEqual(h.carried(), { 0: G + FRESH });
  assert.deepEqual(h.points(), [{ step: 1, value: 0.5 }, { step: 2, value: 0.25 }]);
  assert.equal(h.start, 1);
  assert.deepEqual([...h.pop().before], [[0, X]]);
  h.push({ step: second, before: new Map(), keep: false });
  assert.deepEqual(h.carried(), {}); // zero_grad ran after this step: nothing carried
  assert.equal(h.keptParts(0), null);
});

test('Undo keeps at most maxSteps steps', () => {
  const h = new DescentHistory({ maxSteps: 2 });
  for (let k = 0; k < 3; k++) h.push({ step: STEP, before: new Map(), keep: false });
  assert.equal(h.count, 2);
});
