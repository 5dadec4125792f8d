// Descend: one gradient-descent step on the graph's inputs, taken by the engine in the kernel
// (engine/descent.py), then the new forward and backward pass plays. The panel shows what the
// step did to each input — old − lr × gradient = new — and the outputs before and after.
// data-* hooks carry full-precision numbers.
// The step's text and its decoding are graph/descent-step.js, shared with the Graph tab.
import { ok } from '../shared/socket.js';
import { decodeStep, note, stepElements } from '../graph/descent-step.js';

export class DescendPanel {
  /** `onStepped(at)`: trace again and show it ('start': play the new passes; 'end': at once). */
  constructor(root, { connection, whatIf, lr, onStepped, onError, onLearningRate = () => {} }) {
    Object.assign(this, { root, connection, whatIf, onStepped, onError, onLearningRate });
    this.field = root.querySelector('.lr');
    this.stepButton = root.querySelector('.descend-step');
    this.undoButton = root.querySelector('.descend-undo');
    this.result = root.querySelector('.descend-result');
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
    this._render();
  }

  async step() {
    const lr = Number(this.field.value);
    if (this.field.value === '' || !Number.isFinite(lr) || lr <= 0) {
      this.onError({ message: 'the learning rate must be a finite number above 0' });
      return;
    }
    await this._ask('descend', { values: this.whatIf.wireValues(), lr }, (ack) => {
      const step = decodeStep(ack.step);
      // The kernel's inputs now hold the step's values: what-if overrides of them are spent.
      for (const id of step.ids) this.whatIf.values.delete(id);
      this.whatIf.commit();
      this.onLearningRate(lr);
      this._show(step);
      return 'start';
    });
  }

  async undo() {
    await this._ask('undo_descend', {}, () => {
      this.result.replaceChildren(note(`Step ${this.steps + 1} undone.`));
      return 'end';
    });
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
