// An image-shaped block expanded as its image: the block's pixel nodes — named Block[i,j] (a
// Conv) or Block[k] with k = i·W + j (an image, a ReLU, an Add) — laid out H×W in image order,
// coloured by value (grey for the input image, the diverging scale for activations) or by
// gradient (the graph's gradient scale), switchable. Colours follow the trace, so back-prop
// fills the image pixel by pixel; a click (or Enter on the focused pixel; arrows move) selects
// that scalar node. A node selected in a later block (a Conv2 pixel, seen on ReLU1) has the
// pixels here that feed it outlined. Test hooks: data-rows, data-cols, data-field-of on the grid,
// data-node-id, data-node-name, data-value and data-grad (once reached), class in-field on each
// pixel.
import * as d3 from 'd3';
import { UNREACHED } from '../shared/colors.js';
import { full, short } from '../shared/numbers.js';
import { GRAD_FINAL } from './trace-state.js';
import { fieldOnImages, fieldOutline } from './field-images.js';
import { imageShape } from './image-shape.js';

export { imageShape };

const MOST_CELL = 36; // px: a pixel's largest side
const LEAST_CELL = 10;
const INK = d3.scaleLinear().range(['#ffffff', '#111111']).clamp(true);

/** The value colours of an image's pixels: grey from its least to largest value (the input
 * image, constants), else diverging around 0 out to the largest |value| reached. */
export function valueScale(graph, pixels, state) {
  const values = Array.from(pixels, (id) => (state.valueReached[id] ? state.value[id] : 0));
  if (graph.op[pixels[0]] === 'const') {
    return INK.copy().domain([d3.min(values), Math.max(d3.max(values), d3.min(values) + 1e-12)]);
  }
  const m = d3.max(values, Math.abs) || 1;
  return d3.scaleDiverging((t) => d3.interpolateRdBu(1 - t)).domain([-m, 0, m]).clamp(true);
}

export class ImageGridView {
  /** `entry`: the view manager's entry (keeps the colouring chosen); `onAllNodes`: show every
   * node of the block instead. */
  constructor(container, { onSelect = () => {}, entry, onAllNodes = () => {}, count = 0 }) {
    this.kind = 'image';
    this.onSelect = onSelect;
    this.entry = entry;
    this.root = d3.select(container).append('div').attr('class', 'image-grid-view');
    const bar = this.root.append('div').attr('class', 'image-grid-bar');
    const colour = bar.append('fieldset').attr('class', 'image-grid-colour');
    colour.append('legend').text('Colour by');
    for (const [value, text] of [['value', 'value'], ['grad', 'gradient']]) {
      const label = colour.append('label');
      label.append('input').attr('type', 'radio').attr('name', 'image-colour').attr('value', value)
        .property('checked', (entry.colour || 'value') === value)
        .on('change', () => {
          entry.colour = value;
          this.lastKey = null;
          this.shown = null;
          this._paint();
        });
      label.append('span').text(` ${text}`);
    }
    bar.append('button').attr('type', 'button').attr('class', 'image-grid-all')
      .text(`All ${count.toLocaleString('en')} nodes`).on('click', () => onAllNodes());
    this.readout = bar.append('span').attr('class', 'image-grid-readout').attr('aria-live', 'polite');
    this.svg = this.root.append('svg').attr('class', 'image-grid').attr('role', 'group')
      .attr('aria-roledescription', 'image');
    this.svg.on('keydown', (event) => this._key(event));
    this.focusAt = 0;
  }

  get element() {
    return this.svg.node();
  }

  setGraph(graph, layout) {
    this.graph = graph;
    this.layout = layout;
    const { rows, cols, pixels } = layout;
    this.svg.attr('data-rows', rows).attr('data-cols', cols)
      .attr('aria-label', `${this.entry.block}: ${rows} by ${cols} pixels; arrows move, Enter selects one`);
    const cells = d3.range(rows * cols);
    this.rects = this.svg.selectAll('rect.pixel').data(cells).join('rect')
      .attr('class', 'pixel')
      .attr('data-node-id', (k) => pixels[k])
      .attr('data-node-name', (k) => graph.name[pixels[k]])
      .attr('role', 'button')
      .attr('tabindex', (k) => (k === 0 ? 0 : -1))
      .on('click', (event, k) => this._select(k));
    this.fit();
  }

  fit() {
    const el = this.root.node();
    const { rows, cols } = this.layout;
    const width = (el.clientWidth || 600) - 16;
    const height = (el.clientHeight || 500) - 96;
    const cell = Math.max(LEAST_CELL, Math.min(MOST_CELL, Math.floor(Math.min(width / cols, height / rows))));
    this.cell = cell;
    this.svg.attr('width', cols * cell).attr('height', rows * cell);
    this.rects.attr('x', (k) => (k % cols) * cell).attr('y', (k) => Math.floor(k / cols) * cell)
      .attr('width', cell - 1).attr('height', cell - 1);
    if (this.field) this._drawOutline();
  }

  focus(id) {
    const k = id == null ? this.focusAt : this.layout.pixels.indexOf(id);
    this._focusCell(k >= 0 ? k : 0);
  }

