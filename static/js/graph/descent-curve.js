// The objective after each descent step, beside the timeline: step on x (0: before the first
// step), the sum of the outputs on y, a dot per step; hovering (or focusing and using ←/→)
// reads a step's number. Test hooks on the container: `data-points` (steps drawn) and
// `data-values` (their objectives at full precision, JSON).
import * as d3 from 'd3';
import { full, short } from '../shared/numbers.js';

const WIDTH = 220;
const HEIGHT = 64;
const MARGIN = { top: 6, right: 8, bottom: 14, left: 44 };

export class DescentCurve {
  constructor(root) {
    this.root = root;
    this.readout = root.querySelector('.descent-readout');
    this.svg = d3.select(root).insert('svg', ':first-child')
      .attr('viewBox', `0 0 ${WIDTH} ${HEIGHT}`).attr('class', 'descent-svg')
      .attr('role', 'img').attr('tabindex', 0);
    this.plot = this.svg.append('g').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
    this.yAxis = this.plot.append('g').attr('class', 'axis');
    this.xAxis = this.plot.append('g').attr('class', 'axis')
      .attr('transform', `translate(0,${HEIGHT - MARGIN.top - MARGIN.bottom})`);
    this.path = this.plot.append('path').attr('class', 'descent-line');
    this.dots = this.plot.append('g');
    this.mark = this.plot.append('circle').attr('class', 'descent-hover').attr('r', 4).attr('hidden', true);
    this.picked = null;
    this.svg.on('pointermove', (event) => this._hover(this._stepAt(d3.pointer(event, this.plot.node())[0])))
      .on('pointerleave', () => this._hover(null))
      .on('keydown', (event) => this._key(event));
    this.reset();
  }

  reset() {
    this.start = NaN;
    this.points = [];
    this.draw();
  }

  /** `start`: the objective before step 1; `points`: [{step, value}] after each step. */
  setPoints(start, points) {
    this.start = start;
    this.points = points;
    this.draw();
  }

  get series() {
    return Number.isNaN(this.start) ? [] : [{ step: 0, value: this.start }, ...this.points];
  }

  draw() {
    const data = this.series;
    this.root.dataset.points = String(this.points.length);
    this.root.dataset.values = JSON.stringify(this.points.map((p) => full(p.value)));
    this.root.hidden = false;
    const w = WIDTH - MARGIN.left - MARGIN.right;
    const h = HEIGHT - MARGIN.top - MARGIN.bottom;
    const finite = data.filter((d) => Number.isFinite(d.value));
    const [lo, hi] = finite.length ? d3.extent(finite, (d) => d.value) : [0, 1];
    this.x = d3.scaleLinear().domain([0, Math.max(1, data.length - 1)]).range([0, w]);
    this.y = d3.scaleLinear().domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]).nice(3).range([h, 0]);
    this.yAxis.call(d3.axisLeft(this.y).ticks(3).tickFormat(short).tickSizeOuter(0));
    // Steps are whole numbers: only integer ticks (a domain [0, 1] would also tick 0.5, shown as "1").
    const steps = this.x.ticks(Math.min(4, data.length)).filter(Number.isInteger);
    this.xAxis.call(d3.axisBottom(this.x).tickValues(steps).tickFormat(d3.format('d')).tickSizeOuter(0));
    const line = d3.line().defined((d) => Number.isFinite(d.value)).x((d) => this.x(d.step)).y((d) => this.y(d.value));
    this.path.attr('d', line(data));
    this.dots.selectAll('circle').data(data.length <= 60 ? data : [], (d) => d.step).join('circle')
      .attr('class', 'descent-dot').attr('r', 2.5)
      .attr('cx', (d) => this.x(d.step)).attr('cy', (d) => (Number.isFinite(d.value) ? this.y(d.value) : 0));
    const last = data[data.length - 1];
    this.svg.attr('aria-label', last
      ? `Objective after each descent step: ${short(this.start)} at the start, ${short(last.value)} after step ${last.step}`
      : 'Objective after each descent step: no step yet');
    this._hover(this.picked != null && this.picked < data.length ? this.picked : null);
  }

  _stepAt(px) {
    const n = this.series.length;
    if (!n) return null;
    return Math.max(0, Math.min(n - 1, Math.round(this.x.invert(px))));
  }

  _key(event) {
    const n = this.series.length;
    if (!n || !['ArrowLeft', 'ArrowRight'].includes(event.key)) return;
    event.preventDefault();
    const at = this.picked == null ? n - 1 : this.picked + (event.key === 'ArrowRight' ? 1 : -1);
    this._hover(Math.max(0, Math.min(n - 1, at)));
  }

  _hover(step) {
    this.picked = step;
    const d = step == null ? null : this.series[step];
    this.mark.attr('hidden', d && Number.isFinite(d.value) ? null : true);
    if (d && Number.isFinite(d.value)) this.mark.attr('cx', this.x(d.step)).attr('cy', this.y(d.value));
    const last = this.points[this.points.length - 1];
    this.readout.textContent = d ? `step ${d.step}: ${short(d.value)}`
      : last ? `step ${last.step}: ${short(last.value)}` : 'no step yet';
    if (d) this.readout.dataset.value = full(d.value);
    else delete this.readout.dataset.value;
  }
}
