// A network as a layered graph of blocks, one per engine group (Conv1, ReLU1, …) plus the leaf
// blocks (image, label, …), with aggregate figures — node count, mean |gradient| — and the
// connections between blocks; a skip connection arcs beside the blocks it skips. Positions come
// from the network's own order, in linear time, and stay put while values change.
// Data flows down the page; back-prop climbs it. Click a block to expand it.
// Keyboard: the blocks are one tab stop (roving tabindex), arrows move between them row by row
// (node-navigation.js), Enter or Space expands the focused one.
import * as d3 from 'd3';
import { VALUE_ONLY, magnitudeColor, wantsWhiteText } from '../shared/colors.js';
import { short, thousands } from '../shared/numbers.js';
import { NodeNavigator } from './node-navigation.js';
import { projectorOn } from '../shared/theme.js';
import { fitTransform } from './fit.js';

const MAIN_W = 250;
const LEAF_W = 150;
const BLOCK_H = 50;
const ROW = 74;
const GAP = 70;

/** Block positions and links from the graph and its group index (trace-state.js). */
export function blockLayout(graph, groups) {
  const { names, of } = groups;
  const count = new Uint32Array(names.length);
  for (let i = 0; i < graph.n; i++) count[of[i]]++;
  const declared = new Map(graph.groups.map((g, k) => [g.name, { ...g, order: k }]));
  const blocks = names.map((name, b) => ({
    index: b, name, count: count[b], kind: declared.get(name)?.kind ?? 'data',
    declared: declared.has(name),
  }));
  // Links between blocks: how many scalar edges join them (child's block → parent's block).
  const counts = new Map();
  for (let e = 0; e < graph.nEdges; e++) {
    const a = of[graph.edgeChild[e]];
    const b = of[graph.edgeParent[e]];
    if (a !== b) counts.set(a * 65536 + b, (counts.get(a * 65536 + b) || 0) + 1);
  }
  const main = blocks.filter((b) => b.declared && b.count > 0);
  main.forEach((b, row) => Object.assign(b, { row, x: 0, y: row * ROW, w: MAIN_W, h: BLOCK_H }));
  const links = [];
  for (const [key, n] of counts) {
    links.push({ key, source: blocks[Math.floor(key / 65536)], target: blocks[key % 65536], n });
  }
  // Leaf blocks sit left of the first block that reads them, stacked when several do.
  const leaves = blocks.filter((b) => !b.declared && b.count > 0);
  const taken = new Map();
  for (const b of leaves) {
    const first = d3.min(links.filter((l) => l.source === b && l.target.declared), (l) => l.target.row) ?? 0;
    const slot = taken.get(first) || 0;
    taken.set(first, slot + 1);
    Object.assign(b, { row: first, slot, x: -(MAIN_W / 2 + GAP + LEAF_W / 2) - slot * (LEAF_W + 24),
      y: first * ROW, w: LEAF_W, h: BLOCK_H });
  }
  let arcs = 0;
  for (const l of links) {
    if (!l.source.declared) l.shape = l.source.row === l.target.row ? 'across' : 'down-left';
    else if (l.target.row - l.source.row > 1) l.shape = 'arc';
    else l.shape = 'next';
    if (l.shape === 'arc') l.lift = 40 + 22 * arcs++;
    l.skip = bypasses(links, l);
  }
  const skips = arcs;
  const shown = blocks.filter((b) => b.count > 0);
  return { blocks: shown, links, main, leaves,
    extent: [[d3.min(shown, (b) => b.x - b.w / 2) - 20, -BLOCK_H],
      [MAIN_W / 2 + 40 + 22 * skips, (main.length - 1) * ROW + BLOCK_H]] };
}

// Its drawn words first, in the order drawn: a spoken command can use what the eye reads.
function blockName(b, figures) {
  return `${b.name}${b.declared ? ` ${b.kind}` : ''}, ${thousands(b.count)} nodes${figures ? `, ${figures}` : ''}: block, Enter expands it`;
}

