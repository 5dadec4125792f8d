// Descend on the Graph tab: the learning-rate field, Descend, Descend ×10, Auto, Undo and the
// "Keep old gradients (skip zero_grad)" toggle. A step is taken by the engine on the server
// (descend_graph, from the values on screen: the shared graph keeps nothing); its new values
// become what-if values and the graph is traced again, the trace beginning with the step's own
// phase (timeline.js UPDATE, ZERO/KEEP). The steps are kept here (descent-history.js) for
// Undo, the objective curve (descent-curve.js) and the Inspector's kept gradients.
import { ok } from '../shared/socket.js';
import { label } from './graph-model.js';
import { short } from '../shared/numbers.js';
import { decodeStep, note, stepElements } from './descent-step.js';
import { DescentHistory, objective } from './descent-history.js';
import { invalidate } from '../shared/frame-loop.js';

export class Descent {
  /** el: {root, lr, step, ten, auto, undo, keep, minChange, maxSteps, objective, message, result};
   * parts: {connection, session, controller, whatIf, playback, curve, onLearningRate(lr),
   * onNode(id): a message names a node}. */
  constructor(el, parts) {
    Object.assign(this, { el, ...parts });
    this.history = new DescentHistory();
    this.graph = null;
    this.queue = Promise.resolve();
    this.running = null; // 'ten' | 'auto' while repeating
    this.stopAsked = false;
    this.busy = 0;
    el.step.addEventListener('click', () => this.enqueue(() => this._step({ animate: true, wait: false })));
    el.ten.addEventListener('click', () => this.repeat('ten'));
    el.auto.addEventListener('click', () => (this.running === 'auto' ? this.stop() : this.repeat('auto')));
    el.undo.addEventListener('click', () => this.enqueue(() => this._undo()));
    el.lr.addEventListener('change', () => { if (this.learningRate() !== null) this.onLearningRate(this.learningRateForLink()); });
    this._render();
  }

  setGraph(graph) {
    this.stop();
    this.graph = graph;
    this.history.clear();
    this.curve.reset();
    this.el.result.replaceChildren();
    this._say('');
    const several = graph.outputs.length > 1;
    this.el.objective.hidden = !several;
    this.el.objective.textContent = several
      ? `The objective is the sum of the outputs (${graph.outputs.map((id) => label(graph, id)).join(' + ')}): each step moves the inputs against its gradient.`
      : '';
    this._render();
  }

  setLearningRate(lr) {
    this.el.lr.value = String(lr);
  }

  /** The learning rate in the field, or null (and a message) when it is not a number above 0. */
  learningRate() {
    const lr = Number(this.el.lr.value);
    if (this.el.lr.value.trim() === '' || !Number.isFinite(lr) || lr <= 0) return null;
    return lr;
  }

  /** The learning rate for a share link: null when it is the page's default (links stay short). */
  learningRateForLink() {
    const lr = this.learningRate();
    return lr !== null && lr !== Number(this.el.lr.defaultValue) ? lr : null;
  }

  get steps() {
    return this.history.count;
  }

  /** Run `job` after the jobs before it (a press of Descend while a step runs waits its turn). */
  enqueue(job) {
    this.busy++;
    this._render();
    const run = this.queue.then(job).catch((error) => this._failed(error)).finally(() => {
      this.busy--;
      this._render();
    });
    this.queue = run;
    return run;
  }

  /** Descend ×10 or Auto: steps one after another, each played at the speed set. */
  repeat(kind) {
    if (this.running) return this.queue;
    this.running = kind;
    this.stopAsked = false;
    return this.enqueue(async () => {
      try {
        await this._repeat(kind);
      } finally {
        this.running = null;
      }
    });
  }

  stop() {
    this.stopAsked = true;
    this._render();
  }

  async _repeat(kind) {
    const limit = kind === 'ten' ? 10 : this._maxSteps();
    if (limit === null) return;
    const minChange = kind === 'auto' ? this._minChange() : 0;
    if (minChange === null) return;
    for (let k = 1; k <= limit; k++) {
      if (this.stopAsked) return this._say(`Stopped after ${k - 1} steps.`);
      let entry;
      try {
        entry = await this._step({ animate: true, wait: true });
      } catch (error) {
        return this._failed(error, `${kind === 'auto' ? 'Auto' : 'Descend ×10'} stopped after step ${this.steps}: the next step was refused`);
      }
      if (!entry) return; // its message is shown
      const bad = this._nonFinite(entry.step);
      if (bad) return this._say(`${kind === 'auto' ? 'Auto' : 'Descend ×10'} stopped at step ${this.steps}: ${bad}`, true);
      const change = Math.abs(entry.objective - objective(entry.step.before));
      if (kind === 'auto' && change < minChange) {
        return this._say(`Auto stopped at step ${this.steps}: the objective changed by ${short(change)}, less than the minimum change ${short(minChange)}.`);
      }
    }
    if (kind === 'auto') this._say(`Auto stopped at the step limit: ${limit} steps (set under "Auto stops").`);
  }

