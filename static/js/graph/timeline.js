// A trace's frames (docs/protocol.md, "Tracing a graph") unrolled into the engine's event
// order, one event per step of the animation. A trace that follows a descent step begins with
// the step itself (addUpdate, before any frame):
//
//   UPDATE    input ← old − lr × gradient     (one per input; local holds the gradient used)
//   ZERO      input's gradient zeroed          (one per input: zero_grad) …
//   KEEP      …or kept, to be added to         (zero_grad skipped: value holds what is kept)
//   FORWARD   node gets its value              (one per node, leaves first, level by level)
//   SEED      an output's gradient starts at 1 (one per output)
//   GRADIENT  node's gradient is final         (top level first)
//   EDGE      parent → child: upstream × local = contribution, added to the child's gradient
//
// Events live in typed arrays (a ResNet trace is ~130,000 of them); frames are appended as they
// arrive, so playback can start before the last frame is in.

import { f64, i32, nums } from '../shared/wire-numbers.js';

export const FORWARD = 0;
export const SEED = 1;
export const GRADIENT = 2;
export const EDGE = 3;
export const UPDATE = 4;
export const ZERO = 5;
export const KEEP = 6;
export const KIND_NAMES = ['forward', 'seed', 'gradient', 'edge', 'update', 'zero', 'keep'];

export class Timeline {
  /** `graph` from graph-model.js; `trace` the token of the trace this timeline belongs to. */
  constructor(graph, trace = null) {
    this.graph = graph;
    this.trace = trace;
    this.length = 0;
    this.updateCount = 0; // a descent step's UPDATE and ZERO/KEEP events (they come first)
    this.forwardCount = 0; // events before back-prop: the step's, then the forward pass
    this.step = null; // the descent step this trace follows (addUpdate)
    this.kept = null; // per node, the gradient a skipped zero_grad keeps (null: none kept)
    this.done = false;
    this.flagged = [];
    this.finalValue = new Float64Array(graph.n).fill(NaN); // each node's value in this trace
    // Each edge's EDGE event (-1 until its frame came): the Inspector shows a local derivative's
    // number, the engine's own, as soon as the operands' values are on screen.
    this.edgeEvent = new Int32Array(graph.nEdges).fill(-1);
    this._grow(graph.n * 2 + graph.nEdges + graph.outputs.length);
  }

  _grow(capacity) {
    const old = this;
    const make = (Type, prev) => {
      const a = new Type(capacity);
      if (prev) a.set(prev.subarray(0, old.length));
      return a;
    };
    this.kind = make(Uint8Array, this.kind);
    this.node = make(Int32Array, this.node);
    this.edge = make(Int32Array, this.edge); // EDGE only: graph edge id (-1 otherwise)
    this.value = make(Float64Array, this.value); // value, seed, final gradient, contribution
    this.local = make(Float64Array, this.local); // EDGE only
    this.capacity = capacity;
  }

  _push(kind, node, edge, value, local) {
    if (this.length === this.capacity) this._grow(Math.max(16, this.capacity * 2));
    const i = this.length++;
    this.kind[i] = kind;
    this.node[i] = node;
    this.edge[i] = edge;
    this.value[i] = value;
    this.local[i] = local;
  }

  /**
   * The descent step this trace follows, as its first events: each input's update, then its
   * gradient zeroed (or kept, when `keep`: the next pass adds to it, as micrograd's `+=` does
   * without zero_grad). `step` is descend_graph's (descent-step.js decodeStep).
   */
  addUpdate(step, { keep = false } = {}) {
    if (this.length) throw new Error('a descent step comes before the trace\'s frames');
    this.step = step;
    const ids = step.ids;
    for (let k = 0; k < ids.length; k++) this._push(UPDATE, ids[k], -1, step.new[k], step.gradient[k]);
    if (keep) this.kept = new Float64Array(this.graph.n);
    for (let k = 0; k < ids.length; k++) {
      if (keep) this.kept[ids[k]] = step.gradient[k];
      this._push(keep ? KEEP : ZERO, ids[k], -1, keep ? step.gradient[k] : 0, NaN);
    }
    this.updateCount = this.forwardCount = this.length;
  }

