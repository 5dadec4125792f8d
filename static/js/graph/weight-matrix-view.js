// A fully connected block expanded as its weight matrix: W[o, i] (the block's input nodes named
// Block.W[k], k = o·inputs + i) as a heat map on a canvas, rows = outputs, on the diverging
// scale around 0. The selected node's row (an output Block[o], or a weight's) and column (a
// weight's input) are outlined; a click selects that weight's scalar node. The weights' values
// are the trace's (what-if values included), painted once per trace. Test hooks:
// data-rows, data-cols on the canvas and its `mapValues` (row by row).
import * as d3 from 'd3';
import { short } from '../shared/numbers.js';
import { paint } from '../training/pixel-map.js';

const MOST_CELL = 24;

/** The block's weight matrix, or null: {rows (outputs), cols (inputs), weights: ids}. */
export function weightShape(graph, ids, block, kind) {
  if (kind !== 'fc' || !block) return null;
  const prefix = `${block}.W[`;
  const weights = [];
  for (let i = 0; i < graph.n; i++) {
    const name = graph.name[i];
    if (name && name.startsWith(prefix) && graph.op[i] === 'input') weights[Number(name.slice(prefix.length, -1))] = i;
  }
  const outputs = ids.filter((id) => new RegExp(`^${block}\\[\\d+\\]$`).test(graph.name[id] || '')).length;
  if (!outputs || !weights.length || weights.length % outputs || weights.includes(undefined)) return null;
  return { method: 'weights', rows: outputs, cols: weights.length / outputs, weights: Int32Array.from(weights) };
}

export class WeightMatrixView {
  constructor(container, { onSelect = () => {}, entry, onAllNodes = () => {}, count = 0 }) {
    this.kind = 'weights';
    this.onSelect = onSelect;
    this.entry = entry;
    this.root = d3.select(container).append('div').attr('class', 'image-grid-view weight-matrix-view');
    const bar = this.root.append('div').attr('class', 'image-grid-bar');
    bar.append('button').attr('type', 'button').attr('class', 'image-grid-all')
      .text(`All ${count.toLocaleString('en')} nodes`).on('click', () => onAllNodes());
    this.readout = bar.append('span').attr('class', 'image-grid-readout').attr('aria-live', 'polite');
    this.box = this.root.append('div').attr('class', 'weight-matrix');
    this.canvas = this.box.append('canvas').attr('class', 'weight-canvas').attr('role', 'img');
    this.mark = this.box.append('svg').attr('class', 'weight-marks').attr('aria-hidden', 'true');
    this.canvas.on('click', (event) => this._click(event));
  }

  get element() {
    return this.canvas.node();
  }

  setGraph(graph, layout) {
    this.graph = graph;
    this.layout = layout;
    const { rows, cols } = layout;
    const canvas = this.canvas.node();
    canvas.width = cols;
    canvas.height = rows;
    this.canvas.attr('data-rows', rows).attr('data-cols', cols);
    this.paintedFor = null;
    this.fit();
  }

  /** The weights' values in `timeline` (this trace), as a heat map. */
  _paint(timeline) {
    if (this.paintedFor === timeline) return;
    this.paintedFor = timeline;
    const { rows, cols, weights } = this.layout;
    const values = Float64Array.from(weights, (id) => timeline.finalValue[id]);
    const m = d3.max(values, Math.abs) || 1;
    const scale = d3.scaleDiverging((t) => d3.interpolateRdBu(1 - t)).domain([-m, 0, m]).clamp(true);
    paint(this.canvas.node(), values, cols, scale, rows);
    this.canvas.attr('aria-label', `${this.entry.block}'s weights: ${rows} outputs (rows) by ${cols} inputs `
      + `(columns), blue −${short(m)} … red +${short(m)}`);
    this.readout.text(`weights W[output, input]: blue −${short(m)} … 0 … red +${short(m)}`);
  }

  fit() {
    const el = this.root.node();
    const { rows, cols } = this.layout;
    const cell = Math.max(1, Math.min(MOST_CELL, ((el.clientWidth || 600) - 16) / cols, ((el.clientHeight || 500) - 96) / rows));
    this.cell = cell;
    this.canvas.style('width', `${cols * cell}px`).style('height', `${rows * cell}px`);
    this.mark.attr('width', cols * cell).attr('height', rows * cell);
    this.lastSelected = undefined;
  }

  focus() {
    this.canvas.node().focus?.({ preventScroll: true });
  }

  _click(event) {
    const box = this.canvas.node().getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * this.layout.cols);
    const r = Math.floor(((event.clientY - box.top) / box.height) * this.layout.rows);
    this.onSelect(this.layout.weights[r * this.layout.cols + c]);
  }

  /** Outline the selected node's row and column (a weight: both; an output: its row). */
  update(state, ctx) {
    if (!this.layout) return;
    if (state) this._paint(state.timeline);
    if (ctx.selected === this.lastSelected) return;
    this.lastSelected = ctx.selected;
    const { rows, cols, weights } = this.layout;
    let row = -1;
    let col = -1;
    const k = weights.indexOf(ctx.selected);
    if (k >= 0) {
      row = Math.floor(k / cols);
      col = k % cols;
    } else {
      const m = new RegExp(`^${this.entry.block}\\[(\\d+)\\]$`).exec(this.graph.name[ctx.selected] || '');
      if (m) row = Number(m[1]);
    }
    const cell = this.cell;
    const marks = [];
    if (row >= 0 && row < rows) marks.push({ x: 0, y: row * cell, w: cols * cell, h: cell, kind: 'row' });
    if (col >= 0) marks.push({ x: col * cell, y: 0, w: cell, h: rows * cell, kind: 'col' });
    this.mark.selectAll('rect').data(marks).join('rect')
      .attr('class', (d) => `weight-mark ${d.kind}`)
      .attr('x', (d) => d.x).attr('y', (d) => d.y).attr('width', (d) => d.w).attr('height', (d) => d.h);
    this.canvas.attr('data-row', row >= 0 ? row : null).attr('data-col', col >= 0 ? col : null);
  }

  destroy() {
    this.root.remove();
  }
}
