// A node's receptive field drawn on the image grids it spans: each image-shaped block the node
// depends on (the image, Conv1, ReLU1, …) as a small H×W picture coloured by value, the pixels
// that feed the node bright inside an outline, the rest faded; the node's own pixel ringed. A click on
// a pixel selects that node; "As scalar nodes" shows the field node by node instead.
// Test hooks: .field-grid[data-block][data-rows][data-cols], .pixel[data-node-name] with class
// in-field for the pixels in the field, data-in-field (a count) on each grid.
import * as d3 from 'd3';
import { UNREACHED } from '../shared/colors.js';
import { valueScale } from './image-grid-view.js';
import { fieldOutline } from './field-images.js';
import { svgString } from '../shared/export.js';

const MOST_CELL = 20; // px
const GOOD_CELL = 10; // fewer grids side by side rather than smaller cells than this
const LEAST_CELL = 6;
const PANEL_GAP = 16;
const CAPTION = 16; // px above each grid in an export
const SVG_NS = 'http://www.w3.org/2000/svg';

export class FieldGridsView {
  /** `root`: the node whose field this is; `onAllNodes`: show the field's scalar nodes. */
  constructor(container, { onSelect = () => {}, root, rootLabel = '', onAllNodes = () => {} }) {
    this.kind = 'field-images';
    this.onSelect = onSelect;
    this.rootId = root;
    this.root = d3.select(container).append('div').attr('class', 'image-grid-view field-grids-view');
    const bar = this.root.append('div').attr('class', 'image-grid-bar');
    bar.append('span').attr('class', 'field-grids-note')
      .text(`Pixels that feed ${rootLabel}: inside the outline; the rest faded.`);
    bar.append('button').attr('type', 'button').attr('class', 'field-grids-all')
      .text('As scalar nodes').on('click', () => onAllNodes());
    this.panels = this.root.append('div').attr('class', 'field-grids');
  }

  get element() {
    return this.panels.select('svg').node();
  }

  /** `images`: fieldOnImages(…) — the blocks spanned, each with its inField marks. */
  setGraph(graph, images) {
    this.graph = graph;
    this.images = images;
    const panel = this.panels.selectAll('figure').data(images).join('figure').attr('class', 'field-grid-panel');
    panel.append('figcaption')
      .text((im) => `${im.block}: ${im.count} of ${im.rows * im.cols} pixels`);
    this.svgs = panel.append('svg').attr('class', 'field-grid image-grid')
      .attr('data-block', (im) => im.block).attr('data-rows', (im) => im.rows)
      .attr('data-cols', (im) => im.cols).attr('data-in-field', (im) => im.count)
      .attr('role', 'group').attr('aria-roledescription', 'image')
      .attr('aria-label', (im) => `${im.block}: ${im.count} of ${im.rows * im.cols} pixels feed ${graph.name[this.rootId] ?? 'the node'}; arrows move, Enter selects one`)
      .on('keydown', (event, im) => this._key(event, im));
    this.svgs.each((im, i, nodes) => {
      im.focusAt = Math.max(0, im.inField.indexOf(1)); // the keyboard starts in the field
      d3.select(nodes[i]).selectAll('rect.pixel').data(d3.range(im.rows * im.cols)).join('rect')
        .attr('class', (k) => `pixel${im.inField[k] ? ' in-field' : ''}${im.pixels[k] === this.rootId ? ' field-root' : ''}`)
        .attr('data-node-id', (k) => im.pixels[k])
        .attr('data-node-name', (k) => graph.name[im.pixels[k]])
        .attr('role', 'button')
        .attr('aria-label', (k) => `${graph.name[im.pixels[k]]}${im.inField[k] ? ', in the field' : ''}`)
        .attr('tabindex', (k) => (k === im.focusAt ? 0 : -1))
        .on('click', (event, k) => this.onSelect(im.pixels[k]));
    });
    this.fit();
  }