  _focusCell(k) {
    this.focusAt = k;
    this.rects.attr('tabindex', (j) => (j === k ? 0 : -1));
    this.rects.nodes()[k].focus({ preventScroll: true });
  }

  _key(event) {
    const { rows, cols } = this.layout;
    const k = this.focusAt;
    const moves = { ArrowLeft: k % cols ? k - 1 : k, ArrowRight: k % cols < cols - 1 ? k + 1 : k,
      ArrowUp: k >= cols ? k - cols : k, ArrowDown: k < (rows - 1) * cols ? k + cols : k, Home: 0, End: rows * cols - 1 };
    if (event.key in moves) {
      event.preventDefault();
      this._focusCell(moves[event.key]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this._select(k);
    }
  }

  _select(k) {
    this.focusAt = k;
    this.onSelect(this.layout.pixels[k]);
  }

  /** Colour the pixels from `state` (trace-state.js); ctx as the other views take it. */
  update(state, ctx) {
    this.state = state;
    this.ctx = ctx;
    this._paint();
  }

  _paint() {
    const { state, ctx } = this;
    if (!state || !this.rects) return;
    const key = [state, state.version, state.pos, ctx.selected, ctx.gradScale, this.entry.colour];
    if (this.lastKey && key.every((v, k) => v === this.lastKey[k])) return;
    this.lastKey = key;
    const pixels = this.layout.pixels;
    const byGrad = this.entry.colour === 'grad';
    this.svg.attr('data-colour', byGrad ? 'grad' : 'value');
    const color = byGrad ? null : valueScale(this.graph, this.layout.pixels, state);
    const nodes = this.rects.nodes();
    // Only pixels whose numbers, state or colour scale moved are written: during back-prop a
    // frame changes a few of 256, and the DOM writes (style, data, aria) were the frame's cost.
    const scaleKey = byGrad ? ctx.gradScale : color.domain().join();
    const fresh = this.scaleKey !== scaleKey || !this.shown;
    this.scaleKey = scaleKey;
    this.shown = fresh ? { value: new Float64Array(pixels.length), grad: new Float64Array(pixels.length),
      flags: new Int8Array(pixels.length).fill(-1) } : this.shown;
    const shown = this.shown;
    for (let k = 0; k < pixels.length; k++) {
      const id = pixels[k];
      const el = nodes[k];
      const reached = state.valueReached[id] === 1;
      const gradDone = state.gradState[id] === GRAD_FINAL;
      const flags = (reached ? 1 : 0) | (state.gradState[id] << 1);
      const value = state.value[id];
      const grad = gradDone ? state.gradFinal[id] : state.gradSum[id];
      el.classList.toggle('selected', id === ctx.selected);
      if (!fresh && shown.flags[k] === flags && Object.is(shown.value[k], value) && Object.is(shown.grad[k], grad)) continue;
      shown.flags[k] = flags;
      shown.value[k] = value;
      shown.grad[k] = grad;
      setData(el, 'value', reached ? full(value) : null);
      setData(el, 'grad', gradDone ? full(grad) : null);
      let fill = UNREACHED;
      if (byGrad && state.gradState[id] !== 0) fill = ctx.gradScale(grad);
      else if (!byGrad && reached) fill = color(value);
      el.style.fill = fill;
      el.setAttribute('aria-label', `${this.graph.name[id]}: ${reached ? short(value) : 'not reached'}`
        + `${gradDone ? `, gradient ${short(grad)}` : ''}`);
    }
    // The page's legend is the gradient scale; the value scale is said here.
    const scale = byGrad ? 'gradient: the legend above'
      : (this.graph.op[pixels[0]] === 'const' ? `value: white ${short(color.domain()[0])} … black ${short(color.domain()[1])}`
        : `value: blue −${short(color.domain()[2])} … 0 … red +${short(color.domain()[2])}`);
    const selected = pixels.indexOf(ctx.selected);
    const feeding = this._outlineField(ctx.selected, selected >= 0);
    this.readout.text(`${scale}${selected >= 0 ? ` · ${this.graph.name[ctx.selected]} selected` : ''}`
      + `${feeding ? ` · outlined: the ${feeding} pixels that feed ${this.graph.name[ctx.selected]}` : ''}`);
  }

  /** A node selected in a later block (Inspector, search, another view): outline this image's
   * pixels that feed it. How many, or 0. */
  _outlineField(id, inThisBlock) {
    if (this.fieldOf !== id) {
      this.fieldOf = id;
      const [field] = id == null || inThisBlock ? [] : fieldOnImages(this.graph, [this.layout], id);
      this.field = field || null;
      this.svg.attr('data-field-of', field ? id : null).attr('data-in-field', field ? field.count : null);
      this.rects.classed('in-field', (k) => Boolean(field && field.inField[k]));
    }
    this._drawOutline();
    return this.field ? this.field.count : 0;
  }

  _drawOutline() {
    this.svg.selectAll('path.field-outline').data(this.field ? [this.field] : []).join('path')
      .attr('class', 'field-outline').attr('d', (f) => fieldOutline(f, this.cell));
  }

  destroy() {
    this.root.remove();
  }
}

function setData(el, key, value) {
  if (value === null) delete el.dataset[key];
  else if (el.dataset[key] !== value) el.dataset[key] = value;
}
