// One sentence for the event at the playhead (shown under the controls, and announced).
import { EDGE, FORWARD, GRADIENT, KEEP, SEED, UPDATE, ZERO } from './timeline.js';
import { updateText } from './descent-step.js';
import { label } from './graph-model.js';
import { short } from '../shared/numbers.js';

export function describeEvent(state) {
  if (!state) return { text: 'No trace yet.', kind: '' };
  const t = state.timeline;
  const g = state.graph;
  const i = state.current;
  if (i < 0) return { text: 'Start: press Play (space) or step (→).', kind: 'start' };
  const v = t.node[i];
  if (i === t.forwardCount && t.kind[i] === SEED) {
    return { kind: 'seed', text: `Forward pass done; back-prop begins. Seed: ∂out/∂${label(g, v)} starts at ${short(t.value[i])}` };
  }
  if (i === t.updateCount && i > 0 && t.kind[i] === FORWARD) {
    return { kind: 'forward', text: `Forward pass again, with the new values: ${label(g, v)} = ${short(t.value[i])}` };
  }
  switch (t.kind[i]) {
    case UPDATE:
      return { kind: 'update', text: `Descent step: ${updateText(g, t.step, i)}` };
    case ZERO:
      return { kind: 'zero', text: `zero_grad: the gradient of ${label(g, v)} is set to 0 before the next pass` };
    case KEEP:
      return { kind: 'keep', text: `zero_grad skipped: ${label(g, v)} keeps its gradient ${short(t.value[i])}; the next pass adds to it` };
    case FORWARD:
      return { kind: 'forward', text: `Forward: ${label(g, v)} = ${short(t.value[i])}` };
    case SEED:
      return { kind: 'seed', text: `Seed: ∂out/∂${label(g, v)} starts at ${short(t.value[i])}` };
    case GRADIENT:
      return { kind: 'gradient', text: `Gradient of ${label(g, v)} is final: ${short(t.value[i])}` };
    case EDGE: {
      const c = g.edgeChild[t.edge[i]];
      return {
        kind: 'edge',
        text: `Chain rule ${label(g, v)} → ${label(g, c)}: upstream ${short(state.gradFinal[v])} × `
          + `local ${short(t.local[i])} = ${short(t.value[i])}; ${label(g, c)} so far ${short(state.gradSum[c])}`,
      };
    }
    default:
      return { text: '', kind: '' };
  }
}
