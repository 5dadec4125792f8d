// The training curves, live: one SVG with two panels sharing the step axis — loss (faint: each
// step's batch loss; bold: smoothed, a debiased EMA; dashed with dots: the test loss after each
// epoch) and accuracy (thin: the smoothed batch accuracy; solid: train accuracy per epoch;
// dashed: test accuracy per epoch). Every run drawn is one group of paths, coloured by run.
//
// This class is the chart's state and its interaction: which runs, the smoothing and scale, the
// picked step, hover readout, click and keys. The drawing is chart-panels.js (axes, dots,
// markers) and chart-series.js (each run's appended paths). draw() runs once per animation
// frame (frame-loop.js), however many records arrived since. Test hooks: the SVG's
// `data-points` is how many steps of the focused run are drawn (`data-run` names it).
import * as d3 from 'd3';
import { short } from '../shared/numbers.js';
import { invalidate } from '../shared/frame-loop.js';
import { chartDomains, createPanels, drawEpochDots, drawMarker, layoutPanels } from './chart-panels.js';
import { appendSeries, createSeries, removeSeries, restartSeries } from './chart-series.js';

const pct = d3.format('.1%');
const HINT = 'Hover over the curves to read them; click to see the network at that step.';
let chartCount = 0;

export class LossChart {
  /** onPick(step | null): a step was clicked (null: back to the latest). */
  constructor(container, readout, { onPick = () => {} } = {}) {
    this.readout = readout;
    this.onPick = onPick;
    this.kind = 'svg';
    this.weight = 0.6;
    this.log = false;
    this.picked = null;
    this.runs = new Map(); // id → drawn run (chart-series.js)
    this.focusId = null;
    this.x = null;
    this.svg = d3.select(container).append('svg').attr('class', 'chart')
      .attr('role', 'img').attr('aria-label', 'Training loss and accuracy per step')
      .attr('tabindex', 0).attr('data-points', 0);
    this.panels = createPanels(this.svg, `chart${++chartCount}`);
    for (const panel of this.panels) {
      const at = (event) => d3.pointer(event, panel.g.node())[0];
      panel.mouse.on('pointermove', (event) => this._hover(at(event)))
        .on('pointerleave', () => this._hover(null))
        .on('click', (event) => this.onPick(this._stepAt(at(event))));
    }
    this.svg.on('keydown', (event) => this._key(event));
    this.size = null;
    this.dirtyLayout = true;
    // The size comes from a ResizeObserver (after layout), never from reading clientWidth in a
    // frame: that would force the browser to lay out the whole page then and there.
    new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      this.size = [Math.round(width), Math.round(height)];
      this.dirtyLayout = true;
      invalidate();
    }).observe(container);
  }

  get element() {
    return this.svg.node();
  }

  /** The runs to draw: [{data: RunData, color, focus}]. Runs no longer listed are removed. */
  setRuns(list) {
    const keep = new Set(list.map((r) => r.data.id));
    for (const [id, run] of this.runs) {
      if (!keep.has(id)) {
        removeSeries(run);
        this.runs.delete(id);
      }
    }
    this.focusId = null;
    for (const { data, color, focus } of list) {
      let run = this.runs.get(data.id);
      if (!run || run.data !== data) {
        if (run) removeSeries(run);
        run = createSeries(this.panels, data, this);
        this.runs.set(data.id, run);
      }
      run.color = color;
      run.focus = !!focus;
      if (focus) this.focusId = data.id;
      run.groups.forEach((g) => g.style('color', color).classed('focus', !!focus).raise());
    }
    for (const run of this.runs.values()) if (run.focus) run.groups.forEach((g) => g.raise());
    this.dirtyLayout = true;
  }

  setSmoothing(weight) {
    this.weight = weight;
    this._restartAll();
  }

  setLog(on) {
    this.log = on;
    this._restartAll();
  }

  _restartAll() {
    for (const run of this.runs.values()) restartSeries(run, this);
    this.dirtyLayout = true;
  }

  /** Mark a step (the blocks show it), or null. */
  setPicked(step) {
    this.picked = step;
    drawMarker(this.panels, this.x, 'pick', step);
  }

  /** Once per frame: append what arrived, rescale if needed. Cheap when nothing changed. */
  draw() {
    if (!this.size || !this.size[0] || !this.size[1]) return;
    for (const run of this.runs.values()) appendSeries(run, this.log);
    const domains = chartDomains(this.runs.values(), this.log);
    if (this.dirtyLayout || domains.key !== this.domainKey) {
      this.dirtyLayout = false;
      this.domainKey = domains.key;
      this.x = layoutPanels(this.svg, this.panels, { size: this.size, domains, log: this.log });
      for (const run of this.runs.values()) drawEpochDots(run, this.panels, this.x, this.log);
      drawMarker(this.panels, this.x, 'pick', this.picked);
    } else {
      for (const run of this.runs.values()) if (run.dotsDirty) drawEpochDots(run, this.panels, this.x, this.log);
    }
    const focus = this.runs.get(this.focusId);
    const points = focus ? focus.drawn : 0;
    const node = this.svg.node();
    if (node.dataset.points !== String(points)) node.dataset.points = String(points);
    if ((node.dataset.run || '') !== (this.focusId || '')) node.dataset.run = this.focusId || '';
  }

  // -- interaction ---------------------------------------------------------------------------

  _stepAt(px) {
    if (!this.x) return null;
    return Math.max(1, Math.min(this._lastStep() || 1, Math.round(this.x.invert(px))));
  }

  _lastStep() {
    let last = 0;
    for (const run of this.runs.values()) last = Math.max(last, run.data.lastStep());
    return last;
  }

  _hover(px) {
    const step = px == null ? null : this._stepAt(px);
    this.hovering = step != null;
    drawMarker(this.panels, this.x, 'hover', step);
    this.readout.textContent = readoutText(this.runs.values(), step ?? this.picked);
  }

  _key(event) {
    const last = this._lastStep();
    if (!last) return;
    const now = this.picked ?? last;
    const jump = event.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: now - jump, ArrowRight: now + jump, Home: 1, End: last };
    if (event.key === 'Escape') this.onPick(null);
    else if (event.key in moves) this.onPick(Math.max(1, Math.min(last, moves[event.key])));
    else return;
    event.preventDefault();
  }

  /** Called when the picked step or the data moved: the readout follows. */
  refreshReadout() {
    if (this.hovering) return;
    const text = readoutText(this.runs.values(), this.picked);
    if (this.readout.textContent !== text) this.readout.textContent = text;
  }
}

/** The readout at `step`: the focused run in full, the others' smoothed loss. */
function readoutText(runs, step) {
  if (step == null) return HINT;
  const parts = [];
  const ordered = [...runs].sort((a, b) => b.focus - a.focus);
  for (const run of ordered) {
    const i = run.data.indexOfStep(step);
    if (i < 0) continue;
    const d = run.data;
    const s = d.columns.step.data[i];
    const e = d.epochAt(s);
    if (run.focus) {
      parts.push(`step ${s} · epoch ${d.columns.epoch.data[i]} — loss ${short(d.columns.loss.data[i])}`
        + ` (smoothed ${short(run.smoothed[i])}), batch accuracy ${pct(d.columns.accuracy.data[i])}`
        + (e ? ` · after epoch ${e.epoch}: test loss ${short(e.test_loss)}, test accuracy ${pct(e.test_accuracy)}` : ''));
    } else parts.push(`${d.meta.name}: smoothed ${short(run.smoothed[i])}`);
  }
  return parts.join(' · ') || `step ${step}`;
}
