// Canvas view of many scalar nodes (an expanded ResNet block: thousands to tens of thousands),
// where SVG would choke. Three stacked canvases:
//   base     edges, drawn again only when the view moves;
//   nodes    one square per node, coloured from a small palette; a full repaint when the view
//            moves, else only the nodes that changed since the last frame are painted over;
//   overlay  the edges back-prop just crossed and the selection, cleared every frame.
// So a frame costs what changed in it, not the size of the graph.
// Keyboard: the canvas is one tab stop with the scalar views' keys (arrows between nodes in the
// order they are drawn, Home/End, Enter or Space shows the node in the Inspector); a drawn ring
// marks the focused node and a live region says its label, value and gradient.
import * as d3 from 'd3';
import { EDGE } from './timeline.js';
import { GRAD_FINAL } from './trace-state.js';
import { BACKGROUND, FLAGGED, INK, UNREACHED, VALUE_ONLY } from '../shared/colors.js';
import { NodeNavigator, firstInReadingOrder } from './node-navigation.js';
import { NodePainter, strokeEdges } from './canvas-paint.js';
import { describeNode } from './node-description.js';

const STEPS = 32; // palette steps across the diverging scale
const B_UNREACHED = STEPS + 1;
const B_VALUE = STEPS + 2;
const B_FLAGGED = STEPS + 3;
let canvasCount = 0; // ids for each canvas view's live region
const NODE_SPACING = 16; // layout units between neighbours (views.js lays out with this)
// Edges stroked per animation frame. Chromium rasterises a canvas path when the frame is
// painted, on the main thread without a GPU: one path of 200,000 segments held it 300 ms, so a
// big graph's edges are drawn a slice a frame (each slice its own path, rastered in its frame:
// 12,000 edges of a random DAG took up to 45 ms, 5,000 up to 70 ms on a loaded machine).
const EDGES_PER_FRAME = 2500;

export class CanvasGraphView {
  constructor(container, { onSelect = () => {} } = {}) {
    this.kind = 'canvas';
    this.onSelect = onSelect;
    this.root = d3.select(container).append('div').attr('class', 'graph-canvas')
      .attr('tabindex', 0).attr('role', 'application').attr('aria-roledescription', 'graph')
      .attr('aria-label', 'Graph: arrow keys move between nodes, Enter shows one in the Inspector')
      .attr('aria-describedby', `canvas-focus-${++canvasCount}`)
      .on('keydown', (event) => this._key(event))
      .on('focus', () => { this.hasFocus = true; this._focusMoved(); })
      .on('blur', () => { this.hasFocus = false; this._drawOverlay(); });
    this.base = this.root.append('canvas').attr('class', 'base').node();
    this.nodes = this.root.append('canvas').attr('class', 'nodes').node();
    this.top = this.root.append('canvas').attr('class', 'top').node();
    this.live = this.root.append('div').attr('class', 'visually-hidden').attr('aria-live', 'polite')
      .attr('id', `canvas-focus-${canvasCount}`).node();
    this.focusK = -1; // the focused node, index into the layout
    this.hasFocus = false;
    this.transform = d3.zoomIdentity;
    this.zoom = d3.zoom().scaleExtent([0.002, 20]).on('zoom', (event) => {
      this.transform = event.transform;
      this._drawBase();
      this._drawNodes(null);
      this._drawOverlay();
    });
    d3.select(this.top).call(this.zoom).on('dblclick.zoom', null)
      .on('click', (event) => this._click(event));
    this.lastState = null;
    this.recent = [];
    this._baseDraws = 0; // edge drawings begun: a slice still to come of an older one stops
    this.painter = new NodePainter((changed) => this._nodesDrawn(changed));
    this.drawn = null; // resolves once this graph's nodes are all painted (views.js marks it)
    // Drawn again only when the size did change: the observer's first call (and a re-layout of
    // the page that leaves this view as it was) would otherwise repaint every node once more.
    this._resizeObserver = new ResizeObserver(() => { if (this._measure() !== this.sized) this._resize(); });
    this._resizeObserver.observe(this.root.node());
  }

  get element() {
    return this.top;
  }