/** A skip connection: its source also reaches its target through other blocks. */
function bypasses(links, link) {
  const seen = new Set([link.source]);
  const stack = [link.source];
  while (stack.length) {
    const block = stack.pop();
    for (const l of links) {
      if (l === link || l.source !== block || seen.has(l.target)) continue;
      if (l.target === link.target) return true;
      seen.add(l.target);
      stack.push(l.target);
    }
  }
  return false;
}

function linkPath(l) {
  const s = l.source;
  const t = l.target;
  switch (l.shape) {
    case 'next':
      return `M${s.x},${s.y + s.h / 2}L${t.x},${t.y - t.h / 2 - 3}`;
    case 'arc': {
      const x = MAIN_W / 2 + l.lift;
      return `M${s.x + s.w / 2},${s.y}C${x},${s.y} ${x},${t.y} ${t.x + t.w / 2 + 3},${t.y}`;
    }
    case 'across':
      return `M${s.x + s.w / 2},${s.y}L${t.x - t.w / 2 - 3},${t.y}`;
    default: {
      const x0 = s.x;
      const y0 = s.y + s.h / 2;
      return `M${x0},${y0}C${x0},${t.y} ${x0},${t.y} ${t.x - t.w / 2 - 3},${t.y}`;
    }
  }
}

export class GroupedView {
  constructor(container, { onExpand = () => {}, onSelectBlock = () => {} } = {}) {
    this.kind = 'grouped';
    this.onExpand = onExpand;
    this.onSelectBlock = onSelectBlock;
    this.svg = d3.select(container).append('svg').attr('class', 'graph-svg grouped')
      .attr('role', 'group').attr('aria-roledescription', 'network')
      .attr('aria-label', 'Network blocks: arrow keys move between blocks, Enter expands one');
    this.svg.append('defs').html('<marker id="block-arrow" viewBox="0 0 8 8" refX="7" refY="4" '
      + 'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
      + '<path d="M0,0 L8,4 L0,8 z"/></marker>');
    this.zoomLayer = this.svg.append('g');
    this.linkLayer = this.zoomLayer.append('g').attr('class', 'links');
    this.blockLayer = this.zoomLayer.append('g').attr('class', 'blocks');
    this.blockLayer.on('keydown', (event) => this._key(event));
    this.zoom = d3.zoom().scaleExtent([0.1, 6])
      .on('zoom', (event) => this.zoomLayer.attr('transform', event.transform));
    this.svg.call(this.zoom).on('dblclick.zoom', null);
  }

  get element() {
    return this.svg.node();
  }

