// A strip of test digits at the chosen epoch: each with the class the network predicts and how
// sure it is; a misclassified one is marked (red frame and ✗, not colour alone). Two of each
// class, the first in the test set's order, so the strip shows the same digits at every epoch
// and a learner sees them change. Clicking one picks it for the feature maps.
import * as d3 from 'd3';
import { pixelMap } from './pixel-map.js';

const PER_CLASS = 2;
const percent = d3.format('.0%');

/** The indices the strip shows: the first PER_CLASS test digits of each class. */
export function stripDigits(labels, classes = 10) {
  const chosen = [];
  for (let c = 0; c < classes; c++) {
    let n = 0;
    for (let i = 0; i < labels.length && n < PER_CLASS; i++) if (labels[i] === c) { chosen.push(i); n++; }
  }
  return chosen;
}

/** A button showing test digit `i` of `digits` (a PicturesClient.testDigits answer). */
export function digitButton(digits, i, { onPick, picked = false } = {}) {
  const size = digits.size;
  const label = digits.labels[i];
  const predicted = digits.predicted[i];
  const wrong = label !== predicted;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `digit${wrong ? ' wrong' : ''}`;
  button.dataset.digit = String(i);
  button.dataset.true = String(label);
  button.dataset.predicted = String(predicted);
  button.setAttribute('aria-pressed', String(picked));
  const sure = percent(digits.probability[i]);
  button.title = `test digit ${i}: a ${label}, predicted ${predicted} (${sure})${wrong ? ' — wrong' : ''}`;
  button.setAttribute('aria-label', button.title);
  button.append(pixelMap(digits.pixels.subarray(i * size * size, (i + 1) * size * size), size,
    { kind: 'ink', lo: 0, hi: 16, scale: 2 }));
  const caption = document.createElement('span');
  caption.className = 'digit-caption';
  caption.textContent = `${wrong ? '✗ ' : ''}${predicted} ${sure}`;
  button.append(caption);
  button.addEventListener('click', () => onPick && onPick(i));
  return button;
}

export class DigitStrip {
  constructor(container, { onPick }) {
    this.container = container;
    this.onPick = onPick;
  }

  show(digits, picked) {
    if (!digits) {
      this.container.replaceChildren();
      return;
    }
    const buttons = stripDigits(digits.labels).map((i) => digitButton(digits, i, { onPick: this.onPick, picked: i === picked }));
    this.container.replaceChildren(...buttons);
    this.container.dataset.epoch = String(digits.epoch);
  }

  /** Mark `picked` as the chosen digit, without drawing the strip again. */
  mark(picked) {
    markPicked(this.container, picked);
  }
}

/** The digit buttons in `container`: only `picked`'s pressed. */
export function markPicked(container, picked) {
  for (const button of container.querySelectorAll('.digit')) {
    button.setAttribute('aria-pressed', String(Number(button.dataset.digit) === picked));
  }
}
