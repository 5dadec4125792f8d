// What the graph looks like after the first `pos` events of a timeline: each node's value, its
// gradient so far (the running sum of the contributions it has received — the fan-out `+=`),
// whether that gradient is final, and which edges have carried their contribution.
// Moving the playhead applies or undoes events one at a time, so stepping back is exact.
// After a descent step, an input's value and the gradient it used show from its UPDATE event,
// before the forward pass reaches it again.

import { FORWARD, SEED, GRADIENT, EDGE, UPDATE, ZERO, KEEP } from './timeline.js';
import { sliceTimer } from '../shared/yield.js';

export const GRAD_NONE = 0;
export const GRAD_PARTIAL = 1;
export const GRAD_FINAL = 2;

export class TraceState {
  constructor(graph, timeline) {
    this.graph = graph;
    this.timeline = timeline;
    const n = graph.n;
    this.value = new Float64Array(n).fill(NaN);
    this.valueReached = new Uint8Array(n);
    this.gradSum = new Float64Array(n); // running sum of seed + contributions received
    this.gradFinal = new Float64Array(n).fill(NaN); // the engine's final gradient
    this.gradState = new Uint8Array(n);
    this.received = new Uint32Array(n); // contributions received so far
    this.edgeReached = new Uint8Array(graph.nEdges);
    this.edgeLocal = new Float64Array(graph.nEdges).fill(NaN); // valid where edgeReached
    this.edgeContribution = new Float64Array(graph.nEdges).fill(NaN);
    this.pos = 0;
    // Per event, what it overwrote, for undo.
    this._undoSum = new Float64Array(timeline.capacity);
    this._undoState = new Uint8Array(timeline.capacity);
    // Per group (block), for the grouped view: sum of |final gradient| and how many are final.
    this.groupIndex = groupIndex(graph);
    this.groupAbsGrad = new Float64Array(this.groupIndex.names.length);
    this.groupFinal = new Uint32Array(this.groupIndex.names.length);
    this.groupValues = new Uint32Array(this.groupIndex.names.length);
    this.version = 0; // bumps on every change: views redraw when it moved
    // Nodes changed since a view last asked (takeDirty), so views touch only those.
    this._dirtyMark = new Uint8Array(n);
    this._dirty = [];
    this._allDirty = true;
  }

  _touch(v) {
    if (!this._dirtyMark[v]) {
      this._dirtyMark[v] = 1;
      this._dirty.push(v);
    }
  }

  /** The nodes changed since the last call, or null when everything may have changed. */
  takeDirty() {
    const all = this._allDirty;
    const list = this._dirty;
    for (const v of list) this._dirtyMark[v] = 0;
    this._dirty = [];
    this._allDirty = false;
    return all ? null : list;
  }

  markAllDirty() {
    this._allDirty = true;
  }

  _ensureUndo() {
    const cap = this.timeline.capacity;
    if (this._undoSum.length < cap) {
      const s = new Float64Array(cap);
      s.set(this._undoSum);
      this._undoSum = s;
      const t = new Uint8Array(cap);
      t.set(this._undoState);
      this._undoState = t;
    }
  }

  /** Grad shown for a node: final when final, else the running sum, else NaN. */
  grad(i) {
    const s = this.gradState[i];
    return s === GRAD_FINAL ? this.gradFinal[i] : s === GRAD_PARTIAL ? this.gradSum[i] : NaN;
  }

