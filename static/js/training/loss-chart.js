// The training curves, live: one SVG with two panels sharing the step axis — loss (faint: each
// step's batch loss; bold: smoothed, a debiased EMA; dashed with dots: the test loss after each
// epoch) and accuracy (thin: the smoothed batch accuracy; solid: train accuracy per epoch;
// dashed: test accuracy per epoch). Every run drawn is one group of paths, coloured by run.
//
// Appending, not redrawing (after TensorFlow Playground's AppendingLineChart): each series is
// path data written in data coordinates (x = step, y = value) that only grows, kept in chunks
// of 128 points (appending-path.js) so that only the last chunk's <path> changes; the panel
// maps data to pixels with one transform, so a new step costs a string append and a rescaled
// axis costs one attribute. draw() runs once per animation frame (frame-loop.js),
// however many records arrived since. Test hooks: the SVG's `data-points` is how many steps of
// the focused run are drawn (`data-run` names it); each run's group carries its own.
import * as d3 from 'd3';
import { AppendingPath } from './appending-path.js';
import { Ema } from './smoothing.js';
import { short } from '../shared/numbers.js';
import { invalidate } from '../shared/frame-loop.js';

const M = { top: 22, right: 18, bottom: 26, left: 50 };
const GAP = 34; // between the panels
const LOSS_SHARE = 0.58;
const MAX_DOTS = 60; // epochs beyond this are drawn as lines only
const pct = d3.format('.1%');
let chartCount = 0;