  setGraph(graph, layout) {
    this.graph = graph;
    this.layout = layout;
    this.linkSel = this.linkLayer.selectAll('g.link').data(layout.links, (l) => l.key)
      .join((enter) => {
        const g = enter.append('g');
        g.append('path').attr('marker-end', 'url(#block-arrow)');
        g.append('title');
        return g;
      })
      .attr('class', (l) => `link ${l.shape}${l.skip ? ' skip' : ''}`)
      .attr('data-source', (l) => l.source.name)
      .attr('data-target', (l) => l.target.name);
    this.linkSel.select('path').attr('d', linkPath)
      .attr('stroke-width', (l) => Math.max(1.2, Math.min(5, Math.log10(l.n + 1))));
    this.linkSel.select('title').text((l) => `${l.source.name} → ${l.target.name}: ${thousands(l.n)} scalar edges${l.skip ? ' (skip connection)' : ''}`);

    this.blockSel = this.blockLayer.selectAll('g.block').data(layout.blocks, (b) => b.name)
      .join((enter) => {
        const g = enter.append('g');
        g.append('rect').attr('class', 'shape').attr('rx', 8);
        g.append('rect').attr('class', 'progress').attr('height', 4).attr('rx', 2);
        g.append('text').attr('class', 'title');
        g.append('text').attr('class', 'count');
        g.append('text').attr('class', 'mean');
        return g;
      })
      .attr('class', (b) => `block${b.declared ? '' : ' leaf-block'}`)
      .attr('transform', (b) => `translate(${b.x},${b.y})`)
      .attr('data-block', (b) => b.name)
      .attr('data-count', (b) => b.count)
      .on('click', (event, b) => {
        this._rove(b.name); // no focus listeners on SVG elements: they would make tab stops
        this.onExpand(b.name);
      });
    // The button is the block's box, not its group: the group's separate texts would make its
    // visible name, which the spoken name must contain (WCAG 2.5.3).
    this.blockByName = new Map();
    this.blockSel.select('rect.shape').attr('tabindex', -1).attr('role', 'button')
      .attr('aria-label', (b) => blockName(b, ''))
      .each((b, k, nodes) => this.blockByName.set(b.name, nodes[k]));
    this.navigator = new NodeNavigator(layout.blocks.map((b) => b.x), layout.blocks.map((b) => b.y),
      { lines: 'rows' });
    this.roving = null;
    this._rove(layout.blocks[this.navigator.first()]?.name ?? null);
    this.blockSel.select('rect.shape').attr('x', (b) => -b.w / 2).attr('y', (b) => -b.h / 2)
      .attr('width', (b) => b.w).attr('height', (b) => b.h);
    this.blockSel.select('rect.progress').attr('x', (b) => -b.w / 2 + 8).attr('y', (b) => b.h / 2 - 9);
    this.blockSel.select('text.title').attr('x', (b) => -b.w / 2 + 10).attr('y', -6)
      .text((b) => b.name).append('tspan').attr('class', 'kind').text((b) => (b.declared ? `  ${b.kind}` : ''));
    this.blockSel.select('text.count').attr('x', (b) => b.w / 2 - 10).attr('y', -6)
      .text((b) => `${d3.format(',')(b.count)} nodes`);
    this.blockSel.select('text.mean').attr('x', (b) => -b.w / 2 + 10).attr('y', 12);
    // No <title> tooltip: the block draws its name, kind and count, and its button's name says
    // that a click or Enter expands it.
    this.fit();
  }

  /** Block `name` (default: the one last focused) takes the tab stop and the focus. */
  focus(name = this.roving) {
    if (name == null || !this.blockByName.has(name)) name = this.layout.blocks[this.navigator.first()]?.name;
    if (name == null) return;
    this._rove(name);
    this.blockByName.get(name).focus({ preventScroll: true });
  }

  _rove(name) {
    if (name === this.roving) return;
    if (this.roving != null && this.blockByName.has(this.roving)) {
      this.blockByName.get(this.roving).setAttribute('tabindex', '-1');
    }
    this.roving = name;
    if (name != null) this.blockByName.get(name).setAttribute('tabindex', '0');
  }

