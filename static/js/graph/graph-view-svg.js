// SVG view of scalar nodes (up to a few thousand): nodes, edges, and the chain-rule term on the
// edge back-prop is crossing. Joins once per layout (selection.join); per frame only the nodes
// that changed are touched. Test hooks on each node: data-node-id, data-node-name,
// data-value and data-grad (String(number), once reached).
// Keyboard: the graph is one tab stop (roving tabindex); arrows move between nodes in the order
// they are drawn (node-navigation.js), Enter or Space shows the focused node in the Inspector.
// Each node's aria-label says its label, value and gradient, rewritten only when they change.
// The focusable button is the node's shape, not its group: the group's texts (symbol, value,
// "∇ …") would otherwise be its visible name, which a spoken name must contain (WCAG 2.5.3).
import * as d3 from 'd3';
import { FORWARD, EDGE, UPDATE } from './timeline.js';
import { updateTerm } from './descent-step.js';
import { GRAD_FINAL, GRAD_PARTIAL } from './trace-state.js';
import { fillOf, gradText, isFlagged, isLeaf, symbol, valueText } from './node-style.js';
import { full, short } from '../shared/numbers.js';
import { NodeNavigator } from './node-navigation.js';
import { describeNode } from './node-description.js';
import { wantsWhiteText } from '../shared/colors.js';
import { reducedMotion } from '../shared/theme.js';
import { fitTransform, READABLE_NODES } from './fit.js';

const R = 17; // operator circle radius
const LEAF_W = 46;
const LEAF_H = 26;

export class SvgGraphView {
  constructor(container, { onSelect = () => {} } = {}) {
    this.kind = 'svg';
    this.onSelect = onSelect;
    this.svg = d3.select(container).append('svg')
      .attr('class', 'graph-svg').attr('role', 'group').attr('aria-roledescription', 'graph')
      .attr('aria-label', 'Graph: arrow keys move between nodes, Enter shows one in the Inspector');
    this.svg.append('defs').html(
      '<marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" ' +
      'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker>');
    this.zoomLayer = this.svg.append('g').attr('class', 'zoom-layer');
    this.edgeLayer = this.zoomLayer.append('g').attr('class', 'edges');
    this.nodeLayer = this.zoomLayer.append('g').attr('class', 'nodes');
    this.termLayer = this.zoomLayer.append('g').attr('class', 'terms').attr('aria-hidden', 'true');
    this.nodeLayer.on('keydown', (event) => this._key(event));
    this.zoom = d3.zoom().scaleExtent([0.05, 8])
      .on('zoom', (event) => this.zoomLayer.attr('transform', event.transform));
    this.svg.call(this.zoom).on('dblclick.zoom', null);
    this.lastCurrent = -1;
    this.shownVersion = -1;
  }

  get element() {
    return this.svg.node();
  }

