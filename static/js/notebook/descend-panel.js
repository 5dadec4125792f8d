// Descend: one gradient-descent step on the graph's inputs, taken by the engine in the kernel
// (engine/descent.py), then the new forward and backward pass plays. The panel shows what the
// step did to each input — old − lr × gradient = new — and the outputs before and after, and
// the objective after each step as a curve. "Keep old gradients (skip zero_grad)" sends the
// last step's gradients to be added to the next pass's, as a forgotten zero_grad() does.
// data-* hooks carry full-precision numbers.
// The step's text and decoding, the history and the curve are the Graph tab's (graph/descent-*).
import { ok } from '../shared/socket.js';
import { decodeStep, note, stepElements } from '../graph/descent-step.js';
import { DescentHistory } from '../graph/descent-history.js';
import { DescentCurve } from '../graph/descent-curve.js';

const KERNEL_UNDO_LIMIT = 100; // engine/notebook/kernel.py's UNDO_LIMIT: the steps it can undo

export class DescendPanel {
  /** `onStepped(at)`: trace again and show it ('start': play the new passes; 'end': at once). */
  constructor(root, { connection, whatIf, lr, onStepped, onError, onLearningRate = () => {} }) {
    Object.assign(this, { root, connection, whatIf, onStepped, onError, onLearningRate });
    this.field = root.querySelector('.lr');
    this.stepButton = root.querySelector('.descend-step');
    this.undoButton = root.querySelector('.descend-undo');
    this.result = root.querySelector('.descend-result');
    this.keep = root.querySelector('.descend-keep');
    // The kernel undoes the values; the page keeps what the curve and the kept gradients need.
    this.history = new DescentHistory({ maxSteps: KERNEL_UNDO_LIMIT });
    this.curve = new DescentCurve(root.querySelector('.descent-curve'));
    this.field.value = String(lr);
    this.steps = 0;
    this.graph = null;
    this.stepButton.addEventListener('click', () => this.step());
    this.undoButton.addEventListener('click', () => this.undo());
    this._render();
  }

  /** The learning rate set from Python (`widget.lr = 0.05`). */
  setLearningRate(lr) {
    this.field.value = String(lr);
  }

  setGraph(graph) {
    this.graph = graph;
    this.history.clear();
    this._draw();
    this._render();
  }

  async step() {
    const lr = Number(this.field.value);
    if (this.field.value === '' || !Number.isFinite(lr) || lr <= 0) {
      this.onError({ message: 'the learning rate must be a finite number above 0' });
      return;
    }
    const keep = this.keep.checked;
    const payload = { values: this.whatIf.wireValues(), lr, carried: this.history.carried() };
    await this._ask('descend', payload, (ack) => {
      const step = decodeStep(ack.step);
      // The kernel's inputs now hold the step's values: what-if overrides of them are spent.
      for (const id of step.ids) this.whatIf.values.delete(id);
      this.whatIf.commit();
      this.onLearningRate(lr);
      this.history.push({ step, before: null, keep });
      this._draw();
      this._show(step);
      return 'start';
    });
  }

  async undo() {
    await this._ask('undo_descend', {}, () => {
      this.history.pop();
      this._draw();
      this.result.replaceChildren(note(`Step ${this.steps + 1} undone.`));
      return 'end';
    });
  }

  _draw() {
    this.curve.setPoints(this.history.start, this.history.points());
  }

  async _ask(event, payload, done) {
    if (this.busy || !this.graph) return;
    this.busy = true;
    this._render();
    try {
      const ack = ok(await this.connection.request(event, payload));
      this.steps = ack.steps;
      const at = done(ack);
      this.busy = false;
      this._render();
      await this.onStepped(at);
    } catch (error) {
      this.onError(error);
    } finally {
      this.busy = false;
      this._render();
    }
  }

  _show(step) {
    this.result.replaceChildren(...stepElements(this.graph, step, this.steps));
  }

  _render() {
    this.root.dataset.steps = String(this.steps);
    this.root.dataset.busy = String(!!this.busy);
    this.stepButton.disabled = !!this.busy || !this.graph;
    this.undoButton.disabled = !!this.busy || this.steps === 0;
  }
}
