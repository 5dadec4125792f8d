// A mark on the timeline where the forward pass ends and back-prop begins, so a learner sees
// the two halves of the scrubber (and where "Both" crosses from one to the other).

export class PhaseMark {
  /** `id`: the mark's element id (null for none: a notebook shows several widgets). */
  constructor(scrubber, { id = 'phase-mark' } = {}) {
    this.scrubber = scrubber;
    this.mark = document.createElement('div');
    this.mark.className = 'phase-mark';
    if (id) this.mark.id = id;
    this.mark.setAttribute('aria-hidden', 'true');
    this.mark.innerHTML = '<span class="phase-label">back-prop ▸</span>';
    this.mark.title = 'Forward pass ends here; back-prop begins';
    scrubber.parentElement.classList.add('has-phase-mark');
    scrubber.after(this.mark);
    this.key = null;
  }

  /** Where the mark goes for `state` (a TraceState, or null): hidden unless both halves show. */
  update(state) {
    const t = state && state.timeline;
    const min = +this.scrubber.min;
    const max = +this.scrubber.max;
    const at = t ? t.forwardCount : -1;
    const key = `${min}|${max}|${at}|${this.scrubber.offsetWidth}`;
    if (key === this.key) return;
    this.key = key;
    const visible = t && at > min && at < max;
    this.mark.hidden = !visible;
    if (!visible) return;
    // The thumb's centre travels from half a thumb in from each end.
    const thumb = 16;
    const width = this.scrubber.offsetWidth;
    const x = thumb / 2 + ((at - min) / (max - min)) * (width - thumb);
    this.mark.style.left = `${this.scrubber.offsetLeft + x}px`;
    this.mark.dataset.at = String(at);
  }
}
