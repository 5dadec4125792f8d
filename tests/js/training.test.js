// node --test tests/js/ — the training page's pure parts: a run's columnar metrics, TensorBoard's
// debiased smoothing, the appending path, the gradient-health rule, and the follower's
// no-gap-no-duplicate bookkeeping against a fake connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RunData } from '../../static/js/training/run-data.js';
import { Ema, smooth } from '../../static/js/training/smoothing.js';
import { AppendingPath, CHUNK, pathXs } from '../../static/js/training/appending-path.js';
import { layerHealth } from '../../static/js/training/gradient-health.js';
import { RunFollower } from '../../static/js/training/run-follower.js';

const step = (seq, s, loss, norms = { A: 1, B: 1 }) => ({ seq, type: 'step', step: s, epoch: 1, loss,
  accuracy: 0.5, grad_norms: norms, seconds: s / 10, branches: {} });

test('run data takes records in seq order only, and finds steps and epochs', () => {
  const data = new RunData({ id: 'r', config: { epochs: 2, batch_size: 100 } });
  assert.equal(data.plannedSteps(), 2 * Math.ceil(1437 / 100));
  for (let k = 1; k <= 300; k++) data.add(step(k, k, 1 / k));
  assert.throws(() => data.add(step(302, 301, 0)));
  data.add({ seq: 301, type: 'epoch', epoch: 1, step: 300, train_loss: 0.1, train_accuracy: 0.9,
    test_loss: 'NaN', test_accuracy: 0.8, confusion: [[1]] });
  assert.equal(data.n, 300);
  assert.deepEqual(Array.from(data.get('step').slice(0, 3)), [1, 2, 3]);
  assert.equal(data.indexOfStep(0), -1);
  assert.equal(data.indexOfStep(150), 149);
  assert.equal(data.indexOfStep(10_000), 299);
  assert.equal(data.epochAt(299), null);
  assert.equal(data.epochAt(300).epoch, 1);
  assert.ok(Number.isNaN(data.epochs[0].test_loss)); // the wire's "NaN"
  assert.equal(data.stepsPerEpoch(), 300); // measured, once an epoch has ended
  assert.equal(data.norm('A', 299), 1);
  assert.ok(Math.abs(data.secondsLeft() - 300 * 0.1) < 1e-9);
});

