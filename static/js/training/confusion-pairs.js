// The test images behind one confusion-matrix cell: every digit whose true class is `t` and
// predicted class `p` at the chosen epoch. Clicking one picks it for the feature maps.
import { digitButton } from './digit-strip.js';

const MOST = 60; // images listed at once; the caption says how many there are

export class ConfusionPairs {
  constructor(container, caption, { onPick }) {
    this.container = container;
    this.caption = caption;
    this.onPick = onPick;
    this.cell = null;
  }

  /** Show the (true, predicted) cell's images of `digits`; null cell: nothing chosen yet. */
  show(digits, cell, picked) {
    this.cell = cell;
    if (!digits || !cell) {
      this.container.replaceChildren();
      this.container.hidden = true;
      this.caption.textContent = digits ? 'Click a cell of the confusion matrix to see its test images.' : '';
      return;
    }
    const [t, p] = cell;
    const indices = [];
    for (let i = 0; i < digits.count; i++) if (digits.labels[i] === t && digits.predicted[i] === p) indices.push(i);
    const what = t === p ? `${t}s read right` : `${t}s read as ${p}`;
    this.caption.textContent = `${what}: ${indices.length} test image${indices.length === 1 ? '' : 's'} at epoch ${digits.epoch}`
      + (indices.length > MOST ? ` (the first ${MOST} shown)` : '') + '.';
    this.container.dataset.true = String(t);
    this.container.dataset.predicted = String(p);
    this.container.replaceChildren(...indices.slice(0, MOST).map((i) => digitButton(digits, i, { onPick: this.onPick, picked: i === picked })));
    this.container.hidden = false;
  }
}
