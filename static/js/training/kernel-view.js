// Both conv kernels at the chosen epoch as 3×3 heat maps with their numbers, and each kernel's
// history over the run: one small 3×3 per stored epoch (0 = before training), the chosen one
// framed. One diverging scale per layer over its whole history, so a weight that grows reads
// as a deeper colour, not as the same colour on a new scale.
import * as d3 from 'd3';
import { wantsWhiteText } from '../shared/colors.js';
import { mapScale, pixelMap } from './pixel-map.js';

const WEIGHTS = 9;
const PER_LAYER = WEIGHTS + 1; // then the bias
const fixed = d3.format('+.2f');

export class KernelView {
  constructor(container) {
    this.container = container;
  }

  /** `history`: a PicturesClient.kernels answer; `epoch`: the one to show large. */
  show(history, epoch) {
    if (!history || !history.epochs.length) {
      this.container.replaceChildren();
      return;
    }
    const at = Math.max(0, history.epochs.indexOf(epoch));
    const stride = history.layers.length * PER_LAYER;
    const cards = history.layers.map((layer, k) => {
      const weightsAt = (e) => history.kernels.subarray(e * stride + k * PER_LAYER, e * stride + k * PER_LAYER + WEIGHTS);
      const all = [];
      history.epochs.forEach((_, e) => all.push(...weightsAt(e)));
      const color = mapScale('diverging', all);
      const card = document.createElement('figure');
      card.className = 'kernel';
      card.dataset.layer = layer;
      const bias = history.kernels[at * stride + k * PER_LAYER + WEIGHTS];
      const caption = document.createElement('figcaption');
      caption.textContent = `${layer} kernel, epoch ${history.epochs[at]} (bias ${fixed(bias)})`;
      card.append(caption, kernelTable(weightsAt(at), color, layer), historyStrip(history.epochs, weightsAt, all, at, layer));
      return card;
    });
    this.container.replaceChildren(...cards);
    this.container.dataset.epoch = String(history.epochs[at]);
  }
}

function kernelTable(weights, color, layer) {
  const table = document.createElement('table');
  table.className = 'kernel-table';
  table.setAttribute('aria-label', `${layer}'s 3×3 kernel`);
  for (let r = 0; r < 3; r++) {
    const row = table.insertRow();
    for (let c = 0; c < 3; c++) {
      const w = weights[3 * r + c];
      const td = row.insertCell();
      td.textContent = fixed(w);
      td.dataset.value = String(w);
      td.style.background = color(w);
      td.classList.toggle('dark', wantsWhiteText(color(w)));
    }
  }
  return table;
}

function historyStrip(epochs, weightsAt, all, at, layer) {
  const strip = document.createElement('div');
  strip.className = 'kernel-history';
  strip.setAttribute('aria-label', `${layer}'s kernel at each epoch`);
  const [lo, hi] = [-d3.max(all, Math.abs), d3.max(all, Math.abs)];
  epochs.forEach((epoch, e) => {
    const item = document.createElement('span');
    item.className = `kernel-epoch${e === at ? ' current' : ''}`;
    item.dataset.epoch = String(epoch);
    item.append(pixelMap(weightsAt(e), 3, { kind: 'diverging', lo, hi, scale: 10, label: `${layer} at epoch ${epoch}` }));
    const label = document.createElement('span');
    label.textContent = String(epoch);
    item.append(label);
    strip.append(item);
  });
  return strip;
}