test('smoothing is TensorBoard’s debiased EMA', () => {
  const values = [3, 1, 4, 1, 5, NaN, 9, 2, 6];
  const w = 0.6;
  let last = 0;
  let k = 0;
  const expected = values.map((y) => {
    if (!Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    k++;
    return last / (1 - w ** k);
  });
  const got = smooth(values, w);
  values.forEach((_, i) => (Number.isNaN(expected[i]) ? assert.ok(Number.isNaN(got[i]))
    : assert.ok(Math.abs(got[i] - expected[i]) < 1e-12)));
  assert.equal(new Ema(0.9).next(7), 7); // debiased: the first point is itself
  assert.deepEqual(Array.from(smooth([1, 2, 3], 0)), [1, 2, 3]);
});

test('the appending path grows, breaks at non-finite values and reads back its x', () => {
  const path = new AppendingPath();
  [[1, 2], [2, 3], [3, NaN], [4, 1], [5, 0.5]].forEach(([x, y]) => path.append(x, y));
  assert.equal(path.d, 'M1,2L2,3M4,1L5,0.5');
  assert.equal(path.points, 4);
  assert.deepEqual(pathXs(path.d), [1, 2, 4, 5]);
  const long = new AppendingPath();
  for (let x = 1; x <= 3 * CHUNK + 5; x++) long.append(x, x === CHUNK + 2 ? NaN : x / 2);
  assert.equal(long.frozen.length, 3);
  assert.ok(long.frozen[1].startsWith(`M${CHUNK} ${CHUNK / 2}L`)); // joined to the chunk before
  const xs = pathXs(long.all);
  assert.equal(xs.length, 3 * CHUNK + 4); // each finite point once
  assert.deepEqual(xs.slice(CHUNK - 1, CHUNK + 2), [CHUNK, CHUNK + 1, CHUNK + 3]);
  const log = new AppendingPath(Math.log10);
  log.append(1, 100);
  log.append(2, 0);
  assert.equal(log.d, 'M1,2');
});

test('gradient health: exploding against the first steps, vanishing against the largest layer', () => {
  const data = new RunData({ id: 'r', config: {} });
  let seq = 0;
  for (let s = 1; s <= 10; s++) data.add(step(++seq, s, 1, { A: 1, B: 2, C: 1 }));
  data.add(step(++seq, 11, 1, { A: 25, B: 2, C: 0.03 })); // A > 10 × 1; C ≥ 25 / 1000
  data.add(step(++seq, 12, 1, { A: 9, B: 20, C: 0.01 })); // C < 20 / 1000 = 0.02
  data.add(step(seq + 1, 13, 1, { A: 'NaN', B: 2, C: 1 }));
  const flags = (i) => Object.fromEntries([...layerHealth(data, i)].map(([k, v]) => [k, v.flag]));
  assert.deepEqual(flags(0), { A: null, B: null, C: null });
  assert.deepEqual(flags(10), { A: 'exploding', B: null, C: null });
  assert.deepEqual(flags(11), { A: null, B: null, C: 'vanishing' });
  assert.deepEqual(flags(12), { A: 'exploding', B: null, C: null });
});

function fakeConnection() {
  const handlers = {};
  const sent = [];
  return {
    sent,
    socket: { connected: true },
    on: (event, fn) => { (handlers[event] ||= []).push(fn); },
    request: (event, payload) => {
      sent.push([event, payload]);
      return Promise.resolve({ ok: true });
    },
    emit: (event, message) => (handlers[event] || []).forEach((fn) => fn(message)),
  };
}

test('the follower hands on each record once, mends a gap, and resumes after a reconnect', () => {
  const connection = fakeConnection();
  const data = new RunData({ id: 'r', config: {} });
  const statuses = [];
  const follower = new RunFollower(connection, {
    lastSeq: () => data.lastSeq,
    onRecords: (id, records) => records.forEach((r) => data.add(r)),
    onStatus: (id, status) => statuses.push(status),
  });
  follower.follow('r');
  assert.deepEqual(connection.sent.at(-1), ['watch_run', { run_id: 'r', after: 0 }]);
  connection.emit('run_history', { run_id: 'r', status: 'running', records: [step(1, 1, 1), step(2, 2, 1)] });
  connection.emit('run_metrics', { run_id: 'r', records: [step(2, 2, 1)] }); // a duplicate
  connection.emit('run_metrics', { run_id: 'r', records: [step(3, 3, 1)] });
  assert.equal(data.lastSeq, 3);
  connection.emit('run_metrics', { run_id: 'r', records: [step(5, 5, 1)] }); // 4 was lost
  assert.deepEqual(connection.sent.at(-1), ['watch_run', { run_id: 'r', after: 3 }]);
  assert.equal(follower.resyncs, 1);
  connection.emit('run_metrics', { run_id: 'r', records: [step(6, 6, 1)] }); // still waiting
  connection.emit('run_status', { run_id: 'r', status: 'completed', summary: {} }); // deferred
  assert.deepEqual(statuses, []);
  connection.emit('run_history', { run_id: 'r', status: 'completed', records: [step(4, 4, 1), step(5, 5, 1), step(6, 6, 1)] });
  assert.equal(data.lastSeq, 6);
  assert.deepEqual(Array.from(data.get('step')), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(statuses, ['completed']);
  assert.equal(follower.isFollowing('r'), false);

  // A run still going when the connection comes back is watched from where the page is.
  const other = new RunData({ id: 's', config: {} });
  const f2 = new RunFollower(connection, {
    lastSeq: () => other.lastSeq,
    onRecords: (id, records) => records.forEach((r) => other.add(r)),
    onStatus: () => {},
  });
  f2.follow('s');
  connection.emit('run_history', { run_id: 's', status: 'running', records: [step(1, 1, 1), step(2, 2, 1)] });
  connection.emit('connect');
  assert.deepEqual(connection.sent.at(-1), ['watch_run', { run_id: 's', after: 2 }]);
  connection.emit('run_history', { run_id: 's', status: 'running', records: [step(3, 3, 1)] });
  assert.deepEqual(Array.from(other.get('step')), [1, 2, 3]);
});
