// The loss chart's frame, drawn with D3: two panels sharing the x axis — by step, or by epoch
// (each run's steps divided by its steps per epoch, so runs of different batch sizes line up) —
// loss above, accuracy below; their scales, axes and grid, the room for the legend above them
// (chart-legend.js), the epoch dots and the vertical marker lines. Pure drawing over the runs it
// is given; loss-chart.js decides when, and handles the pointer.
import * as d3 from 'd3';

const M = { top: 22, right: 18, bottom: 26, left: 50 };
const GAP = 34; // between the panels
const LOSS_SHARE = 0.58;
const MAX_DOTS = 60; // epochs beyond this are drawn as lines only

const TITLES = { loss: 'Loss (cross-entropy)', accuracy: 'Accuracy' };
const KEYS = {
  loss: 'faint: each step · bold: smoothed · dashed: test, per epoch',
  accuracy: 'thin: batch, smoothed · solid: train · dashed: test, per epoch',
};

/** The two panels' elements inside `svg` (clip paths named after `id`); each panel's `data`
 * group holds the runs' paths, `marks` their dots, `mouse` takes the pointer. */
export function createPanels(svg, id) {
  const root = svg.append('g').attr('class', 'chart-root');
  const panels = ['loss', 'accuracy'].map((name) => {
    const clip = `${id}-${name}-clip`;
    svg.insert('defs', ':first-child').append('clipPath').attr('id', clip).append('rect');
    const g = root.append('g').attr('class', `panel ${name}`);
    const panel = { name, g, clip, y0: 0, y1: 1, x: null, y: null };
    panel.grid = g.append('g').attr('class', 'grid');
    panel.xAxis = g.append('g').attr('class', 'axis x');
    panel.yAxis = g.append('g').attr('class', 'axis y');
    panel.title = g.append('text').attr('class', 'panel-title').attr('y', -8).text(TITLES[name]);
    panel.key = g.append('text').attr('class', 'panel-key').attr('y', -8).attr('text-anchor', 'end')
      .text(KEYS[name]);
    panel.plot = g.append('g').attr('clip-path', `url(#${clip})`);
    panel.data = panel.plot.append('g').attr('class', 'data');
    panel.marks = panel.plot.append('g').attr('class', 'marks');
    panel.hover = g.append('line').attr('class', 'hover-line').style('display', 'none');
    panel.pick = g.append('line').attr('class', 'pick-line').style('display', 'none');
    panel.mouse = g.append('rect').attr('class', 'mouse');
    return panel;
  });
  root.append('text').attr('class', 'axis-label').text('step');
  root.append('g').attr('class', 'chart-legend').attr('transform', `translate(${M.left},2)`);
  return panels;
}

/** How many x units one step of `data` is: 1 by step, 1/(its steps per epoch) by epoch. */
export function xPerStep(data, axis) {
  return axis === 'epoch' ? 1 / data.stepsPerEpoch() : 1;
}

/** The legend's width: the panels'. */
export function legendWidth(width) {
  return Math.max(40, width - M.left - M.right);
}

/** The axes' domains for these runs: steps (or epochs) up to the longest run (planned, while
 * running), the loss up to the highest seen (log10 of the ends on a log scale); `key` changes
 * with either. */
export function chartDomains(runs, log, axis = 'step') {
  let x1 = axis === 'epoch' ? 1 : 10;
  let hi = 0;
  let lo = Infinity;
  for (const run of runs) {
    const d = run.data;
    const steps = d.final ? d.lastStep() : Math.max(d.plannedSteps(), d.lastStep());
    x1 = Math.max(x1, steps * xPerStep(d, axis));
    hi = Math.max(hi, run.lossMax);
    lo = Math.min(lo, run.lossMin);
  }
  if (!(hi > 0)) hi = 1;
  let loss;
  if (log) {
    const scale = d3.scaleLog().domain([Number.isFinite(lo) ? Math.min(lo, hi / 10) : hi / 100, hi]).nice();
    loss = scale.domain().map(Math.log10);
  } else loss = d3.scaleLinear().domain([0, hi]).nice(6).domain();
  return { x: [0, x1], loss, key: `${x1}|${loss}|${log}|${axis}` };
}

/** Size the chart and both panels, draw their axes and grid, and map each panel's data group
 * (paths in data coordinates) to pixels with one transform. Returns the shared step scale. */
