// One training run's metrics on the page, columnar: a step's loss, batch accuracy, time and each
// layer's gradient norm sit in growable typed arrays indexed by the step's position, so thousands
// of steps cost a few arrays, not thousands of objects. Epoch records (test loss and accuracy,
// the confusion matrix) are kept as they come. Records are taken strictly in `seq` order
// (docs/protocol.md, "Training"): the follower (run-follower.js) hands over exactly the next one.
// No DOM here; `version` grows with every change, so views redraw only when it moved.
import { num } from '../shared/wire-numbers.js';

/** The bundled digits' training split (docs/training.md): steps per epoch = ceil(1437 / batch). */
export const TRAIN_IMAGES = 1437;
export const FINAL = new Set(['completed', 'stopped', 'failed', 'interrupted']);
/** Steps the time-left estimate averages over: an epoch's, at least 50. */
export const paceWindow = (stepsPerEpoch) => Math.max(50, stepsPerEpoch);

class Column {
  constructor(blank = 0, capacity = 256) {
    this.blank = blank; // what a step without a value holds (a layer's norm: NaN)
    this.data = new Float64Array(capacity).fill(blank);
  }

  set(i, value) {
    if (i >= this.data.length) {
      const bigger = new Float64Array(Math.max(this.data.length * 2, i + 1)).fill(this.blank);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[i] = value;
  }
}

export class RunData {
  /** `meta`: a run as GET /api/runs lists it ({id, name, config, status, created, summary, steps}). */
  constructor(meta) {
    this.id = meta.id;
    this.meta = { ...meta };
    this.lastSeq = 0; // the last record taken
    this.n = 0; // steps taken
    this.columns = { step: new Column(), epoch: new Column(), loss: new Column(),
      accuracy: new Column(), seconds: new Column(), arrival: new Column() };
    this.norms = new Map(); // layer → Column of its gradient norm, per step
    this.branches = new Map(); // residual sum ("Add2") → {operands, skip, residual, grad}
    this.epochs = []; // epoch records, in order
    this.version = 0;
  }

  get status() {
    return this.meta.status;
  }

  get final() {
    return FINAL.has(this.meta.status);
  }

  setMeta(meta) {
    Object.assign(this.meta, meta);
    this.version++;
  }

  /** Take the next record (its seq must be lastSeq + 1); `arrival`: performance.now() of it. */
  add(record, arrival = 0) {
    if (record.seq !== this.lastSeq + 1) {
      throw new Error(`run ${this.id}: record ${record.seq} after ${this.lastSeq}`);
    }
    this.lastSeq = record.seq;
    this.version++;
    if (record.type === 'epoch') {
      this.epochs.push({ ...record, train_loss: num(record.train_loss), test_loss: num(record.test_loss),
        train_accuracy: num(record.train_accuracy), test_accuracy: num(record.test_accuracy) });
      return;
    }
    if (record.type !== 'step') return;
    const i = this.n++;
    const c = this.columns;
    c.step.set(i, record.step);
    c.epoch.set(i, record.epoch);
    c.loss.set(i, num(record.loss));
    c.accuracy.set(i, num(record.accuracy));
    c.seconds.set(i, num(record.seconds));
    c.arrival.set(i, arrival);
    for (const [layer, norm] of Object.entries(record.grad_norms || {})) {
      let column = this.norms.get(layer);
      if (!column) {
        column = new Column(NaN);
        this.norms.set(layer, column);
      }
      column.set(i, num(norm));
    }
    for (const [name, b] of Object.entries(record.branches || {})) {
      let entry = this.branches.get(name);
      if (!entry) {
        entry = { operands: b.operands, skip: new Column(), residual: new Column(), grad: new Column() };
        this.branches.set(name, entry);
      }
      entry.skip.set(i, num(b.value_rms[0]));
      entry.residual.set(i, num(b.value_rms[1]));
      entry.grad.set(i, num(b.grad_rms));
    }
  }

  /** Column `name` ('step', 'loss', 'accuracy', 'seconds', 'arrival') as a view of n values. */
  get(name) {
    return this.columns[name].data.subarray(0, this.n);
  }

  norm(layer, i) {
    const column = this.norms.get(layer);
    return column && i < this.n ? column.data[i] : NaN;
  }

  /** The position of the last step ≤ `step` (steps grow), or -1. */
  indexOfStep(step) {
    const steps = this.columns.step.data;
    let lo = 0;
    let hi = this.n - 1;
    if (hi < 0 || step < steps[0]) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (steps[mid] <= step) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  lastStep() {
    return this.n ? this.columns.step.data[this.n - 1] : 0;
  }

  /** The latest epoch record that had ended by `step` (the test set's view then), or null. */
  epochAt(step = Infinity) {
    let found = null;
    for (const e of this.epochs) {
      if (e.step <= step) found = e;
      else break;
    }
    return found;
  }

  get config() {
    return this.meta.config || {};
  }

  stepsPerEpoch() {
    if (this.epochs.length) return this.epochs[0].step;
    return Math.ceil(TRAIN_IMAGES / (this.config.batch_size || 16));
  }

  /** Steps the run will take if it runs to its end. */
  plannedSteps() {
    return (this.config.epochs || 1) * this.stepsPerEpoch();
  }

  /**
   * Seconds left: the steps still to take × a smoothed time per step, or null before two steps.
   * The time per step is a running mean of each step's duration (its `seconds` less the one
   * before's, so the pause for each epoch's test pass counts too) that becomes an exponential
   * average over the last PACE_WINDOW(steps per epoch) steps once it has that many: an epoch's
   * test pass is spread over an epoch's steps instead of jumping in and out of a short window,
   * and a machine that slows down is still followed within an epoch.
   */
  secondsLeft() {
    if (this.n < 2) return null;
    const seconds = this.columns.seconds.data;
    const window = paceWindow(this.stepsPerEpoch());
    const pace = this.pace || { n: 1, value: 0 };
    for (let i = pace.n; i < this.n; i++) {
      const weight = 1 / Math.min(i, window);
      pace.value += weight * (seconds[i] - seconds[i - 1] - pace.value);
    }
    pace.n = this.n;
    this.pace = pace;
    return Math.max(0, (this.plannedSteps() - this.lastStep()) * pace.value);
  }

  /** Test accuracy at the end: the summary's, else the last epoch's, else null. */
  finalAccuracy() {
    const summary = this.meta.summary;
    if (summary && summary.test_accuracy != null) return num(summary.test_accuracy);
    const last = this.epochs[this.epochs.length - 1];
    return last ? last.test_accuracy : null;
  }
}