  setGraph(graph, layout) {
    this.graph = graph;
    this.layout = layout;
    const m = layout.ids.length;
    this.bucket = new Uint8Array(m).fill(B_UNREACHED);
    const inView = layout.index;
    // Each edge in view as its two ends' indexes into the layout (child, parent), looked up once
    // (the whole graph in id order needs no look-up: k is the id).
    const ids = layout.ids;
    let whole = m === graph.n;
    for (let k = 0; whole && k < m; k++) whole = ids[k] === k;
    const ends = new Int32Array(2 * graph.nEdges);
    let j = 0;
    for (let kp = 0; kp < m; kp++) {
      const p = ids[kp];
      for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) {
        const kc = whole ? graph.edgeChild[e] : inView.get(graph.edgeChild[e]);
        if (kc === undefined) continue;
        ends[j++] = kc;
        ends[j++] = kp;
      }
    }
    this.edgeEnds = ends.subarray(0, j);
    // The click's quadtree and the arrow keys' navigator: built when first used (together
    // 90 ms at 100,000 nodes, in the task that shows the graph otherwise).
    this._quadtree = null;
    this._navigator = null;
    const focusedId = this.focusK >= 0 && this.layout ? this.layout.ids[this.focusK] : null;
    this.focusK = focusedId != null && layout.index.has(focusedId) ? layout.index.get(focusedId)
      : firstInReadingOrder(layout.x, layout.y);
    this.drawn = new Promise((resolve) => { this._drawnNow = resolve; });
    this._resize({ draw: false });
    this.fit(); // draws, through the zoom handler: once, not once for the size and again here
  }

  get quadtree() {
    const l = this.layout;
    if (!this._quadtree && l) this._quadtree = d3.quadtree().x((k) => l.x[k]).y((k) => l.y[k]).addAll(d3.range(l.ids.length));
    return this._quadtree;
  }

  get navigator() {
    if (!this._navigator && this.layout) this._navigator = new NodeNavigator(this.layout.x, this.layout.y);
    return this._navigator;
  }

  setLayout(layout) {
    this.setGraph(this.graph, layout);
  }

  _measure() {
    const el = this.root.node();
    return `${el.clientWidth || 800}x${el.clientHeight || 600}@${window.devicePixelRatio || 1}`;
  }

  _resize({ draw = true } = {}) {
    const el = this.root.node();
    const ratio = window.devicePixelRatio || 1;
    this.sized = this._measure();
    this.width = el.clientWidth || 800;
    this.height = el.clientHeight || 600;
    for (const canvas of [this.base, this.nodes, this.top]) {
      canvas.width = Math.round(this.width * ratio);
      canvas.height = Math.round(this.height * ratio);
      canvas.style.width = `${this.width}px`;
      canvas.style.height = `${this.height}px`;
      canvas.getContext('2d').setTransform(ratio, 0, 0, ratio, 0, 0);
    }
    if (!draw) return;
    this._drawBase();
    this._drawNodes(null);
    this._drawOverlay();
  }

  fit() {
    const l = this.layout;
    if (!l) return;
    const pad = 30;
    const k = Math.min(4, (this.width - 2 * pad) / Math.max(1, l.width),
      (this.height - 2 * pad) / Math.max(1, l.height));
    const transform = d3.zoomIdentity.translate(this.width / 2, this.height / 2).scale(k)
      .translate(-l.width / 2, -l.height / 2);
    d3.select(this.top).call(this.zoom.transform, transform);
  }

  // Node squares never overlap (so one can be painted over alone): at most 80% of the spacing.
  _size() {
    return Math.max(1, Math.min(14, NODE_SPACING * this.transform.k * 0.8));
  }

  /** The edges, again from the first: a slice now, the rest a slice a frame (a newer draw, from
   * a zoom say, supersedes the slices still to come). */
  _drawBase() {
    const ctx = this.base.getContext('2d');
    ctx.clearRect(0, 0, this.width, this.height);
    const draw = ++this._baseDraws;
    delete this.root.node().dataset.edgesDrawn;
    if (!this.layout) return;
    const count = this.edgeEnds.length / 2;
    // Many edges: faint; a few (or zoomed in): clearer.
    const alpha = Math.min(0.5, Math.max(0.05, (300 / Math.max(1, count)) * Math.max(1, this.transform.k * 4)));
    const slice = (from) => {
      if (draw !== this._baseDraws) return;
      const to = Math.min(count, from + EDGES_PER_FRAME);
      strokeEdges(ctx, this.layout, this.edgeEnds, this.transform, from, to, alpha);
      if (to < count) requestAnimationFrame(() => slice(to));
      else this.root.node().dataset.edgesDrawn = String(draw); // for tests: every edge is drawn
    };
    slice(0);
  }

  /** Node `id` (default: the one last focused) is focused: the canvas takes the focus. */
  focus(id = null) {
    if (id != null && this.layout.index.has(id)) this.focusK = this.layout.index.get(id);
    this.root.node().focus({ preventScroll: true });
    this._focusMoved();
  }

  _key(event) {
    if (!this.layout || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      if (this.focusK >= 0) this.onSelect(this.layout.ids[this.focusK]);
      return;
    }
    const next = this.navigator.move(this.focusK, event.key);
    if (next === null) return;
    event.preventDefault();
    this.focusK = next;
    this._focusMoved();
  }

  /** After the focus moved to another node: pan it into view, ring it, say it. */
  _focusMoved() {
    if (this.focusK < 0 || !this.layout) return;
    const x = this.layout.x[this.focusK];
    const y = this.layout.y[this.focusK];
    const [sx, sy] = this.transform.apply([x, y]);
    const margin = 20;
    if (sx < margin || sy < margin || sx > this.width - margin || sy > this.height - margin) {
      d3.select(this.top).call(this.zoom.translateTo, x, y); // redraws through the zoom handler
    } else this._drawOverlay();
    this._describe();
  }

  // Rewritten only when the words change: a node's value and gradient change a few times a trace.
  _describe() {
    if (this.focusK < 0 || !this.layout) return;
    const id = this.layout.ids[this.focusK];
    const text = describeNode(this.graph, this.lastState, id);
    if (this.live.textContent !== text) this.live.textContent = text;
    this.root.node().dataset.focusNode = String(id);
  }

  update(state, ctx) {
    this.ctx = ctx;
    let full = state !== this.lastState;
    this.lastState = state;
    const described = [state, state && state.version];
    if (this.hasFocus && !(this.described && described.every((v, k) => v === this.described[k]))) {
      this.described = described;
      this._describe();
    }
    const scale = ctx.gradScale;
    if (scale !== this.scale) {
      this.scale = scale;
      const interpolator = scale.interpolator();
      this.palette = d3.range(STEPS + 1).map((b) => interpolator(b / STEPS));
      this.palette[B_UNREACHED] = UNREACHED;
      this.palette[B_VALUE] = VALUE_ONLY;
      this.palette[B_FLAGGED] = FLAGGED;
      this.normalise = scale.copy().interpolator((u) => u);
      full = true;
    }
    if (!state) {
      this.bucket.fill(B_UNREACHED);
      this.recent = [];
      this._drawNodes(null);
      this._drawOverlay();
      return;
    }
    const key = [state.version, ctx.selected];
    const same = !full && this.lastKey && key.every((v, k) => v === this.lastKey[k]);
    this.lastKey = key;
    if (same) return;
    const dirty = state.takeDirty();
    const { index, ids } = this.layout;
    let changed = [];
    if (dirty === null || full) {
      for (let k = 0; k < ids.length; k++) this.bucket[k] = this._bucketOf(state, ids[k]);
      changed = null;
    } else {
      for (const id of dirty) {
        const k = index.get(id);
        if (k === undefined) continue;
        const b = this._bucketOf(state, id);
        if (b !== this.bucket[k]) {
          this.bucket[k] = b;
          changed.push(k);
        }
      }
    }
    this._drawNodes(changed);
    // Edges crossed in the last few events glow.
    const t = state.timeline;
    const recent = [];
    for (let i = Math.max(t.forwardCount, state.pos - 64); i < state.pos; i++) {
      if (t.kind[i] === EDGE) recent.push(t.edge[i]);
    }
    this.recent = recent;
    this._drawOverlay();
  }

  _bucketOf(state, id) {
    const gs = state.gradState[id];
    if (gs !== 0) {
      const g = gs === GRAD_FINAL ? state.gradFinal[id] : state.gradSum[id];
      if (!Number.isFinite(g)) return B_FLAGGED;
      return Math.round(this.normalise(g) * STEPS);
    }
    if (state.valueReached[id]) return Number.isFinite(state.value[id]) ? B_VALUE : B_FLAGGED;
    return B_UNREACHED;
  }

  /** Paint nodes: all of them (`changed` null), else only those listed, colour by colour. */
  _drawNodes(changed) {
    const ctx = this.nodes.getContext('2d');
    if (!this.layout || !this.palette) {
      this.painter.cancel();
      ctx.clearRect(0, 0, this.width, this.height);
      return;
    }
    const size = this._size();
    if (changed === null) {
      this.painter.paint(this.nodes, this.width, { layout: this.layout, transform: this.transform,
        size, bucket: this.bucket, palette: this.palette });
      return;
    }
    this.painter.note(changed);
    const { x, y } = this.layout;
    const t = this.transform;
    const half = size / 2;
    const m = changed.length;
    // Counting sort by colour: one fillStyle per colour present.
    const counts = new Int32Array(this.palette.length + 1);
    for (let j = 0; j < m; j++) counts[this.bucket[changed[j]] + 1]++;
    for (let b = 1; b < counts.length; b++) counts[b] += counts[b - 1];
    const order = new Int32Array(m);
    const next = counts.slice();
    for (let j = 0; j < m; j++) order[next[this.bucket[changed[j]]]++] = changed[j];
    for (let b = 0; b < this.palette.length; b++) {
      if (counts[b] === counts[b + 1]) continue;
      ctx.fillStyle = this.palette[b];
      for (let j = counts[b]; j < counts[b + 1]; j++) {
        const k = order[j];
        const sx = t.x + t.k * x[k];
        const sy = t.y + t.k * y[k];
        if (sx < -size || sx > this.width + size || sy < -size || sy > this.height + size) continue;
        ctx.fillRect(sx - half, sy - half, size, size);
      }
    }
  }

  /** Every node is painted: those changed while it was painted in steps are painted again. */
  _nodesDrawn(changed) {
    if (changed.length) this._drawNodes(changed);
    if (this._drawnNow) this._drawnNow();
    this._drawnNow = null;
  }

  _drawOverlay() {
    const ctx = this.top.getContext('2d');
    ctx.clearRect(0, 0, this.width, this.height);
    if (!this.layout) return;
    const { x, y, index } = this.layout;
    const t = this.transform;
    const g = this.graph;
    if (this.recent.length) {
      ctx.strokeStyle = '#f28e2b';
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (const e of this.recent) {
        const c = index.get(g.edgeChild[e]);
        const p = index.get(g.edgeParent[e]);
        if (c === undefined || p === undefined) continue;
        ctx.moveTo(t.x + t.k * x[c], t.y + t.k * y[c]);
        ctx.lineTo(t.x + t.k * x[p], t.y + t.k * y[p]);
      }
      ctx.stroke();
    }
    if (this.hasFocus && this.focusK >= 0) {
      // The keyboard focus: a ring in the page's accent colour on a white halo, larger than the
      // selection's square so both show when they are the same node.
      const size = this._size();
      const cx = t.x + t.k * x[this.focusK];
      const cy = t.y + t.k * y[this.focusK];
      const r = size / 2 + 7;
      ctx.lineWidth = 5;
      ctx.strokeStyle = '#fff';
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.lineWidth = 3;
      ctx.strokeStyle = getComputedStyle(this.root.node()).getPropertyValue('--accent').trim() || '#2f6fdb';
      ctx.stroke();
    }
    const selected = this.ctx && this.ctx.selected;
    const ks = selected != null ? index.get(selected) : undefined;
    if (ks !== undefined) {
      const size = this._size();
      ctx.strokeStyle = INK; // the theme's text colour: seen on light and dark
      ctx.lineWidth = 2;
      ctx.strokeRect(t.x + t.k * x[ks] - size / 2 - 3, t.y + t.k * y[ks] - size / 2 - 3, size + 6, size + 6);
    }
  }

  _click(event) {
    if (!this.quadtree) return;
    const [mx, my] = d3.pointer(event, this.top);
    const [lx, ly] = this.transform.invert([mx, my]);
    const k = this.quadtree.find(lx, ly, Math.max(6, 10 / this.transform.k));
    if (k !== undefined) {
      this.focusK = k;
      this._describe();
      this.onSelect(this.layout.ids[k]);
    }
  }

  /** An SVG rendering of what the canvas shows (for export). */
  toSVG() {
    const { x, y, ids, width, height } = this.layout;
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="-10 -10 ${width + 20} ${height + 20}">`,
      `<rect x="-10" y="-10" width="100%" height="100%" fill="${BACKGROUND}"/>`];
    for (let k = 0; k < ids.length; k++) {
      parts.push(`<rect x="${x[k] - 6}" y="${y[k] - 6}" width="12" height="12" fill="${this.palette[this.bucket[k]]}" data-node-id="${ids[k]}"/>`);
    }
    parts.push('</svg>');
    return parts.join('');
  }

  destroy() {
    this._resizeObserver.disconnect();
    this.root.remove();
  }
}