  /** One step; resolves with its history entry, or null when it could not be taken. */
  async _step({ animate, wait }) {
    if (!this.graph) return null;
    const lr = this.learningRate();
    if (lr === null) {
      this._say(`The learning rate must be a number above 0, not "${this.el.lr.value}".`, true);
      return null;
    }
    await this.controller.whenIdle();
    const graph = this.graph;
    const keep = this.el.keep.checked;
    const request = { graph: this.session.ref, values: this.whatIf.wireValues(), lr, carried: this.history.carried() };
    const ack = ok(await this.connection.request('descend_graph', request)); // a refusal throws
    if (graph !== this.graph) return null;
    const step = decodeStep(ack.step);
    const before = new Map(this.whatIf.values);
    step.ids.forEach((id, k) => this.whatIf.values.set(id, step.new[k]));
    this.whatIf.pending = true;
    this.history.push({ step, before, keep });
    this._showStep(step);
    const shown = await this.controller.trace({ at: animate ? 'start' : 'end', step: { step, keep } });
    if (!shown && graph === this.graph) {
      this.history.pop();
      this._showCurve();
      return null;
    }
    this.onLearningRate(this.learningRateForLink());
    if (animate) {
      this.playback.play();
      if (wait) await this.playback.finished();
    }
    return this.history.last;
  }

  async _undo() {
    const entry = this.history.pop();
    if (!entry) return;
    this.whatIf.values = new Map(entry.before);
    this.whatIf.pending = true;
    this._showCurve();
    this.el.result.replaceChildren(note(`Step ${this.steps + 1} undone: the inputs are back to their values before it.`));
    this._say('');
    await this.controller.whenIdle();
    await this.controller.trace({ at: 'end' });
  }

  _showStep(step) {
    this._showCurve();
    this.el.result.replaceChildren(...stepElements(this.graph, step, this.steps));
    this._say('');
  }

  _showCurve() {
    this.curve.setPoints(this.history.start, this.history.points());
    this._hookValues();
    this._render();
    invalidate();
  }

  /** Test hook: every input's value after the steps, {wire id: full-precision number}, as
   * exact as the page holds it (only what a step or Undo set: the graph's own values otherwise). */
  _hookValues() {
    const g = this.graph;
    const values = {};
    for (const id of g.inputs) values[id] = String(this.whatIf.values.has(id) ? this.whatIf.values.get(id) : g.leafValues[id]);
    this.el.root.dataset.inputValues = JSON.stringify(values);
  }

  /** A sentence naming the outputs the step made NaN or infinite, or null. */
  _nonFinite(step) {
    const bad = this.graph.outputs.filter((id, k) => !Number.isFinite(step.after[k]));
    if (!bad.length) return null;
    const names = bad.map((id) => `${label(this.graph, id)} = ${short(step.after[this.graph.outputs.indexOf(id)])}`);
    this.onNode(bad[0]);
    return `${names.join(', ')} (the values left the reals: Undo, then try a smaller learning rate).`;
  }

  _maxSteps() {
    const n = Number(this.el.maxSteps.value);
    if (Number.isInteger(n) && n >= 1) return n;
    this._say(`The step limit must be a whole number of steps, 1 or more, not "${this.el.maxSteps.value}".`, true);
    return null;
  }

  _minChange() {
    const v = Number(this.el.minChange.value);
    if (this.el.minChange.value.trim() !== '' && Number.isFinite(v) && v >= 0) return v;
    this._say(`The minimum change must be a number, 0 or more, not "${this.el.minChange.value}".`, true);
    return null;
  }

  _failed(error, what = 'The step was not taken') {
    if (!error || error.message === 'superseded') return;
    const where = error.node != null && this.graph && error.node < this.graph.n ? ` (at ${label(this.graph, error.node)})` : '';
    this._say(`${what}: ${error.message}${where}. Nothing was changed; try a smaller learning rate.`, true);
    if (error.node != null) this.onNode(error.node);
  }

  _say(text, problem = false) {
    this.el.message.textContent = text;
    this.el.message.classList.toggle('problem', problem);
  }

  /** Its keyboard shortcuts (shared/keyboard.js). */
  shortcuts({ when = () => true, group = 'Descent (Graph tab)' } = {}) {
    return [
      { keys: ['d'], label: 'Descend one step', run: () => this.el.step.click() },
      { keys: ['u'], label: 'Undo the last descent step', run: () => this.el.undo.click() },
    ].map((s) => ({ ...s, when, group }));
  }

  _render() {
    const el = this.el;
    el.root.dataset.steps = String(this.steps);
    el.root.dataset.busy = String(this.busy > 0);
    el.step.disabled = !this.graph || !!this.running;
    el.ten.disabled = !this.graph || !!this.running;
    el.auto.disabled = !this.graph || this.running === 'ten';
    el.auto.textContent = this.running === 'auto' ? 'Stop' : 'Auto';
    el.undo.disabled = this.steps === 0 || !!this.running;
  }
}
