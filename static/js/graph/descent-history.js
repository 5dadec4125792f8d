// The descent steps taken on the graph on screen, for Undo, the objective curve and the
// zero-grad lesson. Pure (no DOM): each entry keeps the what-if values from before its step as
// the exact floats they were (a Map of JS numbers, which are f64), so Undo puts them back bit
// for bit; and, when zero_grad was skipped, the gradients the step kept and their parts.

export const MAX_STEPS_KEPT = 1000; // steps Undo can walk back (older ones are forgotten)

export class DescentHistory {
  constructor({ maxSteps = MAX_STEPS_KEPT } = {}) {
    this.maxSteps = maxSteps;
    this.entries = [];
    this.start = NaN; // the objective before the first step kept
  }

  clear() {
    this.entries = [];
    this.start = NaN;
  }

  get count() {
    return this.entries.length;
  }

  get last() {
    return this.entries[this.entries.length - 1] || null;
  }

  /**
   * A step was taken: `step` (descent-step.js decodeStep), `before` the what-if values it
   * started from, `keep` whether its gradients are kept for the next pass (zero_grad skipped).
   */
  push({ step, before, keep }) {
    const previous = this.last && this.last.keep ? this.last : null;
    // The parts of each input's gradient: every pass's own gradient since zero_grad last ran.
    const parts = new Map();
    step.ids.forEach((id, k) => {
      const earlier = previous ? previous.parts.get(id) || [] : [];
      parts.set(id, [...earlier, step.fresh ? step.fresh[k] : step.gradient[k]]);
    });
    if (!this.entries.length) this.start = objective(step.before);
    this.entries.push({ step, before, keep, parts, objective: objective(step.after) });
    if (this.entries.length > this.maxSteps) {
      const dropped = this.entries.shift();
      this.start = dropped.objective;
    }
  }

  /** Take the last step back: its entry (whose `before` are the values to restore), or null. */
  pop() {
    const entry = this.entries.pop() || null;
    if (!this.entries.length) this.start = NaN;
    return entry;
  }

  /** {wire id: gradient} a skipped zero_grad carries into the next step (empty: none). */
  carried() {
    const last = this.last;
    if (!last || !last.keep) return {};
    const out = {};
    last.step.ids.forEach((id, k) => { out[String(id)] = last.step.gradient[k]; });
    return out;
  }

  /** Input `id`'s kept gradient as its parts, one per pass (null when nothing is kept). */
  keptParts(id) {
    const last = this.last;
    return last && last.keep ? last.parts.get(id) || null : null;
  }

  /** The objective after each step, [{step, value}], step 1 first; `start` is step 0's. */
  points() {
    const first = this.entries.length ? 1 : 0;
    return this.entries.map((e, k) => ({ step: first + k, value: e.objective }));
  }
}

/** The objective: the sum of the outputs, as the engine sums them for back-prop. */
export function objective(outputs) {
  let total = 0;
  for (const v of outputs) total += v;
  return total;
}