  /** Append one `trace` frame. */
  addFrame(frame) {
    const ids = frameIds(frame);
    if (frame.phase === 'forward') {
      const values = f64(frame.values);
      for (let k = 0; k < ids.length; k++) {
        this._push(FORWARD, ids[k], -1, values[k], NaN);
        this.finalValue[ids[k]] = values[k];
      }
      this.forwardCount += ids.length;
    } else if (frame.phase === 'seed') {
      const values = frame.values ? nums(frame.values) : null;
      for (let k = 0; k < ids.length; k++) this._push(SEED, ids[k], -1, values ? values[k] : 1, NaN);
    } else if (frame.phase === 'backward') {
      this._addBackward(frame, ids);
    }
  }

  _addBackward(frame, ids) {
    const grads = f64(frame.grads);
    const edges = frame.edges || {};
    const parent = i32(edges.parent);
    const child = i32(edges.child);
    const local = f64(edges.local);
    const contribution = f64(edges.contribution);
    let e = 0;
    const nE = parent.length;
    for (let k = 0; k < ids.length; k++) {
      const p = ids[k];
      // A kept gradient is where this pass's contributions start: its final value is the sum.
      this._push(GRADIENT, p, -1, this.kept ? this.kept[p] + grads[k] : grads[k], NaN);
      const used = [];
      while (e < nE && parent[e] === p) {
        const edgeId = this._edgeId(p, child[e], used);
        this.edgeEvent[edgeId] = this.length;
        this._push(EDGE, p, edgeId, contribution[e], local[e]);
        e++;
      }
    }
    if (e !== nE) throw new Error(`backward frame: ${nE - e} edges not ordered by parent`);
  }

  // The graph edge for (parent, child): the next unused operand slot holding that child.
  _edgeId(p, child, used) {
    const g = this.graph;
    for (let s = g.childStart[p]; s < g.childStart[p + 1]; s++) {
      if (g.edgeChild[s] === child && !used.includes(s)) {
        used.push(s);
        return s;
      }
    }
    throw new Error(`backward frame: node ${p} has no operand ${child}`);
  }

  finish(doneMessage) {
    this.done = true;
    this.flagged = (doneMessage && doneMessage.flagged) || [];
  }

  /** Index of the first back-prop event (seed), or length when there is none yet. */
  get backwardStart() {
    return this.forwardCount;
  }

  /** Index of the first event of `kind` whose node is in `nodes` (a Set), or -1. */
  firstEvent(kind, nodes, from = 0) {
    for (let i = from; i < this.length; i++) {
      if (this.kind[i] === kind && nodes.has(this.node[i])) return i;
    }
    return -1;
  }

  /** The child that an EDGE event feeds. */
  childOf(i) {
    return this.graph.edgeChild[this.edge[i]];
  }
}

/**
 * A frame's node ids: listed in `ids` (seed), runs of consecutive ids in `spans` (int32 pairs
 * start, count: back-prop, one run per level), or consecutive from `start` (forward).
 */
function frameIds(frame) {
  if (frame.ids) return frame.ids;
  if (frame.spans) {
    const spans = i32(frame.spans);
    const ids = new Int32Array(frame.count);
    let k = 0;
    for (let s = 0; s < spans.length; s += 2) {
      for (let i = spans[s]; i < spans[s] + spans[s + 1]; i++) ids[k++] = i;
    }
    if (k !== frame.count) throw new Error(`backward frame: spans hold ${k} ids, not ${frame.count}`);
    return ids;
  }
  const ids = new Int32Array(frame.count);
  for (let k = 0; k < frame.count; k++) ids[k] = frame.start + k;
  return ids;
}