  /** Nodes `ids` of `graph` at `layout` positions (graph-layout.js). */
  setGraph(graph, layout) {
    this.lastKey = null;
    this.graph = graph;
    this.layout = layout;
    const ids = layout.ids;
    const inView = layout.index;
    const edges = [];
    for (const p of ids) {
      for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) {
        if (inView.has(graph.edgeChild[e])) edges.push(e);
      }
    }
    this.edges = edges;
    this.edgeLabelPx = parseFloat(getComputedStyle(this.svg.node()).getPropertyValue('--label-edge')) || 11;
    this.showEdgeValues = ids.length <= READABLE_NODES;
    this.edgeSel = this.edgeLayer.selectAll('g.edge').data(edges, (e) => e)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'edge');
        g.append('path').attr('marker-end', 'url(#arrow)');
        g.append('text').attr('class', 'edge-value');
        return g;
      })
      .attr('data-edge', (e) => e)
      .attr('data-parent', (e) => graph.edgeParent[e])
      .attr('data-child', (e) => graph.edgeChild[e]);

    this.nodeSel = this.nodeLayer.selectAll('g.node').data(ids, (id) => id)
      .join((enter) => {
        const g = enter.append('g');
        g.each(function (id) {
          const node = d3.select(this);
          if (isLeaf(graph.op[id])) {
            node.append('rect').attr('class', 'shape').attr('x', -LEAF_W / 2).attr('y', -LEAF_H / 2)
              .attr('width', LEAF_W).attr('height', LEAF_H).attr('rx', 6);
            node.append('rect').attr('class', 'focus-ring').attr('x', -LEAF_W / 2 - 5).attr('y', -LEAF_H / 2 - 5)
              .attr('width', LEAF_W + 10).attr('height', LEAF_H + 10).attr('rx', 9);
          } else {
            node.append('circle').attr('class', 'shape').attr('r', R);
            node.append('circle').attr('class', 'focus-ring').attr('r', R + 5);
          }
        });
        g.append('text').attr('class', 'op').attr('dy', '0.35em');
        g.append('text').attr('class', 'name').attr('y', -R - 6);
        g.append('text').attr('class', 'value').attr('y', R + 14);
        g.append('text').attr('class', 'grad').attr('y', R + 27);
        g.append('text').attr('class', 'check').attr('x', LEAF_W / 2 + 4).attr('y', -LEAF_H / 2 + 2);
        return g;
      })
      .attr('class', (id) => `node ${isLeaf(graph.op[id]) ? graph.op[id] : 'op'}${graph.output[id] ? ' output' : ''}`)
      .attr('data-node-id', (id) => id)
      .attr('data-node-name', (id) => graph.name[id] ?? null)
      // No focus listeners on SVG elements: in Chromium they make the element a tab stop.
      .on('click', (event, id) => {
        this._rove(id);
        this.onSelect(id);
      });
    this.nodeSel.select('text.op').text((id) => (isLeaf(graph.op[id]) ? (graph.shownName[id] ?? graph.op[id]) : symbol(graph.op[id])));
    this.nodeSel.select('text.name').text((id) => (isLeaf(graph.op[id]) ? '' : graph.shownName[id] ?? ''));
    this.nodeById = new Map();
    this.nodeSel.each((id, k, nodes) => this.nodeById.set(id, nodes[k]));
    this.buttonById = new Map();
    this.nodeSel.select('.shape').attr('tabindex', -1).attr('role', 'button')
      .attr('aria-label', (id) => describeNode(graph, null, id))
      .each((id, k, nodes) => this.buttonById.set(id, nodes[k]));
    this.edgeById = new Map();
    this.edgeSel.each((e, k, nodes) => this.edgeById.set(e, nodes[k]));
    this.navigator = new NodeNavigator(layout.x, layout.y);
    this.roving = null;
    this._rove(ids[this.navigator.first()] ?? null);
    this._place(false);
    this.fit();
    this.shownVersion = -1;
  }

  /** Node `id` (default: the one last focused) takes the graph's tab stop and the focus. */
  focus(id = this.roving) {
    if (id == null || !this.buttonById.has(id)) id = this.layout.ids[this.navigator.first()];
    if (id == null) return;
    this._rove(id);
    this.buttonById.get(id).focus({ preventScroll: true });
    this._reveal(id);
  }

  _rove(id) {
    if (id === this.roving) return;
    if (this.roving != null && this.buttonById && this.buttonById.has(this.roving)) {
      this.buttonById.get(this.roving).setAttribute('tabindex', '-1');
    }
    this.roving = id;
    if (id != null && this.buttonById) this.buttonById.get(id).setAttribute('tabindex', '0');
  }

  _key(event) {
    const el = event.target.closest && event.target.closest('g.node');
    if (!el || event.altKey || event.ctrlKey || event.metaKey) return;
    const id = +el.dataset.nodeId;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.onSelect(id);
      return;
    }
    const next = this.navigator.move(this.layout.index.get(id), event.key);
    if (next === null) return;
    event.preventDefault();
    this.focus(this.layout.ids[next]);
  }

  /** Pan (no zoom) so that a node moved to by the keyboard is inside the view. */
  _reveal(id) {
    const el = this.svg.node();
    const [x, y] = this._pos(id);
    const [sx, sy] = d3.zoomTransform(el).apply([x, y]);
    const margin = 40;
    if (sx < margin || sy < margin || sx > el.clientWidth - margin || sy > el.clientHeight - margin) {
      this.svg.call(this.zoom.translateTo, x, y);
    }
  }

  /** New positions for the same nodes (e.g. dagre finished after the fallback): animate. */
  setLayout(layout) {
    this.layout = layout;
    this.navigator = new NodeNavigator(layout.x, layout.y);
    this._place(true);
    this.fit(true);
  }

  _pos(id) {
    const k = this.layout.index.get(id);
    return [this.layout.x[k], this.layout.y[k]];
  }

  /** Edge e as a cubic Bézier from its child (left) to its parent (right): [P0, P1, P2, P3]. */
  _edgeCurve(e) {
    const g = this.graph;
    const [xc, yc] = this._pos(g.edgeChild[e]);
    const [xp, yp] = this._pos(g.edgeParent[e]);
    const slot = e - g.childStart[g.edgeParent[e]];
    const nSlots = g.childStart[g.edgeParent[e] + 1] - g.childStart[g.edgeParent[e]];
    // Edges into one parent arrive apart enough that their values (at 3/4 of the way) do not
    // overlap at the label size in use (projector mode's are bigger), inside the circle's reach.
    const gap = Math.min(Math.max(10, 1.15 * this.edgeLabelPx), (2 * (R - 4)) / Math.max(1, nSlots - 1));
    const offset = nSlots > 1 ? (slot - (nSlots - 1) / 2) * gap : 0;
    const x0 = xc + (isLeaf(g.op[g.edgeChild[e]]) ? LEAF_W / 2 : R);
    const x1 = xp - R - 3;
    const mx = (x0 + x1) / 2;
    return [[x0, yc], [mx, yc], [mx, yp + offset], [x1, yp + offset]];
  }

  _edgePath(e) {
    const [p0, p1, p2, p3] = this._edgeCurve(e);
    return `M${p0}C${p1} ${p2} ${p3}`;
  }

  /** Where an edge's value sits: on the curve, three quarters of the way to the parent, where
   * the edges of a fan-out have already parted (at the midpoint they still overlap). */
  _labelPoint(e) {
    const [p0, p1, p2, p3] = this._edgeCurve(e);
    const t = 0.75;
    const a = (1 - t) ** 3;
    const b = 3 * (1 - t) ** 2 * t;
    const c = 3 * (1 - t) * t ** 2;
    const d = t ** 3;
    return [0, 1].map((k) => a * p0[k] + b * p1[k] + c * p2[k] + d * p3[k]);
  }

  _place(animate) {
    if (reducedMotion()) animate = false;
    const t = animate ? this.svg.transition().duration(600) : null;
    const nodes = animate ? this.nodeSel.transition(t) : this.nodeSel;
    nodes.attr('transform', (id) => `translate(${this._pos(id)})`);
    const paths = animate ? this.edgeSel.select('path').transition(t) : this.edgeSel.select('path');
    paths.attr('d', (e) => this._edgePath(e));
    this.edgeSel.select('text.edge-value').attr('transform', (e) => {
      const [x, y] = this._labelPoint(e);
      return `translate(${x},${y - 3})`;
    });
  }

  fit(animate = false) {
    const el = this.svg.node();
    const l = this.layout;
    // The nodes' extent in layout units (the target of a layout change, not where a transition
    // is now), with room for their labels: the name above, the value and gradient below.
    const css = getComputedStyle(el);
    const size = (name, fallback) => parseFloat(css.getPropertyValue(name)) || fallback;
    const xs = Array.from(l.x);
    const ys = Array.from(l.y);
    const bounds = { x0: d3.min(xs) - LEAF_W / 2 - 4, x1: d3.max(xs) + LEAF_W / 2 + 16,
      y0: d3.min(ys) - R - 8 - 1.2 * size('--label-name', 12),
      y1: d3.max(ys) + R + 6 + 2.8 * size('--label-value', 11.5) };
    const { k, x, y } = fitTransform({ width: el.clientWidth || 800, height: el.clientHeight || 600,
      bounds, minScale: l.ids.length <= READABLE_NODES ? 1 : 0 });
    const transform = d3.zoomIdentity.translate(x, y).scale(k);
    (animate && !reducedMotion() ? this.svg.transition().duration(600) : this.svg)
      .call(this.zoom.transform, transform);
  }

  /**
   * Draw `state` (trace-state.js). `ctx`: {gradScale, selected, checks: Map id → bool,
   * flagged: Set, animateMs}.
   */
  update(state, ctx) {
    if (!state) {
      this._clear();
      return;
    }
    const g = this.graph;
    // Nothing moved since the last frame: touch nothing (a DOM write costs a repaint).
    const key = [state, state.version, state.pos, ctx.selected, ctx.checks, ctx.flagged, ctx.gradScale];
    if (this.lastKey && key.every((v, k) => v === this.lastKey[k])) return;
    this.lastKey = key;
    const dirty = state.takeDirty();
    const ids = dirty === null ? this.layout.ids : dirty;
    const small = ids.length < 40 && ctx.animateMs > 30 && !reducedMotion();
    for (const id of ids) {
      const el = this.nodeById.get(id);
      if (!el) continue;
      const node = d3.select(el);
      node.classed('reached', state.valueReached[id] === 1)
        .classed('grad-partial', state.gradState[id] === GRAD_PARTIAL)
        .classed('grad-final', state.gradState[id] === GRAD_FINAL)
        .classed('flagged', isFlagged(state, id) || ctx.flagged.has(id));
      setData(el, 'value', state.valueReached[id] ? full(state.value[id]) : null);
      setData(el, 'grad', state.gradState[id] === GRAD_FINAL ? full(state.gradFinal[id]) : null);
      setData(el, 'gradPartial', state.gradState[id] === GRAD_PARTIAL ? full(state.gradSum[id]) : null);
      const shape = node.select('.shape');
      const fill = fillOf(state, id, ctx.gradScale);
      node.classed('dark', isDark(fill));
      (small ? shape.transition().duration(Math.min(300, ctx.animateMs)) : shape.interrupt())
        .style('fill', fill);
      setText(el.querySelector('text.value'), valueText(state, id));
      setText(el.querySelector('text.grad'), gradText(state, id, g));
      setLabel(shape.node(), describeNode(g, state, id));
    }
    // Edges: which carried their contribution; the one just crossed shows the chain rule.
    const t = state.timeline;
    const current = state.current;
    const currentEdge = current >= 0 && t.kind[current] === EDGE ? t.edge[current] : -1;
    this.edgeSel
      .classed('reached', (e) => state.edgeReached[e] === 1)
      .classed('active', (e) => e === currentEdge)
      .classed('forward-active', (e) => current >= 0 && t.kind[current] === FORWARD
        && g.edgeParent[e] === t.node[current]);
    this.edgeSel.select('path').style('stroke', (e) => (state.edgeReached[e]
      ? ctx.gradScale(state.edgeContribution[e]) : null));
    if (this.showEdgeValues) {
      this.edgeSel.select('text.edge-value').each(function (e) {
        setText(this, state.edgeReached[e] && e !== currentEdge ? short(state.edgeContribution[e]) : '');
      });
    }
    this.nodeSel.classed('current', (id) => current >= 0 && t.node[current] === id
      && t.kind[current] !== EDGE)
      .classed('receiving', (id) => currentEdge >= 0 && g.edgeChild[currentEdge] === id)
      .classed('selected', (id) => id === ctx.selected)
      .attr('data-check', (id) => (ctx.checks.has(id) ? (ctx.checks.get(id) ? 'agree' : 'disagree') : null));
    this.nodeSel.select('text.check').each(function (id) {
      setText(this, ctx.checks.has(id) ? (ctx.checks.get(id) ? '✓' : '✗') : '');
    });
    if (current !== this.lastCurrent) {
      this.lastCurrent = current;
      this._showTerm(state, current, ctx);
    }
  }

  // The chain-rule term of the event at the playhead, on its edge: upstream × local = contribution.
  _showTerm(state, i, ctx) {
    const t = state.timeline;
    const g = this.graph;
    const data = [];
    if (i >= 0 && t.kind[i] === EDGE && this.edgeById.has(t.edge[i])) {
      const e = t.edge[i];
      const [xc, yc] = this._pos(g.edgeChild[e]);
      const [xp, yp] = this._pos(g.edgeParent[e]);
      data.push({ key: i, e, x: (xc + xp) / 2, y: (yc + yp) / 2,
        text: `${short(state.gradFinal[g.edgeParent[e]])} × ${short(t.local[i])} = ${short(t.value[i])}` });
    } else if (i >= 0 && t.kind[i] === UPDATE && t.step) {
      // A descent step's update, on the input it changes (UPDATE events come first: i is its k).
      const [x, y] = this._pos(t.node[i]);
      // Written from the node's left edge rightwards: inputs sit at the graph's left border.
      data.push({ key: i, e: null, node: t.node[i], x: x - 26, y: y - 18, text: updateTerm(t.step, i) });
    }
    const terms = this.termLayer.selectAll('g.term').data(data, (d) => d.key)
      .join((enter) => {
        const gEl = enter.append('g').attr('class', 'term');
        gEl.append('rect').attr('rx', 4);
        gEl.append('text').attr('dy', '0.35em');
        return gEl;
      })
      .attr('transform', (d) => `translate(${d.x},${d.y - 16})`)
      .attr('data-edge', (d) => d.e)
      .attr('data-node', (d) => d.node ?? null);
    terms.select('text').text((d) => d.text).style('text-anchor', (d) => (d.e === null ? 'start' : null));
    terms.each(function () {
      const box = this.querySelector('text').getBBox();
      d3.select(this).select('rect').attr('x', box.x - 5).attr('y', box.y - 2)
        .attr('width', box.width + 10).attr('height', box.height + 4);
    });
    // A pulse travelling back along the edge, from the parent to the child.
    if (data.length && data[0].e !== null && ctx.animateMs > 40 && !reducedMotion()) {
      const path = this.edgeById.get(data[0].e).querySelector('path');
      const length = path.getTotalLength();
      this.termLayer.append('circle').attr('class', 'pulse').attr('r', 5)
        .transition().duration(Math.min(700, ctx.animateMs)).ease(d3.easeCubicInOut)
        .attrTween('transform', () => (u) => {
          const point = path.getPointAtLength(length * (1 - u));
          return `translate(${point.x},${point.y})`;
        })
        .remove();
    }
  }

  _clear() {
    this.lastKey = null;
    this.nodeSel.classed('reached grad-partial grad-final flagged current receiving', false)
      .attr('data-value', null).attr('data-grad', null).attr('data-grad-partial', null);
    this.nodeSel.select('.shape').style('fill', null);
    this.nodeSel.selectAll('text.value, text.grad').text('');
    this.nodeSel.select('.shape').each((id, k, nodes) => setLabel(nodes[k], describeNode(this.graph, null, id)));
    this.edgeSel.classed('reached active', false);
    this.termLayer.selectAll('*').remove();
  }

  destroy() {
    this.svg.remove();
  }
}

const darkness = new Map();
function isDark(fill) {
  let dark = darkness.get(fill);
  if (dark === undefined) {
    dark = wantsWhiteText(fill); // white or black text, whichever contrasts more (WCAG)
    darkness.set(fill, dark);
  }
  return dark;
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

function setLabel(el, text) {
  if (el.getAttribute('aria-label') !== text) el.setAttribute('aria-label', text);
}

function setData(el, key, value) {
  if (value === null) delete el.dataset[key];
  else if (el.dataset[key] !== value) el.dataset[key] = value;
}

