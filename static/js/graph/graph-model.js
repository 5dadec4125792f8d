// The graph as the page holds it: the server's description (docs/protocol.md, "Loading a
// graph") turned into flat arrays, so that 36,000 nodes cost a few typed arrays, not objects.
//
// Wire ids are 0 … N-1 in the engine's order. Edge e goes from a parent (the node computed) to
// one of its children (an operand); a parent's edges are numbered childStart[p] + slot, slot 0
// being the left operand, which is the order back-prop frames list them in.

import { sliceTimer } from '../shared/yield.js';

export function buildGraph(description, ref = '') {
  const steps = graphSteps(description, ref);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/** buildGraph, in tasks of as many steps as fit a slice of the event loop (a step of 10,000
 * nodes is a few ms): a few tasks on a fast machine, more on a loaded one, none of them long. */
export async function buildGraphInSteps(description, ref = '') {
  const steps = graphSteps(description, ref);
  const timer = sliceTimer();
  let step = steps.next();
  while (!step.done) {
    if (timer.due()) await timer.yield();
    step = steps.next();
  }
  return step.value;
}

const STEP_NODES = 10000; // nodes a step's loop goes through before it yields

// The graph, built in steps: each `yield` is a place to give the event loop a turn, every
// STEP_NODES nodes of each loop (a loop over all 100,000 nodes at once was 30-60 ms).
function* graphSteps(description, ref) {
  const n = description.count;
  // Binary fields arrive as ArrayBuffers (little-endian, as the protocol says).
  const wire = {
    opCodes: new Uint8Array(description.op),
    depth: new Int32Array(description.depth),
    childStart: new Int32Array(description.child_start),
    groupIndex: new Int32Array(description.group),
    ops: description.ops,
    groupNames: description.group_names,
  };
  const { depth, childStart } = wire;
  const edgeChild = new Int32Array(description.children);
  const nEdges = childStart[n];
  const nodes = { op: new Array(n), group: new Array(n), edgeParent: new Int32Array(nEdges), maxDepth: 0 };
  for (let from = 0; from < n; from += STEP_NODES) {
    nodesFromWire(wire, nodes, from, Math.min(n, from + STEP_NODES));
    yield;
  }
  const name = new Array(n).fill(null);
  const named = new Int32Array(description.named);
  const names = nameReader(description.names, new Int32Array(description.name_ends));
  for (let from = 0; from < named.length; from += STEP_NODES) {
    nameNodes(name, named, names, from, Math.min(named.length, from + STEP_NODES));
    yield;
  }
  const output = new Uint8Array(n);
  for (const id of description.outputs) output[id] = 1;

  // Reverse edges: for each child, the edges that feed its gradient (its parents).
  const { parentStart, parentEdges } = reverseEdges(n, edgeChild);
  yield;

  const byName = new Map(); // a Map of 100,000 names took 50-60 ms at once
  for (let from = 0; from < n; from += STEP_NODES) {
    firstByName(name, byName, from, Math.min(n, from + STEP_NODES));
    yield;
  }
  const leafValues = description.leaf_values ? new Float64Array(description.leaf_values) : new Float64Array(0);
  yield;
  const shownName = yield* distinctNames(name);

  return {
    ref, n, nEdges, op: nodes.op, name, group: nodes.group, depth, output, maxDepth: nodes.maxDepth,
    childStart, edgeChild, edgeParent: nodes.edgeParent, parentStart, parentEdges, byName,
    inputs: Array.from(new Int32Array(description.inputs)),
    consts: (description.consts || []).slice(),
    outputs: description.outputs.slice(),
    groups: description.groups || [],
    operators: description.operators || {},
    leafValues, // each leaf's value as defined (wire ids 0 …): what-if fields before any trace
    shownName,
    labels: new Map(), // label() memo
  };
}

function nodesFromWire({ opCodes, depth, childStart, groupIndex, ops, groupNames }, nodes, from, to) {
  const { op, group, edgeParent } = nodes;
  let maxDepth = nodes.maxDepth;
  for (let i = from; i < to; i++) {
    op[i] = ops[opCodes[i]];
    group[i] = groupIndex[i] >= 0 ? groupNames[groupIndex[i]] : null;
    if (depth[i] > maxDepth) maxDepth = depth[i];
    for (let e = childStart[i]; e < childStart[i + 1]; e++) edgeParent[e] = i;
  }
  nodes.maxDepth = maxDepth;
}

/** The k-th name: `names` (one string) from the end of the one before to `ends[k]`. */
function nameReader(names, ends) {
  return (k) => names.slice(k ? ends[k - 1] : 0, ends[k]);
}

function nameNodes(name, named, names, from, to) {
  for (let k = from; k < to; k++) name[named[k]] = names(k);
}

function reverseEdges(n, edgeChild) {
  const nEdges = edgeChild.length;
  const parentStart = new Int32Array(n + 1);
  for (let e = 0; e < nEdges; e++) parentStart[edgeChild[e] + 1]++;
  for (let i = 0; i < n; i++) parentStart[i + 1] += parentStart[i];
  const parentEdges = new Int32Array(nEdges);
  const fill = parentStart.slice(0, n);
  for (let e = 0; e < nEdges; e++) parentEdges[fill[edgeChild[e]]++] = e;
  return { parentStart, parentEdges };
}

function firstByName(name, byName, from, to) {
  for (let i = from; i < to; i++) if (name[i] !== null && !byName.has(name[i])) byName.set(name[i], i);
}

const SUBSCRIPTS = '₀₁₂₃₄₅₆₇₈₉';
const subscript = (k) => String(k).replace(/\d/g, (d) => SUBSCRIPTS[d]);

/** Names as the page shows them: a name given to several nodes (`y += …` makes a new y) gets
 * a subscript in id order — y₁, y₂, y₃ — so "from y … from y" never happens. */
function* distinctNames(name) {
  const count = new Map();
  for (let from = 0; from < name.length; from += STEP_NODES) {
    countNames(name, count, from, Math.min(name.length, from + STEP_NODES));
    yield;
  }
  const seen = new Map();
  const shown = new Array(name.length);
  for (let from = 0; from < name.length; from += STEP_NODES) {
    showNames(name, count, seen, shown, from, Math.min(name.length, from + STEP_NODES));
    if (from + STEP_NODES < name.length) yield;
  }
  return shown;
}

function countNames(name, count, from, to) {
  for (let i = from; i < to; i++) {
    const n = name[i];
    if (n !== null) count.set(n, (count.get(n) || 0) + 1);
  }
}

function showNames(name, count, seen, shown, from, to) {
  for (let i = from; i < to; i++) {
    const n = name[i];
    if (n === null || count.get(n) < 2) shown[i] = n;
    else {
      const k = (seen.get(n) || 0) + 1;
      seen.set(n, k);
      shown[i] = `${n}${subscript(k)}`;
    }
  }
}

/** The edge ids of node p's operands, left first. */
export function childEdges(graph, p) {
  const out = [];
  for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) out.push(e);
  return out;
}

