// The training curves, live: one SVG with two panels sharing the x axis (by step or by epoch), a
// legend naming each run drawn, its colour and whether it is diverging — loss (faint: each
// step's batch loss; bold: smoothed, a debiased EMA; dashed with dots: the test loss after each
// epoch) and accuracy (thin: the smoothed batch accuracy; solid: train accuracy per epoch;
// dashed: test accuracy per epoch). Every run drawn is one group of paths, coloured by run.
//
// This class is the chart's state and its interaction: which runs, the smoothing and scale, the
// picked step, hover readout, click and keys. The drawing is chart-panels.js (axes, dots,
// markers), chart-legend.js and chart-series.js (each run's appended paths, in steps: by epoch,
// each run's group is scaled by 1/its steps per epoch). draw() runs once per animation
// frame (frame-loop.js), however many records arrived since. Test hooks: the SVG's
// `data-points` is how many steps of the focused run are drawn (`data-run` names it).
import * as d3 from 'd3';
import { short } from '../shared/numbers.js';
import { invalidate } from '../shared/frame-loop.js';
import { chartDomains, createPanels, drawEpochDots, drawMarker, layoutPanels, legendWidth, xPerStep } from './chart-panels.js';
import { appendSeries, createSeries, removeSeries, restartSeries } from './chart-series.js';
import { drawChartLegend } from './chart-legend.js';
import { divergence } from './divergence.js';

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
    this.axis = 'step'; // or 'epoch'
    this.picked = null;
    this.runs = new Map(); // id → drawn run (chart-series.js)
    this.focusId = null;
    this.x = null;
    this.svg = d3.select(container).append('svg').attr('class', 'chart')
      .attr('role', 'img').attr('aria-label', 'Training loss and accuracy per step')
      .attr('tabindex', 0).attr('data-points', 0);
    this.panels = createPanels(this.svg, `chart${++chartCount}`);
    this.legendGroup = this.svg.select('.chart-legend');
    this.legendKey = '';
    this.legendHeight = 0;
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

  /** The x axis: 'step' or 'epoch' (runs of different batch sizes line up epoch by epoch). */
  setAxis(axis) {
    this.axis = axis === 'epoch' ? 'epoch' : 'step';
    this.svg.attr('data-axis', this.axis);
    this.dirtyLayout = true;
    drawMarker(this.panels, this._px(), 'pick', this.picked);
  }

  /** x units per step of `run` on the current axis. */
  _k(run) {
    return run ? xPerStep(run.data, this.axis) : 1;
  }

  /** step → pixel for `run` (the focused one by default), or null before the first layout. */
  _px(run = this.runs.get(this.focusId)) {
    if (!this.x) return null;
    const k = this._k(run);
    return (step) => this.x(step * k);
  }

  _restartAll() {
    for (const run of this.runs.values()) restartSeries(run, this);
    this.dirtyLayout = true;
  }

  /** Mark a step (the blocks show it), or null. */
  setPicked(step) {
    this.picked = step;
    drawMarker(this.panels, this._px(), 'pick', step);
  }

  /** The legend, redrawn when the runs drawn, their names, colours or hints changed; true if
   * its height changed (the panels move). */
  _legend() {
    const entries = [...this.runs.values()].map((run) => ({ id: run.data.id, name: run.data.meta.name || run.data.id,
      color: run.color, focus: run.focus, diverged: !!divergence(run.data) }));
    const key = JSON.stringify([entries, this.size]);
    if (key === this.legendKey) return false;
    this.legendKey = key;
    const height = drawChartLegend(this.legendGroup, entries, legendWidth(this.size[0]));
    if (height === this.legendHeight) return false;
    this.legendHeight = height;
    return true;
  }

  /** Once per frame: append what arrived, rescale if needed. Cheap when nothing changed. */
  draw() {
    if (!this.size || !this.size[0] || !this.size[1]) return;
    for (const run of this.runs.values()) appendSeries(run, this.log);
    if (this._legend()) this.dirtyLayout = true;
    const domains = chartDomains(this.runs.values(), this.log, this.axis);
    if (this.dirtyLayout || domains.key !== this.domainKey) {
      this.dirtyLayout = false;
      this.domainKey = domains.key;
      this.x = layoutPanels(this.svg, this.panels, { size: this.size, domains, log: this.log,
        legend: this.legendHeight, axis: this.axis });
      for (const run of this.runs.values()) {
        const k = this._k(run);
        run.groups.slice(0, 2).forEach((g) => g.attr('transform', k === 1 ? null : `scale(${k},1)`));
        drawEpochDots(run, this.panels, this._px(run), this.log);
      }
      drawMarker(this.panels, this._px(), 'pick', this.picked);
    } else {
      for (const run of this.runs.values()) if (run.dotsDirty) drawEpochDots(run, this.panels, this._px(run), this.log);
    }
    const focus = this.runs.get(this.focusId);
    const points = focus ? focus.drawn : 0;
    const node = this.svg.node();
    if (node.dataset.points !== String(points)) node.dataset.points = String(points);
    if ((node.dataset.run || '') !== (this.focusId || '')) node.dataset.run = this.focusId || '';
  }

  // -- interaction ---------------------------------------------------------------------------

  /** The step (of the focused run, whose steps the pick and the blocks are in) under pixel `px`. */
  _stepAt(px) {
    if (!this.x) return null;
    const k = this._k(this.runs.get(this.focusId));
    return Math.max(1, Math.min(this._lastStep() || 1, Math.round(this.x.invert(px) / k)));
  }

  /** The last step of any run drawn, in the focused run's steps. */
  _lastStep() {
    const k = this._k(this.runs.get(this.focusId));
    let last = 0;
    for (const run of this.runs.values()) last = Math.max(last, Math.round((run.data.lastStep() * this._k(run)) / k));
    return last;
  }

  _hover(px) {
    const step = px == null ? null : this._stepAt(px);
    this.hovering = step != null;
    drawMarker(this.panels, this._px(), 'hover', step);
    this.readout.textContent = readoutText(this.runs.values(), step ?? this.picked, (run) => this._k(run));
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
    const text = readoutText(this.runs.values(), this.picked, (run) => this._k(run));
    if (this.readout.textContent !== text) this.readout.textContent = text;
  }
}

/** The readout at `step` of the focused run: it in full, the others' smoothed loss at the same
 * place on the x axis (`k(run)`: x units per step — by epoch, the others' own step there). */
function readoutText(runs, step, k) {
  if (step == null) return HINT;
  const parts = [];
  const ordered = [...runs].sort((a, b) => b.focus - a.focus);
  const at = ordered.length && ordered[0].focus ? step * k(ordered[0]) : step;
  for (const run of ordered) {
    const i = run.data.indexOfStep(Math.round(at / k(run)));
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