  apply(i) {
    const t = this.timeline;
    const v = t.node[i];
    this._touch(v);
    switch (t.kind[i]) {
      case FORWARD:
      case UPDATE:
        this._undoSum[i] = this.value[v];
        this._undoState[i] = this.valueReached[v];
        this.value[v] = t.value[i];
        if (!this.valueReached[v]) this.groupValues[this.groupIndex.of[v]]++;
        this.valueReached[v] = 1;
        if (t.kind[i] === UPDATE) this._setGrad(v, GRAD_FINAL, 0, t.local[i]); // the gradient used
        break;
      case ZERO:
        this._setGrad(v, GRAD_NONE, 0, NaN);
        break;
      case KEEP:
        this._setGrad(v, GRAD_PARTIAL, t.value[i], NaN);
        break;
      case SEED:
        this._receive(i, v, t.value[i]);
        break;
      case GRADIENT:
        this._undoState[i] = this.gradState[v];
        this.gradFinal[v] = t.value[i];
        this.gradState[v] = GRAD_FINAL;
        this.groupAbsGrad[this.groupIndex.of[v]] += finiteAbs(t.value[i]);
        this.groupFinal[this.groupIndex.of[v]]++;
        break;
      case EDGE:
        this.edgeReached[t.edge[i]] = 1;
        this.edgeLocal[t.edge[i]] = t.local[i];
        this.edgeContribution[t.edge[i]] = t.value[i];
        this._receive(i, t.childOf(i), t.value[i]);
        break;
    }
  }

  _receive(i, c, amount) {
    this._touch(c);
    this._undoSum[i] = this.gradSum[c];
    this._undoState[i] = this.gradState[c];
    this.gradSum[c] += amount;
    this.received[c]++;
    if (this.gradState[c] === GRAD_NONE) this.gradState[c] = GRAD_PARTIAL;
  }

  undo(i) {
    const t = this.timeline;
    const v = t.node[i];
    this._touch(v);
    switch (t.kind[i]) {
      case FORWARD:
      case UPDATE:
        if (!this._undoState[i]) this.groupValues[this.groupIndex.of[v]]--;
        this.value[v] = this._undoSum[i];
        this.valueReached[v] = this._undoState[i];
        if (t.kind[i] === UPDATE) this._setGrad(v, GRAD_NONE, 0, NaN);
        break;
      case ZERO:
      case KEEP: // back to what the UPDATE before it showed: the gradient the step used
        this._setGrad(v, GRAD_FINAL, 0, t.local[this._updateOf(i)]);
        break;
      case SEED:
        this._unreceive(i, v);
        break;
      case GRADIENT: {
        const g = this.groupIndex.of[v];
        this.groupAbsGrad[g] = Math.max(0, this.groupAbsGrad[g] - finiteAbs(t.value[i]));
        this.groupFinal[g]--;
        if (this.groupFinal[g] === 0) this.groupAbsGrad[g] = 0;
        this.gradState[v] = this._undoState[i];
        this.gradFinal[v] = NaN;
        break;
      }
      case EDGE:
        this.edgeReached[t.edge[i]] = 0;
        this._unreceive(i, t.childOf(i));
        break;
    }
  }

  _setGrad(v, state, sum, final) {
    this.gradState[v] = state;
    this.gradSum[v] = sum;
    this.gradFinal[v] = final;
  }

  /** The UPDATE event of the input whose ZERO or KEEP event is `i` (the same order). */
  _updateOf(i) {
    return i - this.timeline.updateCount / 2;
  }

  _unreceive(i, c) {
    this._touch(c);
    this.gradSum[c] = this._undoSum[i];
    this.gradState[c] = this._undoState[i];
    this.received[c]--;
  }

  /** Move the playhead so that exactly the first `target` events are applied. */
  seek(target) {
    const t = this.timeline;
    this._ensureUndo();
    target = Math.max(0, Math.min(target, t.length));
    if (target === this.pos) return;
    if (target < this.pos && target < this.pos - target) this.reset();
    while (this.pos < target) this.apply(this.pos++);
    while (this.pos > target) this.undo(--this.pos);
    this.version++;
  }

  reset() {
    this.value.fill(NaN);
    this.valueReached.fill(0);
    this.gradSum.fill(0);
    this.gradFinal.fill(NaN);
    this.gradState.fill(0);
    this.received.fill(0);
    this.edgeReached.fill(0);
    this.groupAbsGrad.fill(0);
    this.groupFinal.fill(0);
    this.groupValues.fill(0);
    this.pos = 0;
    this.version++;
    this._allDirty = true;
  }

