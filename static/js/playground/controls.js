// The Playground's controls: data, features, the network builder, and the training options.
// They show a config (playground-config.js) and report each change as a new config; they hold
// no state of their own beyond what is on screen.
import {
  ACTIVATIONS, DATASETS, DATASET_NAMES, FEATURES, FEATURE_LABELS, MAX_LAYERS, MAX_NEURONS, REGULARIZATIONS,
  addLayer, changeNeurons, problemOf, removeLayer,
} from './playground-config.js';

const option = (value, text) => Object.assign(document.createElement('option'), { value, textContent: text });
const REG_NAMES = { none: 'None', l1: 'L1', l2: 'L2' };

export class Controls {
  constructor(el, { onChange }) {
    this.el = el;
    this.onChange = onChange;
    this.config = null;
    el.activation.replaceChildren(...ACTIVATIONS.map((a) => option(a, a === 'relu' ? 'ReLU' : a[0].toUpperCase() + a.slice(1))));
    el.regularization.replaceChildren(...REGULARIZATIONS.map((r) => option(r, REG_NAMES[r])));
    el.features.replaceChildren(...FEATURES.map((f) => {
      const label = document.createElement('label');
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: f });
      box.addEventListener('change', () => this._features());
      label.append(box, ` ${FEATURE_LABELS[f]}`);
      return label;
    }));
    el.problem.addEventListener('change', () => {
      this.change({ dataset: DATASETS[el.problem.value][0] });
    });
    el.dataset.addEventListener('change', () => this.change({ dataset: el.dataset.value }));
    el.activation.addEventListener('change', () => this.change({ activation: el.activation.value }));
    el.regularization.addEventListener('change', () => this.change({ regularization: el.regularization.value }));
    const numeric = { noise: (v) => v / 100, ratio: (v) => v / 100, reg_rate: (v) => v, lr: (v) => v, batch_size: (v) => v, seed: (v) => v, init_seed: (v) => v };
    for (const [key, convert] of Object.entries(numeric)) {
      el[key].addEventListener('change', () => {
        const value = Number(el[key].value);
        if (Number.isFinite(value)) this.change({ [key]: convert(value) });
      });
    }
    // Regenerate: new generated points (your own are dropped) from a new random data seed,
    // which goes to the URL like any option, so the link reproduces them.
    el.regenerate.addEventListener('click', () => {
      // Five digits: short enough to read in the seed field and the link.
      this.change({ seed: crypto.getRandomValues(new Uint32Array(1))[0] % 100000 }, { generated: true });
    });
    el.addLayer.addEventListener('click', () => this.change({ hidden: addLayer(this.config.hidden) }));
    el.removeLayer.addEventListener('click', () => this.change({ hidden: removeLayer(this.config.hidden) }));
  }

  change(part, how = {}) {
    this.onChange({ ...this.config, ...part }, how);
  }

  _features() {
    const chosen = Array.from(this.el.features.querySelectorAll('input:checked'), (box) => box.value);
    if (chosen.length) this.change({ features: chosen });
    else this.show(this.config); // at least one feature: the last box stays ticked
  }

  show(config) {
    this.config = config;
    const el = this.el;
    const problem = problemOf(config.dataset);
    el.problem.value = problem;
    el.dataset.replaceChildren(...DATASETS[problem].map((d) => option(d, DATASET_NAMES[d])));
    el.dataset.value = config.dataset;
    el.activation.value = config.activation;
    el.regularization.value = config.regularization;
    el.noise.value = String(Math.round(config.noise * 100));
    el.ratio.value = String(Math.round(config.ratio * 100));
    el.reg_rate.value = String(config.reg_rate);
    el.lr.value = String(config.lr);
    el.batch_size.value = String(config.batch_size);
    el.seed.value = String(config.seed);
    el.init_seed.value = String(config.init_seed);
    for (const box of el.features.querySelectorAll('input')) box.checked = config.features.includes(box.value);
    el.addLayer.disabled = config.hidden.length >= MAX_LAYERS;
    el.removeLayer.disabled = config.hidden.length === 0;
    el.layers.replaceChildren(...config.hidden.map((width, k) => {
      const row = document.createElement('div');
      row.className = 'pg-layer';
      const name = Object.assign(document.createElement('span'), { textContent: `Layer ${k + 1}: ${width} neuron${width === 1 ? '' : 's'}` });
      const plus = Object.assign(document.createElement('button'), { type: 'button', textContent: '+', disabled: width >= MAX_NEURONS });
      plus.setAttribute('aria-label', 'Add neuron');
      plus.title = `Add a neuron to layer ${k + 1}`;
      const minus = Object.assign(document.createElement('button'), { type: 'button', textContent: '−', disabled: width <= 1 });
      minus.setAttribute('aria-label', 'Remove neuron');
      minus.title = `Remove a neuron from layer ${k + 1}`;
      plus.addEventListener('click', () => this.change({ hidden: changeNeurons(config.hidden, k, 1) }));
      minus.addEventListener('click', () => this.change({ hidden: changeNeurons(config.hidden, k, -1) }));
      row.append(name, minus, plus);
      return row;
    }));
  }
}
