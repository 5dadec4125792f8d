// How one scalar node reads, shared by the SVG and canvas views: its symbol, its fill, its
// labels. Pure functions of the trace state.
import { GRAD_FINAL, GRAD_PARTIAL } from './trace-state.js';
import { UNREACHED, VALUE_ONLY } from '../shared/colors.js';
import { short } from '../shared/numbers.js';
import { SYMBOLS } from './graph-model.js';

export function symbol(op) {
  return SYMBOLS[op] ?? op;
}

export function isLeaf(op) {
  return op === 'input' || op === 'const';
}

/** Fill colour: gradient colour once any gradient arrived, else value / not reached. */
export function fillOf(state, i, gradScale) {
  const gs = state.gradState[i];
  if (gs !== 0) {
    const g = gs === GRAD_FINAL ? state.gradFinal[i] : state.gradSum[i];
    return Number.isFinite(g) ? gradScale(g) : '#fff';
  }
  return state.valueReached[i] ? VALUE_ONLY : UNREACHED;
}

export function valueText(state, i) {
  return state.valueReached[i] ? short(state.value[i]) : '';
}

/** "∇ −8.13" when final; "∇ += 1.2 (2/3)" while contributions are still arriving. */
export function gradText(state, i, graph) {
  const gs = state.gradState[i];
  if (gs === GRAD_FINAL) return `∇ ${short(state.gradFinal[i])}`;
  if (gs === GRAD_PARTIAL) {
    const expected = graph.parentStart[i + 1] - graph.parentStart[i] + (graph.output[i] ? 1 : 0);
    return `∇ ${short(state.gradSum[i])} (${state.received[i]}/${expected})`;
  }
  return '';
}

export function isFlagged(state, i) {
  if (state.valueReached[i] && !Number.isFinite(state.value[i])) return true;
  return state.gradState[i] === GRAD_FINAL && !Number.isFinite(state.gradFinal[i]);
}
