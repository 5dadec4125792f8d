// The note under the loss chart when the run in focus trains with label smoothing: why its test
// loss can sit below its training loss. With smoothing ε the training targets are
// (1 − ε)·one-hot + ε/10, whose own entropy is the least cross-entropy any network can reach on
// them; the test loss is measured against the true labels, which a confident network can reach
// almost exactly (docs/training.md).

/** The least training loss with smoothing `eps` over 10 classes: the smoothed target's entropy. */
export function smoothedFloor(eps) {
  const right = 1 - eps + eps / 10;
  const other = eps / 10;
  return Math.max(0, -(right * Math.log(right) + (other > 0 ? 9 * other * Math.log(other) : 0)));
}

export class ChartNote {
  constructor(after) {
    this.el = Object.assign(document.createElement('p'), { className: 'chart-note', hidden: true });
    this.el.id = 'chart-note';
    after.after(this.el);
  }

  /** The note for `data`, the run in focus (run-data.js), or none. */
  show(data) {
    const eps = data ? Number(data.config.label_smoothing) : 0;
    const text = eps > 0 ? noteText(eps) : '';
    if (this.el.textContent === text) return;
    this.el.textContent = text;
    this.el.hidden = !text;
    this.el.dataset.labelSmoothing = String(eps || 0);
  }
}

function noteText(eps) {
  const right = +(1 - eps + eps / 10).toFixed(4);
  const other = +(eps / 10).toFixed(4);
  return `Label smoothing is on (ε = ${eps}): training aims at ${right} for the right digit and ${other} `
    + `for each other one, so its loss cannot fall below ${smoothedFloor(eps).toFixed(2)}. The test loss is `
    + 'measured against the true labels, so it can sit below the training loss.';
}