  _key(event) {
    const el = event.target.closest && event.target.closest('g.block');
    if (!el || event.altKey || event.ctrlKey || event.metaKey) return;
    const blocks = this.layout.blocks;
    const k = blocks.findIndex((b) => b.name === el.dataset.block);
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.onExpand(blocks[k].name);
      return;
    }
    const next = this.navigator.move(k, event.key);
    if (next === null) return;
    event.preventDefault();
    this.focus(blocks[next].name);
  }

  fit() {
    const el = this.svg.node();
    const [[x0, y0], [x1, y1]] = this.layout.extent;
    // Readable blocks before a whole network in view: a tall one runs off the bottom and is
    // panned (fit.js); projector mode draws the blocks at least life-size.
    const { k, x, y } = fitTransform({ width: el.clientWidth || 1000, height: el.clientHeight || 600,
      bounds: { x0, y0, x1, y1 }, pad: 15, maxScale: 1.3, minScale: projectorOn() ? 1 : 0.75 });
    this.svg.call(this.zoom.transform, d3.zoomIdentity.translate(x, y).scale(k));
  }

  update(state, ctx = {}) {
    if (ctx.blockOverlay) {
      this.paintOverlay(ctx.blockOverlay);
      return;
    }
    if (this.overlaid) {
      // Back to the trace: forget the overlay's marks, and repaint from the state.
      this.overlaid = null;
      this.lastKey = null;
      this.blockSel.attr('data-health', null).attr('data-grad-norm', null);
    }
    const blocks = this.layout.blocks;
    if (!state) {
      this.lastKey = null;
      this.blockSel.select('rect.shape').style('fill', null);
      this.blockSel.select('text.mean').text('');
      this.blockSel.select('rect.progress').attr('width', 0);
      this._labelFromText();
      return;
    }
    state.takeDirty();
    const key = [state, state.version];
    if (this.lastKey && key.every((v, k) => v === this.lastKey[k])) return;
    this.lastKey = key;
    const means = blocks.map((b) => (state.groupFinal[b.index]
      ? state.groupAbsGrad[b.index] / state.groupFinal[b.index] : NaN));
    const positive = means.filter((m) => m > 0);
    if (positive.length) this.colour = magnitudeColor(d3.min(positive), d3.max(positive));
    this.blockSel.attr('data-mean-abs-grad', (b, k) => (Number.isNaN(means[k]) ? null : String(means[k])))
      .classed('reached', (b) => state.groupValues[b.index] > 0)
      .classed('dark', (b, k) => means[k] > 0 && this.colour && wantsWhiteText(this.colour(means[k])));
    this.blockSel.select('rect.shape')
      .style('fill', (b, k) => (means[k] > 0 ? this.colour(means[k]) : state.groupValues[b.index] ? VALUE_ONLY : null));
    this.blockSel.select('text.mean').text((b, k) => {
      const values = state.groupValues[b.index];
      if (!Number.isNaN(means[k])) return `mean |∇| ${short(means[k])} · ${thousands(state.groupFinal[b.index])} gradients`;
      return values ? `${thousands(values)} values` : '';
    });
    this._labelFromText();
    this.blockSel.select('rect.progress').attr('width', (b) => {
      const done = state.groupFinal[b.index] || state.groupValues[b.index];
      return ((b.w - 16) * done) / Math.max(1, b.count);
    }).classed('backward', (b) => state.groupFinal[b.index] > 0);
  }

  /**
   * Blocks coloured from outside instead of by the trace — training's gradient health
   * (gradient-health.js): `overlay.blocks` maps a block's name to {fill, text, flag, value};
   * blocks it does not name are left plain. Painted again only when the overlay object changes.
   */
  paintOverlay(overlay) {
    if (this.overlaid === overlay) return;
    this.overlaid = overlay;
    this.lastKey = null;
    const info = (b) => overlay.blocks.get(b.name);
    this.blockSel
      .attr('data-grad-norm', (b) => (info(b) && info(b).value != null ? String(info(b).value) : null))
      .attr('data-health', (b) => (info(b) && info(b).flag) || null)
      .attr('data-mean-abs-grad', null)
      .classed('reached', false)
      .classed('dark', (b) => !!(info(b) && info(b).fill) && wantsWhiteText(info(b).fill));
    this.blockSel.select('rect.shape').style('fill', (b) => (info(b) && info(b).fill) || null);
    this.blockSel.select('text.mean').text((b) => (info(b) ? info(b).text : ''));
    this._labelFromText();
    this.blockSel.select('rect.progress').attr('width', 0);
  }

  // The accessible name says what the block's figures line says (a few dozen blocks: cheap).
  _labelFromText() {
    this.blockSel.each(function (b) {
      const text = blockName(b, this.querySelector('text.mean').textContent);
      const button = this.querySelector('rect.shape');
      if (button.getAttribute('aria-label') !== text) button.setAttribute('aria-label', text);
    });
  }

  /** The block colour scale, for the legend. */
  get magnitudeScale() {
    return this.colour;
  }

  destroy() {
    this.svg.remove();
  }
}
