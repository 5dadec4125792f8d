// One descent step as the page and the notebook widget both show it: decoded from its message
// (descend_graph, or the widget's descend), each input's `old − lr × gradient = new` as text,
// and the list of them with the outputs before and after. data-* hooks carry full precision.
import { f64, i32 } from '../shared/wire-numbers.js';
import { label } from './graph-model.js';
import { full, long, short, thousands } from '../shared/numbers.js';

const SHOWN_INPUTS = 12;

/** A step message: typed arrays by input, in the engine's order (fresh: this pass's gradient
 * alone, when the message has it; gradient = what was kept + fresh). */
export function decodeStep(step) {
  return { lr: step.lr, ids: i32(step.ids), old: f64(step.old), gradient: f64(step.gradient),
    fresh: step.fresh ? f64(step.fresh) : null, new: f64(step.new),
    before: f64(step.outputs_before), after: f64(step.outputs_after) };
}

/** "x1: 0.3 − 0.05 × (−1.2) = 0.36" for the k-th input of `step`. */
export function updateText(graph, step, k) {
  return `${label(graph, step.ids[k])}: ${short(step.old[k])} − ${short(step.lr)} × `
    + `${bracket(short(step.gradient[k]))} = ${long(step.new[k])}`;
}

/** "0.3 − 0.05 × (−1.2) = 0.36": the k-th input's update as it is written on its node. */
export function updateTerm(step, k) {
  return `${short(step.old[k])} − ${short(step.lr)} × ${bracket(short(step.gradient[k]))} = ${short(step.new[k])}`;
}

/** What `step` (the `number`-th) did, as elements: a heading, the inputs, the outputs. */
export function stepElements(graph, step, number) {
  const rows = Array.from(step.ids.slice(0, SHOWN_INPUTS), (id, k) => {
    const li = document.createElement('li');
    Object.assign(li.dataset, { nodeId: String(id), old: full(step.old[k]),
      gradient: full(step.gradient[k]), new: full(step.new[k]) });
    li.textContent = updateText(graph, step, k);
    return li;
  });
  const list = document.createElement('ol');
  list.className = 'descend-inputs';
  list.append(...rows);
  const more = step.ids.length > SHOWN_INPUTS
    ? [note(`… and ${thousands(step.ids.length - SHOWN_INPUTS)} more inputs.`)] : [];
  const outputs = graph.outputs.map((id, k) => {
    const p = note(`${label(graph, id)}: ${long(step.before[k])} → ${long(step.after[k])}`);
    Object.assign(p.dataset, { nodeId: String(id), before: full(step.before[k]), after: full(step.after[k]) });
    p.className = 'descend-output';
    return p;
  });
  return [note(`Step ${number}, lr ${short(step.lr)}:`), list, ...more, ...outputs];
}

export function note(text) {
  const p = document.createElement('p');
  p.textContent = text;
  return p;
}

function bracket(s) {
  return s.startsWith('−') ? `(${s})` : s;
}
