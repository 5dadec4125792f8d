// Marks on the timeline where one phase ends and the next begins: the forward pass and back-prop
// (so a learner sees the two halves of the scrubber, and where "Both" crosses from one to the
// other), and, in a trace that follows a descent step, the step's own phase before them
// (update ▸ at the start, forward ▸ where the forward pass runs again).

const UPDATE_LABEL = 58; // px taken by "update ▸"

export class PhaseMark {
  /** `id`: the back-prop mark's element id (null for none: a notebook shows several widgets). */
  constructor(scrubber, { id = 'phase-mark' } = {}) {
    this.scrubber = scrubber;
    this.mark = mark('phase-mark', 'back-prop ▸', 'Forward pass ends here; back-prop begins');
    if (id) this.mark.id = id;
    this.update_ = mark('step-mark update-mark', 'update ▸', 'The descent step: each input moves against its gradient');
    this.forward = mark('step-mark forward-mark', 'forward ▸', 'The gradients are zeroed; the forward pass runs again with the new values');
    scrubber.parentElement.classList.add('has-phase-mark');
    scrubber.after(this.mark, this.update_, this.forward);
    this.key = null;
  }

  /** Where the marks go for `state` (a TraceState, or null): each hidden unless inside the range. */
  update(state) {
    const t = state && state.timeline;
    const min = +this.scrubber.min;
    const max = +this.scrubber.max;
    const at = t ? t.forwardCount : -1;
    const step = t ? t.updateCount : 0;
    const key = `${min}|${max}|${at}|${step}|${this.scrubber.offsetWidth}`;
    if (key === this.key) return;
    this.key = key;
    this._place(this.mark, t && at > min && at < max ? at : null, min, max);
    this._place(this.update_, t && step > 0 && min === 0 ? 0 : null, min, max);
    this._place(this.forward, t && step > 0 && step < max ? step : null, min, max);
    // A short update phase: the forward label starts after the update label, not over it.
    const gap = parseFloat(this.forward.style.left) - parseFloat(this.update_.style.left);
    const label = this.forward.querySelector('.phase-label');
    label.style.left = !this.update_.hidden && !this.forward.hidden && gap < UPDATE_LABEL ? `${UPDATE_LABEL - gap}px` : '';
  }

  _place(el, at, min, max) {
    el.hidden = at === null;
    if (at === null) return;
    // The thumb's centre travels from half a thumb in from each end.
    const thumb = 16;
    const width = this.scrubber.offsetWidth;
    const x = thumb / 2 + ((at - min) / Math.max(1, max - min)) * (width - thumb);
    el.style.left = `${this.scrubber.offsetLeft + x}px`;
    el.dataset.at = String(at);
  }
}

function mark(className, text, title) {
  const el = document.createElement('div');
  el.className = className;
  el.setAttribute('aria-hidden', 'true');
  el.innerHTML = `<span class="phase-label">${text}</span>`;
  el.title = title;
  return el;
}
