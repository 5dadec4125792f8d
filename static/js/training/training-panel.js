// The training form: model (the reference ResNet, the MLP, or the network spec the page has
// loaded), epochs, batch size, optimiser, learning rate, momentum, seed, width, shift, label
// smoothing and a name;
// the buttons "Train" and "Stop"; and the progress of the run in focus — steps done, epoch, time
// left. It sends nothing itself: onTrain(payload) and onStop() say what the user asked for.
import { thousands } from '../shared/numbers.js';
import { divergence } from './divergence.js';

const DEFAULT_LR = { adam: 0.003, sgd: 0.05 }; // docs/training.md

export class TrainingPanel {
  /** onTrain(payload), onStop(), onModel(): the model choice changed. */
  constructor(root, { onTrain, onStop, onModel = () => {} }) {
    this.root = root;
    this.form = root.querySelector('#train-form');
    this.field = (name) => this.form.elements.namedItem(name);
    this.trainButton = root.querySelector('#train');
    this.stopButton = root.querySelector('#stop');
    this.progress = root.querySelector('#train-progress');
    this.progressText = root.querySelector('#train-progress-text');
    this.status = root.querySelector('#train-status');
    this.message = root.querySelector('#train-message');
    // A diverging run's hint (divergence.js), under its progress.
    this.hint = Object.assign(document.createElement('p'), { className: 'train-hint', hidden: true });
    this.hint.setAttribute('role', 'status');
    this.progressText.after(this.hint);
    this.network = null;
    this.lastText = '';
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.form.reportValidity()) return;
      onTrain(this.values());
    });
    this.stopButton.addEventListener('click', () => onStop());
    this.field('optimizer').addEventListener('change', () => this._optimizerChanged());
    this.field('model').addEventListener('change', () => {
      this._modelChanged();
      onModel();
    });
    this.optimizer = this.field('optimizer').value;
    this._optimizerChanged();
    this._modelChanged();
  }

  /** The payload of `train` (docs/protocol.md): {model | graph, epochs, batch_size, lr, …}. */
  values() {
    const number = (name) => Number(this.field(name).value);
    const payload = {
      epochs: number('epochs'), batch_size: number('batch_size'), lr: number('lr'),
      optimizer: this.field('optimizer').value, momentum: number('momentum'), seed: number('seed'),
      width: number('width'), shift: number('shift'),
      label_smoothing: number('label_smoothing'),
    };
    const model = this.field('model').value;
    if (model === 'network' && this.network) payload.graph = this.network.ref;
    else payload.model = model;
    const name = this.field('name').value.trim();
    if (name) payload.name = name;
    return payload;
  }

  /**
   * The network spec the page has loaded (trainable with train {graph}), or null; `select`:
   * make it the model to train (a spec the user has just loaded).
   */
  setNetwork(network, { select = false } = {}) {
    this.network = network;
    const option = this.field('model').querySelector('option[value=network]');
    option.disabled = !network;
    option.textContent = network ? `This network spec: ${network.name}` : 'A network spec (load one first)';
    if (!network && this.field('model').value === 'network') this.field('model').value = 'resnet';
    else if (network && select) this.field('model').value = 'network';
    this._modelChanged();
  }

  setBusy(busy) {
    this.trainButton.disabled = busy;
  }

  showError(message) {
    this.message.hidden = !message;
    this.message.textContent = message || '';
  }

  /** Progress of `data` (run-data.js), the run in focus; null: none. Cheap when unchanged. */
  showRun(data) {
    const status = data ? data.status : '';
    this.stopButton.disabled = status !== 'running' || !!data.meta.visiting; // (a shared run is its owner's to stop)
    const text = data ? this._describe(data) : 'No run yet: set the options and press Train.';
    const steps = data ? data.lastStep() : 0;
    const planned = data ? (data.status === 'completed' ? steps : data.plannedSteps()) : 1;
    if (this.progress.max !== Math.max(1, planned)) this.progress.max = Math.max(1, planned);
    if (this.progress.value !== steps) this.progress.value = steps;
    Object.assign(this.progress.dataset, { steps: String(steps), planned: String(planned), status });
    if (text !== this.lastText) {
      this.lastText = text;
      this.progressText.textContent = text;
    }
    if (this.status.textContent !== status) this.status.textContent = status;
    this.status.dataset.status = status;
    this._hint(data ? divergence(data) : null);
  }

  _hint(verdict) {
    const text = verdict ? verdict.text : '';
    if (this.hint.textContent === text) return;
    this.hint.textContent = text;
    this.hint.hidden = !verdict;
    if (verdict) this.hint.dataset.step = String(verdict.step);
    else delete this.hint.dataset.step;
  }

  _describe(data) {
    const steps = data.lastStep();
    const planned = data.plannedSteps();
    const epochs = data.config.epochs || 1;
    const epoch = data.n ? data.columns.epoch.data[data.n - 1] : 0;
    const accuracy = data.finalAccuracy();
    const acc = accuracy == null ? '' : ` · test accuracy ${(100 * accuracy).toFixed(1)}%`;
    const seconds = data.n ? data.columns.seconds.data[data.n - 1] : 0;
    switch (data.status) {
      case 'running': {
        if (!data.n) return `Starting… (${thousands(planned)} steps planned)`;
        const left = data.secondsLeft();
        return `${thousands(steps)} / ${thousands(planned)} steps · epoch ${epoch} of ${epochs}`
          + `${left == null ? '' : ` · ${duration(left)} left`}`;
      }
      case 'completed':
        return `${thousands(steps)} / ${thousands(steps)} steps · ${data.epochs.length} `
          + `epoch${data.epochs.length === 1 ? '' : 's'} in ${duration(seconds)}${acc}`;
      default:
        return `${data.status} at step ${thousands(steps)} of ${thousands(planned)} (epoch ${epoch} of ${epochs})${acc}`;
    }
  }

  _optimizerChanged() {
    const optimizer = this.field('optimizer').value;
    const lr = this.field('lr');
    // Keep a learning rate the user typed; swap the default for the other optimiser's.
    if (Number(lr.value) === DEFAULT_LR[this.optimizer] || !lr.value) lr.value = String(DEFAULT_LR[optimizer]);
    this.optimizer = optimizer;
    this.field('momentum').disabled = optimizer !== 'sgd';
  }

  _modelChanged() {
    this.field('width').disabled = this.field('model').value === 'network';
  }
}

function duration(seconds) {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}