export class LossChart {
  /** onPick(step | null): a step was clicked (null: back to the latest). */
  constructor(container, readout, { onPick = () => {} } = {}) {
    this.container = container;
    this.readout = readout;
    this.onPick = onPick;
    this.kind = 'svg';
    this.weight = 0.6;
    this.log = false;
    this.picked = null;
    this.runs = new Map(); // id → drawn run (see _series)
    this.focusId = null;
    this.id = `chart${++chartCount}`;
    this.svg = d3.select(container).append('svg').attr('class', 'chart')
      .attr('role', 'img').attr('aria-label', 'Training loss and accuracy per step')
      .attr('tabindex', 0).attr('data-points', 0);
    const root = this.svg.append('g').attr('class', 'chart-root');
    this.panels = ['loss', 'accuracy'].map((name) => {
      const clip = `${this.id}-${name}-clip`;
      this.svg.insert('defs', ':first-child').append('clipPath').attr('id', clip).append('rect');
      const g = root.append('g').attr('class', `panel ${name}`);
      const panel = { name, g, clip, y0: 0, y1: 1, x: null, y: null };
      panel.grid = g.append('g').attr('class', 'grid');
      panel.xAxis = g.append('g').attr('class', 'axis x');
      panel.yAxis = g.append('g').attr('class', 'axis y');
      panel.title = g.append('text').attr('class', 'panel-title').attr('y', -8)
        .text(name === 'loss' ? 'Loss (cross-entropy)' : 'Accuracy');
      panel.key = g.append('text').attr('class', 'panel-key').attr('y', -8).attr('text-anchor', 'end')
        .text(name === 'loss' ? 'faint: each step · bold: smoothed · dashed: test, per epoch'
          : 'thin: batch, smoothed · solid: train · dashed: test, per epoch');
      panel.plot = g.append('g').attr('clip-path', `url(#${clip})`);
      panel.data = panel.plot.append('g').attr('class', 'data');
      panel.marks = panel.plot.append('g').attr('class', 'marks');
      panel.hover = g.append('line').attr('class', 'hover-line').style('display', 'none');
      panel.pick = g.append('line').attr('class', 'pick-line').style('display', 'none');
      panel.mouse = g.append('rect').attr('class', 'mouse');
      return panel;
    });
    root.append('text').attr('class', 'axis-label').text('step');
    for (const panel of this.panels) {
      panel.mouse.on('pointermove', (event) => this._hover(d3.pointer(event, panel.g.node())[0]))
        .on('pointerleave', () => this._hover(null))
        .on('click', (event) => this.onPick(this._stepAt(d3.pointer(event, panel.g.node())[0])));
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
        run.groups.forEach((g) => g.remove());
        this.runs.delete(id);
      }
    }
    this.focusId = null;
    for (const { data, color, focus } of list) {
      let run = this.runs.get(data.id);
      if (!run || run.data !== data) {
        if (run) run.groups.forEach((g) => g.remove());
        run = this._series(data);
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
    for (const run of this.runs.values()) this._restart(run);
  }

  setLog(on) {
    this.log = on;
    for (const run of this.runs.values()) this._restart(run);
  }

  /** Mark a step (the blocks show it), or null. */
  setPicked(step) {
    this.picked = step;
    this._marker('pick', step);
  }

  _series(data) {
    const [lossPanel, accPanel] = this.panels;
    const lg = lossPanel.data.append('g').attr('class', 'run').attr('data-run', data.id);
    const ag = accPanel.data.append('g').attr('class', 'run').attr('data-run', data.id);
    const path = (g, cls) => g.append('path').attr('class', cls).attr('vector-effect', 'non-scaling-stroke');
    const series = (g, cls) => ({ cls, g: g.append('g').attr('class', `series ${cls}`), frozen: 0 });
    const run = { data, groups: [lg, ag],
      el: { raw: series(lg, 'raw'), smooth: series(lg, 'smooth'), test: path(lg, 'test'),
        accSmooth: series(ag, 'acc-smooth'), accTrain: path(ag, 'acc-train'), accTest: path(ag, 'acc-test') },
      dots: [lossPanel.marks.append('g').attr('class', 'dots').attr('data-run', data.id),
        accPanel.marks.append('g').attr('class', 'dots').attr('data-run', data.id)] };
    run.groups.push(...run.dots);
    this._restart(run);
    return run;
  }

  /** Forget what was drawn of a run (new smoothing or axis): the next draw redoes it once. */
  _restart(run) {
    for (const key of ['raw', 'smooth', 'accSmooth']) {
      run.el[key].g.selectAll('path').remove();
      run.el[key].frozen = 0;
      run.el[key].tail = run.el[key].g.append('path').attr('class', run.el[key].cls)
        .attr('vector-effect', 'non-scaling-stroke');
    }
    const yOf = this.log ? Math.log10 : (y) => y;
    Object.assign(run, { drawn: 0, epochsDrawn: -1, lossMax: 0, lossMin: Infinity,
      raw: new AppendingPath(yOf), smooth: new AppendingPath(yOf), accSmooth: new AppendingPath(),
      ema: new Ema(this.weight), accEma: new Ema(this.weight), smoothed: [], accSmoothed: [] });
    this.dirtyLayout = true;
  }

  /** Once per frame: append what arrived, rescale if needed. Cheap when nothing changed. */
  draw() {
    if (!this.size || !this.size[0] || !this.size[1]) return;
    for (const run of this.runs.values()) this._append(run);
    const domains = this._domains();
    if (this.dirtyLayout || domains.key !== this.domainKey) {
      this.domainKey = domains.key;
      this._layout(domains);
    } else {
      for (const run of this.runs.values()) if (run.dotsDirty) this._epochDots(run);
    }
    const focus = this.runs.get(this.focusId);
    const points = focus ? focus.drawn : 0;
    const node = this.svg.node();
    if (node.dataset.points !== String(points)) node.dataset.points = String(points);
    if ((node.dataset.run || '') !== (this.focusId || '')) node.dataset.run = this.focusId || '';
  }

  /** New steps and epochs of one run into its paths. */
  _append(run) {
    const { data } = run;
    if (run.drawn < data.n) {
      const step = data.columns.step.data;
      const loss = data.columns.loss.data;
      const accuracy = data.columns.accuracy.data;
      for (let i = run.drawn; i < data.n; i++) {
        const s = step[i];
        const smoothed = run.ema.next(loss[i]);
        const accSmoothed = run.accEma.next(accuracy[i]);
        run.raw.append(s, loss[i]);
        run.smooth.append(s, smoothed);
        run.accSmooth.append(s, accSmoothed);
        run.smoothed.push(smoothed);
        run.accSmoothed.push(accSmoothed);
        if (loss[i] > run.lossMax && Number.isFinite(loss[i])) run.lossMax = loss[i];
        if (loss[i] > 0 && loss[i] < run.lossMin) run.lossMin = loss[i];
      }
      run.drawn = data.n;
      grow(run.el.raw, run.raw);
      grow(run.el.smooth, run.smooth);
      grow(run.el.accSmooth, run.accSmooth);
      run.groups[0].attr('data-points', run.drawn);
    }
    if (run.epochsDrawn !== data.epochs.length) {
      run.epochsDrawn = data.epochs.length;
      const yOf = this.log ? Math.log10 : (y) => y;
      const line = (key, f = (y) => y) => {
        const p = new AppendingPath(f);
        for (const e of data.epochs) p.append(e.step, e[key]);
        return p.all;
      };
      run.el.test.attr('d', line('test_loss', yOf));
      run.el.accTrain.attr('d', line('train_accuracy'));
      run.el.accTest.attr('d', line('test_accuracy'));
      for (const e of data.epochs) {
        if (e.test_loss > run.lossMax) run.lossMax = e.test_loss;
        if (e.test_loss > 0 && e.test_loss < run.lossMin) run.lossMin = e.test_loss;
      }
      run.dotsDirty = true;
    }
  }

  _domains() {
    let x1 = 10;
    let hi = 0;
    let lo = Infinity;
    for (const run of this.runs.values()) {
      const d = run.data;
      x1 = Math.max(x1, d.final ? d.lastStep() : Math.max(d.plannedSteps(), d.lastStep()));
      hi = Math.max(hi, run.lossMax);
      lo = Math.min(lo, run.lossMin);
    }
    if (!(hi > 0)) hi = 1;
    let loss;
    if (this.log) {
      const scale = d3.scaleLog().domain([Number.isFinite(lo) ? Math.min(lo, hi / 10) : hi / 100, hi]).nice();
      loss = scale.domain().map(Math.log10);
    } else loss = d3.scaleLinear().domain([0, hi]).nice(6).domain();
    return { x: [0, x1], loss, key: `${x1}|${loss}|${this.log}` };
  }

  _layout({ x: xDomain, loss }) {
    this.dirtyLayout = false;
    const [width, height] = this.size;
    const w = Math.max(40, width - M.left - M.right);
    const inner = Math.max(60, height - M.top - M.bottom - GAP);
    const heights = [Math.round(inner * LOSS_SHARE), inner - Math.round(inner * LOSS_SHARE)];
    this.svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
    const x = d3.scaleLinear().domain(xDomain).range([0, w]);
    this.x = x;
    const ticks = Math.max(2, Math.floor(w / 80));
    let top = M.top;
    this.panels.forEach((panel, k) => {
      const h = heights[k];
      const [y0, y1] = k === 0 ? loss : [0, 1];
      Object.assign(panel, { top, h, w, y0, y1 });
      panel.y = k === 0 && this.log ? d3.scaleLog().domain([10 ** y0, 10 ** y1]).range([h, 0])
        : d3.scaleLinear().domain([y0, y1]).range([h, 0]);
      panel.g.attr('transform', `translate(${M.left},${top})`);
      // Room for the epoch dots at the ends; the lines stay within the axes.
      this.svg.select(`#${panel.clip} rect`).attr('x', -6).attr('y', -6).attr('width', w + 12).attr('height', h + 12);
      panel.mouse.attr('width', w).attr('height', h);
      panel.title.attr('x', 0);
      panel.key.attr('x', w);
      const kx = w / (xDomain[1] - xDomain[0]);
      const ky = -h / (y1 - y0);
      panel.data.attr('transform', `matrix(${kx},0,0,${ky},${-xDomain[0] * kx},${h - y0 * ky})`);
      panel.xAxis.attr('transform', `translate(0,${h})`)
        .call(d3.axisBottom(x).tickValues(x.ticks(ticks).filter(Number.isInteger)).tickFormat(d3.format('d'))
          .tickSizeOuter(0));
      const yTicks = Math.max(2, Math.floor(h / 36));
      panel.yAxis.call(k === 1 ? d3.axisLeft(panel.y).ticks(yTicks, '.0%')
        : this.log ? d3.axisLeft(panel.y).ticks(yTicks, '~g') : d3.axisLeft(panel.y).ticks(yTicks));
      const gridTicks = k === 0 && this.log ? panel.y.ticks().filter((t) => Number.isInteger(Math.log10(t)))
        : panel.y.ticks(yTicks);
      panel.grid.call(d3.axisLeft(panel.y).tickValues(gridTicks).tickSize(-w).tickFormat(''))
        .call((g) => g.select('.domain').remove());
      top += h + GAP;
    });
    this.svg.select('.axis-label').attr('x', M.left + w).attr('y', height - 2).attr('text-anchor', 'end');
    for (const run of this.runs.values()) this._epochDots(run);
    this._marker('pick', this.picked);
  }

  /** Epoch results as dots, in pixels (few; redrawn when an epoch ends or the axes move). */
  _epochDots(run) {
    run.dotsDirty = false;
    const epochs = run.data.epochs.length <= MAX_DOTS ? run.data.epochs : [];
    const [lossPanel, accPanel] = this.panels;
    if (!lossPanel.y || !this.x) return;
    const finite = (v) => Number.isFinite(v) && (!this.log || v > 0);
    run.dots[0].selectAll('circle').data(epochs.filter((e) => finite(e.test_loss)))
      .join('circle').attr('class', 'test').attr('r', 3)
      .attr('cx', (e) => this.x(e.step)).attr('cy', (e) => lossPanel.y(e.test_loss));
    const acc = epochs.flatMap((e) => [{ e, key: 'train_accuracy' }, { e, key: 'test_accuracy' }]);
    run.dots[1].selectAll('circle').data(acc).join('circle')
      .attr('class', (d) => (d.key === 'test_accuracy' ? 'test' : 'train')).attr('r', 3)
      .attr('cx', (d) => this.x(d.e.step)).attr('cy', (d) => accPanel.y(d.e[d.key]));
  }

  /** The vertical line of `kind` ('pick' or 'hover') at `step` in both panels, or hidden. */
  _marker(kind, step) {
    for (const panel of this.panels) {
      const line = panel[kind];
      if (step == null || !this.x) line.style('display', 'none');
      else {
        const px = this.x(step);
        line.style('display', null).attr('x1', px).attr('x2', px).attr('y1', 0).attr('y2', panel.h);
      }
    }
  }

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
    this._marker('hover', step);
    this.readout.textContent = step == null ? this._readoutText(this.picked) : this._readoutText(step);
  }

  /** The hover readout: the focused run in full, the others' smoothed loss. */
  _readoutText(step) {
    if (step == null) return 'Hover over the curves to read them; click to see the network at that step.';
    const parts = [];
    const ordered = [...this.runs.values()].sort((a, b) => b.focus - a.focus);
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
    const text = this._readoutText(this.picked);
    if (this.readout.textContent !== text) this.readout.textContent = text;
  }
}

/** A series' paths after appending: newly frozen chunks become paths of their own (never
 * touched again), placed before the growing one, whose `d` is the only thing that changes. */
function grow(series, line) {
  for (; series.frozen < line.frozen.length; series.frozen++) {
    series.g.insert('path', () => series.tail.node()).attr('class', series.cls)
      .attr('vector-effect', 'non-scaling-stroke').attr('d', line.frozen[series.frozen]);
  }
  series.tail.attr('d', line.d);
}
