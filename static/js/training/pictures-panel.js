// "What the network sees" on the Training tab, for the run in focus at the chosen step: the
// weights stored at the last epoch end before that step (epoch 0: before training) are what the
// server draws from. Asks pictures-client.js when the run or the epoch changes, never per frame,
// and drops answers that arrive after the choice moved on. The views each draw one thing:
// digit-strip.js, confusion-pairs.js, kernel-view.js, feature-maps.js.
import { DigitStrip, markPicked, stripDigits } from './digit-strip.js';
import { ConfusionPairs } from './confusion-pairs.js';
import { KernelView } from './kernel-view.js';
import { FeatureMaps } from './feature-maps.js';
import { DigitDrawing } from './digit-drawing.js';

export class PicturesPanel {
  /** `openGraph(ref)`: show a graph on the Graph tab (a digit's back-prop). */
  constructor(client, el, { openGraph }) {
    this.client = client;
    this.openGraph = openGraph;
    // {card, caption, strip, pairs, pairsCaption, kernels, maps, drawCanvas, drawClear, drawLabel,
    //  drawnMaps, openBackprop}
    this.el = el;
    const onPick = (i) => this.pickDigit(i);
    this.strip = new DigitStrip(el.strip, { onPick });
    this.pairs = new ConfusionPairs(el.pairs, el.pairsCaption, { onPick });
    this.kernels = new KernelView(el.kernels);
    this.maps = new FeatureMaps(el.maps);
    this.drawnMaps = new FeatureMaps(el.drawnMaps);
    this.drawing = new DigitDrawing({ canvas: el.drawCanvas, clear: el.drawClear, label: el.drawLabel },
      { onDrawn: () => this._scoreDrawing(), onClear: () => this._showDrawn(null) });
    this.drawn = 0; // drawings sent: an answer for an older one is dropped
    el.openBackprop.addEventListener('click', () => this._openBackprop());
    this.key = null; // "run epoch" shown or being fetched
    this.digits = null;
    this.picked = null; // the test digit whose maps are shown
    this.cell = null; // the confusion cell listed, [true, predicted]
    this.listeners = [];
    window.__pictures = this; // for the tests and the bench
  }

  /** Each text frame: the focused run's data and the epoch record at the chosen step. */
  show(data, epochRecord) {
    const resnet = data && (data.config.model || 'resnet') === 'resnet';
    const epoch = epochRecord ? epochRecord.epoch : 0;
    const key = !data ? 'none' : `${data.id} ${resnet ? epoch : 'other'}`;
    if (key === this.key) return undefined;
    if (!data) return this._say('Train the ResNet (or pick a run) to see its digits, kernels and feature maps.', key);
    if (!resnet) {
      return this._say('Digits, kernels and feature maps are drawn for the reference ResNet; this run trains another model.', key);
    }
    this.key = key;
    this.runId = data.id;
    this.epoch = epoch;
    this.runName = data.meta.name;
    this.el.card.dataset.state = 'loading';
    return this._load(key, data.id, epoch);
  }

  async _load(key, runId, epoch) {
    let digits;
    let history;
    try {
      [digits, history] = await Promise.all([this.client.testDigits(runId, epoch), this.client.kernels(runId, epoch)]);
    } catch (error) {
      if (key === this.key) this._say(`No pictures for this run: ${error.message}`, key);
      return;
    }
    if (key !== this.key) return;
    this.digits = digits;
    const right = digits.labels.reduce((n, label, i) => n + (label === digits.predicted[i]), 0);
    this.el.caption.textContent = `${epoch === 0 ? 'Before training' : `After epoch ${epoch}`}${this.runName ? ` of ${this.runName}` : ''}: `
      + `${right} of ${digits.count} test digits right. Click a digit for its feature maps.`;
    if (this.picked == null) this.picked = stripDigits(digits.labels)[0];
    this.strip.show(digits, this.picked);
    this.pairs.show(digits, this.cell, this.picked);
    this.kernels.show(history, epoch);
    if (this.drawing.strokes) this._scoreDrawing();
    await this._loadMaps(key);
  }

  async _loadMaps(key) {
    const i = this.picked;
    this.el.card.dataset.state = 'loading';
    let maps;
    try {
      maps = await this.client.digitMaps(this.runId, this.epoch, { digit: i });
    } catch (error) {
      if (key === this.key && i === this.picked) this._say(`Could not draw digit ${i}: ${error.message}`, key);
      return;
    }
    if (key !== this.key || i !== this.picked) return;
    this.lastMaps = maps;
    this.maps.show(maps, `Test digit ${i} (a ${maps.label})`);
    this.el.maps.dataset.digit = String(i);
    this.el.maps.dataset.epoch = String(maps.epoch);
    this.el.card.dataset.state = 'ready';
    for (const listener of this.listeners) listener(maps);
  }

  /** Score the drawing with the run's weights at the chosen epoch. */
  async _scoreDrawing() {
    const asked = ++this.drawn;
    const key = this.key;
    if (!this.digits) return;
    this.el.drawnMaps.dataset.state = 'loading';
    let maps;
    try {
      maps = await this.client.digitMaps(this.runId, this.epoch, { pixels: Array.from(this.drawing.pixels), label: this.drawing.label() });
    } catch (error) {
      if (asked === this.drawn) this._showDrawn(null, `Could not score the drawing: ${error.message}`);
      return;
    }
    if (asked !== this.drawn || key !== this.key) return;
    this._showDrawn(maps);
  }

  /** The drawing's scalar graph, with the weights it was scored with, on the Graph tab. */
  async _openBackprop() {
    const maps = this.lastDrawn;
    if (!maps) return;
    const button = this.el.openBackprop;
    button.disabled = true;
    try {
      const { ref } = await this.client.digitGraph(this.runId, maps.epoch,
        { pixels: Array.from(this.drawing.pixels), label: maps.target });
      await this.openGraph(ref);
    } catch (error) {
      this.el.drawnMaps.dataset.state = 'error';
      this.el.caption.textContent = `Could not open the drawing's back-prop: ${error.message}`;
    } finally {
      button.disabled = !this.lastDrawn;
    }
  }

  _showDrawn(maps, message = '') {
    this.drawnMaps.show(maps, 'Your drawing');
    this.lastDrawn = maps;
    this.el.openBackprop.disabled = !maps;
    const el = this.el.drawnMaps;
    if (maps) {
      el.dataset.state = 'ready';
      el.dataset.epoch = String(maps.epoch);
      el.dataset.strokes = String(this.drawing.strokes);
    } else {
      el.dataset.state = message ? 'error' : 'empty';
      if (message) el.textContent = message;
    }
  }

  pickDigit(i) {
    this.picked = i;
    if (!this.digits) return;
    this.strip.mark(i);
    markPicked(this.el.pairs, i);
    this._loadMaps(this.key);
  }

  /** A confusion-matrix cell was clicked: list its test images. */
  pickCell(t, p) {
    this.cell = [t, p];
    this.pairs.show(this.digits, this.cell, this.picked);
    this.el.pairs.scrollIntoView({ block: 'nearest' });
  }

  _say(message, key) {
    this.key = key;
    this.digits = null;
    this.el.caption.textContent = message;
    this.el.card.dataset.state = key === 'none' ? 'empty' : 'unavailable';
    this.strip.show(null);
    this.pairs.show(null, null);
    this.kernels.show(null);
    this.maps.show(null);
    this._showDrawn(null);
  }
}