/** The edge ids through which node c receives gradient (one per parent operand slot). */
export function parentEdgesOf(graph, c) {
  return Array.from(graph.parentEdges.subarray(graph.parentStart[c], graph.parentStart[c + 1]));
}

/** Operators as the page writes them. */
// Short enough for an operator's circle (a 34 px disc): "sigmoid" ran out of it.
export const SYMBOLS = { '*': '×', '-': '−', '/': '÷', '+': '+', neg: '−x', inv: '1/x', pow: 'xʸ',
  sigmoid: 'σ', sqrt: '√', abs: '|x|' };

export const MAX_LABEL = 26; // characters of a sub-expression label before it is shortened

/** What a node is called on the page: its (distinct) name, else the sub-expression it computes
 * — `sin(x1 + 1)` — with the innermost unnamed parts shortened to "…" past MAX_LABEL. */
export function label(graph, i) {
  const shown = graph.shownName ? graph.shownName[i] : graph.name[i];
  if (shown != null) return shown;
  let text = graph.labels && graph.labels.get(i);
  if (text === undefined) {
    for (let depth = 4; depth >= 1; depth--) {
      text = subExpression(graph, i, depth);
      if (text.length <= MAX_LABEL) break;
    }
    if (text.length > MAX_LABEL) text = `${SYMBOLS[graph.op[i]] ?? graph.op[i]} #${i}`;
    if (graph.labels) graph.labels.set(i, text);
  }
  return text;
}

const INFIX = new Set(['+', '-', '*', '/', 'pow']);
const ASSOCIATIVE = new Set(['+', '*']);

function subExpression(graph, i, depth) {
  const shown = graph.shownName ? graph.shownName[i] : graph.name[i];
  if (shown != null) return shown;
  const op = graph.op[i];
  if (op === 'const' || op === 'input') {
    const v = graph.leafValues && i < graph.leafValues.length ? graph.leafValues[i] : NaN;
    return Number.isNaN(v) ? `${op} #${i}` : compact(v);
  }
  if (depth <= 0) return '…';
  const formula = (graph.operators[op] && graph.operators[op].formula) || `${op}(a, b)`;
  const wrapsItsOperands = /\(a(, b)?\)|\|a\|/.test(formula);
  const parts = [];
  for (let e = graph.childStart[i]; e < graph.childStart[i + 1]; e++) {
    const c = graph.edgeChild[e];
    let text = subExpression(graph, c, depth - 1);
    const childInfix = INFIX.has(graph.op[c]) && graph.name[c] == null;
    const sameChain = op === graph.op[c] && ASSOCIATIVE.has(op) && e === graph.childStart[i];
    if (childInfix && !wrapsItsOperands && !sameChain) text = `(${text})`;
    parts.push(text);
  }
  return formula.replace(/(?<![A-Za-z0-9_])([ab])(?![A-Za-z0-9_])/g, (m, v) => parts[v === 'a' ? 0 : 1] ?? m);
}

/** A constant as written in a label: 2, 0.5, 1e-3 (up to 4 significant digits). */
function compact(v) {
  const s = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return s.replace('-', '−');
}

/**
 * Nodes a given node depends on (itself, its operands, theirs …), at most `cap` of them,
 * nearest first: the receptive field of one output.
 */
export function receptiveField(graph, root, cap = 2000) {
  const seen = new Set([root]);
  const queue = [root];
  for (let q = 0; q < queue.length && seen.size < cap; q++) {
    const p = queue[q];
    for (let e = graph.childStart[p]; e < graph.childStart[p + 1]; e++) {
      const c = graph.edgeChild[e];
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
        if (seen.size >= cap) break;
      }
    }
  }
  return queue;
}