export function layoutPanels(svg, panels, { size: [width, height], domains, log, legend = 0, axis = 'step' }) {
  const w = legendWidth(width);
  const inner = Math.max(60, height - M.top - legend - M.bottom - GAP);
  const heights = [Math.round(inner * LOSS_SHARE), inner - Math.round(inner * LOSS_SHARE)];
  svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
  const x = d3.scaleLinear().domain(domains.x).range([0, w]);
  let top = M.top + legend;
  panels.forEach((panel, k) => {
    const h = heights[k];
    const [y0, y1] = k === 0 ? domains.loss : [0, 1];
    Object.assign(panel, { top, h, w, y0, y1 });
    panel.y = k === 0 && log ? d3.scaleLog().domain([10 ** y0, 10 ** y1]).range([h, 0])
      : d3.scaleLinear().domain([y0, y1]).range([h, 0]);
    panel.g.attr('transform', `translate(${M.left},${top})`);
    // Room for the epoch dots at the ends; the lines stay within the axes.
    svg.select(`#${panel.clip} rect`).attr('x', -6).attr('y', -6).attr('width', w + 12).attr('height', h + 12);
    panel.mouse.attr('width', w).attr('height', h);
    panel.title.attr('x', 0);
    panel.key.attr('x', w);
    const kx = w / (domains.x[1] - domains.x[0]);
    const ky = -h / (y1 - y0);
    panel.data.attr('transform', `matrix(${kx},0,0,${ky},${-domains.x[0] * kx},${h - y0 * ky})`);
    drawAxes(panel, x, { log: k === 0 && log, percent: k === 1 });
    top += h + GAP;
  });
  svg.select('.axis-label').attr('x', M.left + w).attr('y', height - 2).attr('text-anchor', 'end').text(axis);
  return x;
}

function drawAxes(panel, x, { log, percent }) {
  const { w, h } = panel;
  const ticks = Math.max(2, Math.floor(w / 80));
  panel.xAxis.attr('transform', `translate(0,${h})`)
    .call(d3.axisBottom(x).tickValues(x.ticks(ticks).filter(Number.isInteger)).tickFormat(d3.format('d'))
      .tickSizeOuter(0));
  const yTicks = Math.max(2, Math.floor(h / 36));
  panel.yAxis.call(percent ? d3.axisLeft(panel.y).ticks(yTicks, '.0%')
    : log ? d3.axisLeft(panel.y).ticks(yTicks, '~g')
      // A diverging run's loss reaches the 100,000s: "100k" fits the margin, "100,000" does not.
      : d3.axisLeft(panel.y).ticks(yTicks).tickFormat(panel.y1 >= 1e4 ? d3.format('~s') : null));
  const gridTicks = log ? panel.y.ticks().filter((t) => Number.isInteger(Math.log10(t))) : panel.y.ticks(yTicks);
  panel.grid.call(d3.axisLeft(panel.y).tickValues(gridTicks).tickSize(-w).tickFormat(''))
    .call((g) => g.select('.domain').remove());
}

/** A run's epoch results as dots, in pixels (few; redrawn when an epoch ends or the axes move);
 * `x(step)`: the step's pixel for this run. */
export function drawEpochDots(run, panels, x, log) {
  run.dotsDirty = false;
  const epochs = run.data.epochs.length <= MAX_DOTS ? run.data.epochs : [];
  const [lossPanel, accPanel] = panels;
  if (!lossPanel.y || !x) return;
  const finite = (v) => Number.isFinite(v) && (!log || v > 0);
  run.dots[0].selectAll('circle').data(epochs.filter((e) => finite(e.test_loss)))
    .join('circle').attr('class', 'test').attr('r', 3)
    .attr('cx', (e) => x(e.step)).attr('cy', (e) => lossPanel.y(e.test_loss));
  const acc = epochs.flatMap((e) => [{ e, key: 'train_accuracy' }, { e, key: 'test_accuracy' }]);
  run.dots[1].selectAll('circle').data(acc).join('circle')
    .attr('class', (d) => (d.key === 'test_accuracy' ? 'test' : 'train')).attr('r', 3)
    .attr('cx', (d) => x(d.e.step)).attr('cy', (d) => accPanel.y(d.e[d.key]));
}

/** The vertical line of `kind` ('pick' or 'hover') at `step` in both panels, or hidden;
 * `x(step)`: the step's pixel. */
export function drawMarker(panels, x, kind, step) {
  for (const panel of panels) {
    const line = panel[kind];
    if (step == null || !x) line.style('display', 'none');
    else {
      const px = x(step);
      line.style('display', null).attr('x1', px).attr('x2', px).attr('y1', 0).attr('y2', panel.h);
    }
  }
}