  /** The last applied event's index, or -1. */
  get current() {
    return this.pos - 1;
  }

  /**
   * The contributions node c has received so far, in the order they came:
   * [{edge, parent, upstream, local, contribution}] (a seed has parent -1, local 1).
   */
  contributionsTo(c) {
    const t = this.timeline;
    const g = this.graph;
    const out = [];
    for (let i = t.forwardCount; i < this.pos; i++) {
      const kind = t.kind[i];
      if (kind === SEED && t.node[i] === c) {
        out.push({ edge: -1, parent: -1, upstream: t.value[i], local: 1, contribution: t.value[i], event: i });
      } else if (kind === EDGE && g.edgeChild[t.edge[i]] === c) {
        const p = t.node[i];
        out.push({ edge: t.edge[i], parent: p, upstream: this.gradFinal[p], local: t.local[i],
          contribution: t.value[i], event: i });
      }
    }
    return out;
  }
}

function finiteAbs(x) {
  return Number.isFinite(x) ? Math.abs(x) : 0;
}

const groupIndexes = new WeakMap(); // graph → its groupIndex: a graph does not change

/**
 * Blocks for the grouped view: one per distinct node group, in the order the description's
 * `groups` gives, leaf-only groups (and nodes with no group) first. Made once per graph (each
 * trace and the views ask for it) and one blockName per node: at 100,000 nodes it was 40 ms a
 * trace, twice over.
 */
export function groupIndex(graph) {
  let found = groupIndexes.get(graph);
  if (!found) {
    const steps = groupIndexSteps(graph);
    let step = steps.next();
    while (!step.done) step = steps.next();
    found = step.value;
    groupIndexes.set(graph, found);
  }
  return found;
}

/** groupIndex made ahead, in slices of the event loop (a big graph's took 25–40 ms at once). */
export async function prepareGroupIndex(graph) {
  if (groupIndexes.has(graph)) return;
  const steps = groupIndexSteps(graph);
  const timer = sliceTimer();
  let step = steps.next();
  while (!step.done) {
    if (timer.due()) await timer.yield();
    step = steps.next();
  }
  if (!groupIndexes.has(graph)) groupIndexes.set(graph, step.value);
}

const STEP_NODES = 10000;

// A step of each loop over the nodes per task (the last one took 10-20 ms at once).
function* groupIndexSteps(graph) {
  const names = [];
  const index = new Map();
  const add = (name) => {
    if (!index.has(name)) {
      index.set(name, names.length);
      names.push(name);
    }
  };
  const declared = new Set(graph.groups.map((g) => g.name));
  const blocks = new Array(graph.n);
  for (let from = 0; from < graph.n; from += STEP_NODES) {
    nameBlocks(graph, blocks, declared, add, from, Math.min(graph.n, from + STEP_NODES));
    yield;
  }
  for (const g of graph.groups) add(g.name);
  const of = new Uint32Array(graph.n);
  for (let from = 0; from < graph.n; from += STEP_NODES) {
    indexBlocks(blocks, index, of, from, Math.min(graph.n, from + STEP_NODES));
    if (from + STEP_NODES < graph.n) yield;
  }
  return { names, index, of };
}

function nameBlocks(graph, blocks, declared, add, from, to) {
  for (let i = from; i < to; i++) {
    const name = blockName(graph, i);
    blocks[i] = name;
    if (!declared.has(name)) add(name);
  }
}

function indexBlocks(blocks, index, of, from, to) {
  for (let i = from; i < to; i++) of[i] = index.get(blocks[i]);
}

/** A node's block: its group, else (a leaf) its name without the index ("image[3]" → "image"). */
export function blockName(graph, i) {
  if (graph.group[i] !== null) return graph.group[i];
  const name = graph.name[i];
  if (name !== null) return name.endsWith(']') ? name.replace(/\[[^\]]*\]$/, '') : name;
  return graph.op[i];
}
