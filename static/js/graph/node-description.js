// What a screen reader says for one scalar node: its label, what it is, its value and its
// gradient as the playhead has them. Shared by the SVG view (each node's aria-label) and the
// canvas view (its live description of the focused node). Pure.
import { GRAD_FINAL, GRAD_PARTIAL } from './trace-state.js';
import { label } from './graph-model.js';
import { short } from '../shared/numbers.js';

const KINDS = { input: 'input', const: 'constant' };

export function describeNode(graph, state, id) {
  const op = graph.op[id];
  const kind = KINDS[op] ?? `operator ${op}`;
  const head = `${label(graph, id)}, ${kind}${graph.output[id] ? ', output' : ''}`;
  if (!state) return head;
  const value = state.valueReached[id] ? `value ${short(state.value[id])}` : 'value not computed yet';
  const gs = state.gradState[id];
  let grad = 'gradient not computed yet';
  if (gs === GRAD_FINAL) grad = `gradient ${short(state.gradFinal[id])}`;
  else if (gs === GRAD_PARTIAL) {
    const expected = graph.parentStart[id + 1] - graph.parentStart[id] + (graph.output[id] ? 1 : 0);
    grad = `gradient so far ${short(state.gradSum[id])} (${state.received[id]} of ${expected} parts)`;
  }
  return `${head}: ${value}, ${grad}`;
}