  /** The largest cells (within bounds) that put as many grids side by side as fit. */
  fit() {
    const width = (this.root.node().clientWidth || 600) - 24;
    const cols = d3.max(this.images, (im) => im.cols) || 1;
    const side = (perRow) => Math.floor((width - PANEL_GAP * (perRow - 1)) / (perRow * cols));
    let perRow = this.images.length;
    while (perRow > 1 && side(perRow) < GOOD_CELL) perRow--;
    const cell = Math.max(LEAST_CELL, Math.min(MOST_CELL, side(perRow)));
    this.svgs.each((im, i, nodes) => {
      const svg = d3.select(nodes[i]).attr('width', im.cols * cell).attr('height', im.rows * cell);
      svg.selectAll('rect.pixel')
        .attr('x', (k) => (k % im.cols) * cell).attr('y', (k) => Math.floor(k / im.cols) * cell)
        .attr('width', cell - 1).attr('height', cell - 1);
      svg.selectAll('path.field-outline').data([im]).join('path').attr('class', 'field-outline')
        .attr('d', fieldOutline(im, cell));
      svg.select('.field-root').raise();
    });
  }

  focus() {
    this.root.select('.field-grids-all').node().focus({ preventScroll: true });
  }

  /** Every grid side by side under its caption, as one SVG document (Export SVG and PNG). */
  toSVG() {
    const sheet = document.createElementNS(SVG_NS, 'svg');
    const all = sheet.appendChild(document.createElementNS(SVG_NS, 'g')); // export.js frames its box
    let x = 0;
    this.svgs.each((im, i, nodes) => {
      const panel = all.appendChild(document.createElementNS(SVG_NS, 'g'));
      panel.setAttribute('transform', `translate(${x},0)`);
      // Two short lines: a grid is narrower than "image: 25 of 256 pixels" in one.
      [`${im.block}:`, `${im.count} of ${im.rows * im.cols} pixels`].forEach((line, k) => {
        const caption = panel.appendChild(document.createElementNS(SVG_NS, 'text'));
        caption.setAttribute('class', 'field-grid-caption');
        caption.setAttribute('y', String(CAPTION * (k + 1) - 4));
        caption.textContent = line;
      });
      const grid = panel.appendChild(document.createElementNS(SVG_NS, 'g'));
      grid.setAttribute('class', nodes[i].getAttribute('class')); // the page's rules for grids
      grid.setAttribute('transform', `translate(0,${2 * CAPTION})`);
      for (const child of nodes[i].childNodes) grid.append(child.cloneNode(true));
      x += Number(nodes[i].getAttribute('width')) + PANEL_GAP;
    });
    this.root.node().append(sheet); // in the page while it is read: its box and its styles
    try {
      return svgString({ element: sheet });
    } finally {
      sheet.remove();
    }
  }

  /** Arrows move within one grid (Tab goes to the next grid), Enter or Space selects. */
  _key(event, im) {
    const { rows, cols } = im;
    const k = im.focusAt;
    const moves = { ArrowLeft: k % cols ? k - 1 : k, ArrowRight: k % cols < cols - 1 ? k + 1 : k,
      ArrowUp: k >= cols ? k - cols : k, ArrowDown: k < (rows - 1) * cols ? k + cols : k, Home: 0, End: rows * cols - 1 };
    if (event.key in moves) {
      event.preventDefault();
      im.focusAt = moves[event.key];
      const rects = d3.select(event.currentTarget).selectAll('rect.pixel').attr('tabindex', (j) => (j === im.focusAt ? 0 : -1));
      rects.nodes()[im.focusAt].focus({ preventScroll: true });
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.onSelect(im.pixels[k]);
    }
  }

  /** Colour each grid's pixels by value from `state` (trace-state.js). */
  update(state) {
    if (this.lastState === state && this.lastVersion === state.version && this.lastPos === state.pos) return;
    this.lastState = state;
    this.lastVersion = state.version;
    this.lastPos = state.pos;
    this.svgs.each((im, i, nodes) => {
      const colour = valueScale(this.graph, im.pixels, state);
      d3.select(nodes[i]).selectAll('rect.pixel').each((k, j, rects) => {
        const id = im.pixels[k];
        rects[j].style.fill = state.valueReached[id] ? colour(state.value[id]) : UNREACHED;
      });
    });
  }

  destroy() {
    this.root.remove();
  }
}
