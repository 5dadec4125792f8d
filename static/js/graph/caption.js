// One sentence for the event at the playhead (shown under the controls, and announced).
import { EDGE, FORWARD, GRADIENT, SEED } from './timeline.js';
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
  switch (t.kind[i]) {
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
