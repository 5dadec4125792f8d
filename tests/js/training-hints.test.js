// node --test tests/js/ — issue 11's training hints, pure parts: the divergence rule (NaN, ∞ and
// a rising epoch above chance; never a healthy curve), the time-left estimate against the
// durations it was given, and the label-smoothing floor against its closed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RunData } from '../../static/js/training/run-data.js';
import { CHANCE_LOSS, divergence } from '../../static/js/training/divergence.js';
import { smoothedFloor } from '../../static/js/training/chart-note.js';

const SPE = 10; // steps per epoch of these runs (batch 144 over 1,437 images)

/** A run with the given step losses; an epoch record (its mean loss) after every SPE steps. */
function runWith(losses, seconds = (k) => k / 100) {
  const data = new RunData({ id: 'r', config: { epochs: Math.ceil(losses.length / SPE), batch_size: 144 } });
  let seq = 0;
  let epoch = [];
  losses.forEach((loss, i) => {
    const s = i + 1;
    data.add({ seq: ++seq, type: 'step', step: s, epoch: Math.ceil(s / SPE), loss, accuracy: 0.1,
      grad_norms: {}, seconds: seconds(s), branches: {} });
    epoch.push(loss);
    if (s % SPE === 0) {
      data.add({ seq: ++seq, type: 'epoch', epoch: s / SPE, step: s, train_loss: epoch.reduce((a, b) => a + b) / SPE,
        train_accuracy: 0.1, test_loss: 1, test_accuracy: 0.1, confusion: [[0]] });
      epoch = [];
    }
  });
  return data;
}

test('a loss that becomes NaN or ∞ diverges at that step', () => {
  const losses = Array.from({ length: 25 }, (_, i) => 2.3 - 0.01 * i);
  losses[13] = NaN;
  const verdict = divergence(runWith(losses));
  assert.equal(verdict.step, 14);
  assert.equal(verdict.reason, 'not-finite');
  assert.match(verdict.text, /NaN at step 14 — try a smaller learning rate/);
  losses[13] = 1.0;
  losses[6] = Infinity;
  assert.equal(divergence(runWith(losses)).step, 7);
});

test('an epoch whose mean loss rose above chance diverges at its end; below chance it never does', () => {
  // Epoch 1 above the first step's loss (and above ln 10): diverged at step 10.
  assert.equal(divergence(runWith([2.34, ...Array(9).fill(5)])).step, SPE);
  // Learning, then a rise of 3% that stays above chance: diverged at the end of epoch 3.
  const rising = [...Array(SPE).fill(2.34), ...Array(SPE).fill(2.32), ...Array(SPE).fill(2.32 * 1.03)];
  assert.equal(divergence(runWith(rising)).step, 3 * SPE);
  // The same rise of 1% or less: not diverging; a rise of 30% below chance: not diverging.
  assert.equal(divergence(runWith([...Array(SPE).fill(2.34), ...Array(SPE).fill(2.34 * 1.009)])), null);
  const healthy = [...Array(SPE).fill(1.0), ...Array(SPE).fill(0.5), ...Array(SPE).fill(0.65)];
  assert.ok(0.65 < CHANCE_LOSS);
  assert.equal(divergence(runWith(healthy)), null);
});

test('the verdict follows the records as they come', () => {
  const data = runWith(Array(SPE).fill(2.0));
  assert.equal(divergence(data), null);
  data.add({ seq: data.lastSeq + 1, type: 'step', step: 11, epoch: 2, loss: NaN, accuracy: 0, grad_norms: {},
    seconds: 1, branches: {} });
  assert.equal(divergence(data).step, 11);
});

test('the time left is the steps to go times the mean step duration, an epoch pause spread over it', () => {
  // 3 epochs of 10 steps, each 0.1 s, and a 0.5 s test pass after each epoch: the truth from
  // step k is the durations still to come.
  const duration = (s) => 0.1 + (s > 1 && (s - 1) % SPE === 0 ? 0.5 : 0);
  const at = [0];
  for (let s = 1; s <= 3 * SPE; s++) at.push(at[s - 1] + duration(s));
  const data = runWith(Array(3 * SPE).fill(1.0), (s) => at[s]);
  // The estimate at the end of the run's records is 0; at any earlier point it is the mean of
  // the durations so far (a window of 50 steps covers them all here) times the steps to go.
  assert.equal(data.secondsLeft(), 0);
  for (const k of [5, 12, 25]) {
    const part = runWith(Array(k).fill(1.0), (s) => at[s]);
    part.meta.config = { epochs: 3, batch_size: 144 };
    const mean = (at[k] - at[1]) / (k - 1);
    assert.ok(Math.abs(part.secondsLeft() - (3 * SPE - k) * mean) < 1e-9, `at step ${k}`);
  }
});

test('label smoothing: the least training loss is the smoothed target’s entropy', () => {
  assert.equal(smoothedFloor(0), 0);
  // ε = 0.1: targets 0.91 and nine of 0.01.
  assert.ok(Math.abs(smoothedFloor(0.1) - -(0.91 * Math.log(0.91) + 9 * 0.01 * Math.log(0.01))) < 1e-12);
  // ε = 1 would be the uniform target: ln 10.
  assert.ok(Math.abs(smoothedFloor(1) - Math.log(10)) < 1e-12);
});
