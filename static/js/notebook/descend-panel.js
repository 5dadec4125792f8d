// Descend: one gradient-descent step on the graph's inputs, taken by the engine in the kernel
// (engine/descent.py), then the new forward and backward pass plays. The panel shows what the
// step did to each input — old − lr × gradient = new — and the outputs before and after.
// data-* hooks carry full-precision numbers.
import { ok } from '../shared/socket.js';
import { f64, i32 } from '../shared/wire-numbers.js';
import { label } from '../graph/graph-model.js';
import { full, long, short, thousands } from '../shared/numbers.js';

const SHOWN_INPUTS = 12;

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
    const g = this.graph;
    const rows = Array.from(step.ids.slice(0, SHOWN_INPUTS), (id, k) => {
      const li = document.createElement('li');
      Object.assign(li.dataset, { nodeId: String(id), old: full(step.old[k]),
        gradient: full(step.gradient[k]), new: full(step.new[k]) });
      li.textContent = `${label(g, id)}: ${short(step.old[k])} − ${short(step.lr)} × ${bracket(short(step.gradient[k]))} = ${long(step.new[k])}`;
      return li;
    });
    const list = document.createElement('ol');
    list.className = 'descend-inputs';
    list.append(...rows);
    const more = step.ids.length > SHOWN_INPUTS
      ? [note(`… and ${thousands(step.ids.length - SHOWN_INPUTS)} more inputs.`)] : [];
    const outputs = g.outputs.map((id, k) => {
      const p = note(`${label(g, id)}: ${long(step.before[k])} → ${long(step.after[k])}`);
      Object.assign(p.dataset, { nodeId: String(id), before: full(step.before[k]), after: full(step.after[k]) });
      p.className = 'descend-output';
      return p;
    });
    this.result.replaceChildren(note(`Step ${this.steps}, lr ${short(step.lr)}:`), list, ...more, ...outputs);
  }

  _render() {
    this.root.dataset.steps = String(this.steps);
    this.root.dataset.busy = String(!!this.busy);
    this.stepButton.disabled = !!this.busy || !this.graph;
    this.undoButton.disabled = !!this.busy || this.steps === 0;
  }
}

/** A descend acknowledgement's step: typed arrays by input, in the engine's order. */
export function decodeStep(step) {
  return { lr: step.lr, ids: i32(step.ids), old: f64(step.old), gradient: f64(step.gradient),
    new: f64(step.new), before: f64(step.outputs_before), after: f64(step.outputs_after) };
}

function bracket(s) {
  return s.startsWith('−') ? `(${s})` : s;
}

function note(text) {
  const p = document.createElement('p');
  p.textContent = text;
  return p;
}
