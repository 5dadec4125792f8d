// The Inspector region: the selected node's operator, value, gradient, its formula with the
// numbers plugged in, the local derivative along each operand, and each parent's contribution
// to its gradient with their running sum (the fan-out `+=`). Input nodes get a value field for
// what-if. Rows carry data-* hooks with full-precision numbers.
import { GRAD_FINAL, GRAD_PARTIAL } from './trace-state.js';
import { label, parentEdgesOf } from './graph-model.js';
import { full, long, short } from '../shared/numbers.js';
import { updateText } from './descent-step.js';

export class Inspector {
  constructor(root, { onFollow = () => {}, onEditInput = () => {}, onReceptiveField = null,
    onSelect = () => {} } = {}) {
    this.root = root;
    this.body = root.querySelector('.inspector-body');
    this.follow = root.querySelector('input[name=follow]');
    this.follow.addEventListener('change', () => onFollow(this.follow.checked));
    this.onEditInput = onEditInput;
    this.onReceptiveField = onReceptiveField;
    this.onSelect = onSelect;
    this.shown = null;
  }

  setFollow(on) {
    this.follow.checked = on;
  }

  /** Show node `id` of `graph` under `state` (null: nothing selected). Draws again whenever
   * anything it shows may differ: another graph, another trace (a what-if at the end of the
   * timeline keeps version and position, so the trace itself is compared), another position. */
  show(graph, state, id, extra = {}) {
    const key = `${id}|${state ? state.version : -1}|${state ? state.pos : -1}|${extra.check ?? ''}|${extra.inputValue ?? ''}|${extra.kept ? extra.kept.length : ''}`;
    if (this.shown === key && this.graph === graph && this.state === state) return;
    this.shown = key;
    this.graph = graph;
    this.state = state;
    const body = this.body;
    if (id == null || !graph || id >= graph.n) {
      body.replaceChildren(p('Click a node to see how its value and gradient are computed.', 'hint'));
      this.root.dataset.nodeId = '';
      return;
    }
    this.root.dataset.nodeId = String(id);
    const op = graph.op[id];
    const parts = [el('h3', {}, label(graph, id)), this._facts(graph, state, id, extra)];
    const children = [];
    for (let e = graph.childStart[id]; e < graph.childStart[id + 1]; e++) children.push(graph.edgeChild[e]);
    if (graph.operators[op] && children.length) {
      parts.push(...this._forward(graph, state, id, children));
    } else if (op === 'input' || op === 'const') {
      parts.push(p(op === 'input' ? 'A trainable input: back-prop ends here.' : 'Data: fed to each trace.', 'hint'));
      if (op === 'input') parts.push(this._inputField(graph, id, extra.inputValue));
    }
    const incoming = parentEdgesOf(graph, id);
    if (incoming.length || graph.output[id]) parts.push(...contributions(graph, state, id, incoming, this.onSelect));
    else if (op !== 'input' && op !== 'const') parts.push(p('Reaches no output: no gradient flows here.', 'hint'));
    if (this.onReceptiveField && children.length) {
      const button = el('button', { type: 'button' }, 'Show its receptive field');
      button.addEventListener('click', () => this.onReceptiveField(id));
      parts.push(button);
    }
    body.replaceChildren(...parts);
  }

  _facts(graph, state, id, extra) {
    const op = graph.op[id];
    const facts = el('dl', { class: 'facts' });
    const fact = (name, value, attrs = {}) => facts.append(el('dt', {}, name), el('dd', attrs, value));
    fact('Operator', op === 'input' ? 'input (trainable)' : op === 'const' ? 'const (data)' : op);
    fact('Node', `#${id}${graph.group[id] ? ` · ${graph.group[id]}` : ''}${graph.output[id] ? ' · output' : ''}`);
    const reached = state && state.valueReached[id];
    fact('Value', reached ? long(state.value[id]) : '—',
      reached ? { 'data-field': 'value', 'data-value': full(state.value[id]) } : { 'data-field': 'value' });
    const gs = state ? state.gradState[id] : 0;
    const grad = gs === GRAD_FINAL ? state.gradFinal[id] : gs === GRAD_PARTIAL ? state.gradSum[id] : NaN;
    fact(`Gradient ∂${outputName(graph)}/∂this`, gs === GRAD_FINAL ? long(grad) : gs === GRAD_PARTIAL ? `${long(grad)} so far` : '—',
      gs === GRAD_FINAL ? { 'data-field': 'grad', 'data-grad': full(grad) } : { 'data-field': 'grad' });
    const step = state && state.timeline.step;
    const k = step && op === 'input' ? step.ids.indexOf(id) : -1;
    if (k >= 0) fact('Descent step', updateText(graph, step, k), { 'data-field': 'step', 'data-new': full(step.new[k]) });
    if (extra.kept && state && state.timeline.kept) {
      fact('Kept (zero_grad skipped)', keptText(extra.kept, state.timeline.kept[id]),
        { 'data-field': 'kept', 'data-parts': JSON.stringify(extra.kept.map(full)), 'data-kept': full(state.timeline.kept[id]) });
    }
    if (extra.check) {
      fact('Gradient check', `${extra.check.agree ? '✓ agrees' : '✗ differs'}: numeric ${long(extra.check.numeric)}`,
        { 'data-field': 'check', 'data-agree': String(extra.check.agree) });
    }
    return facts;
  }

  // The formula with numbers, and each local derivative: symbolic, with the operands' values
  // plugged in, and the engine's number as soon as every operand's value is on screen.
  _forward(graph, state, id, children) {
    const operator = graph.operators[graph.op[id]];
    const names = ['a', 'b'];
    const values = children.map((c) => (state && state.valueReached[c] ? state.value[c] : NaN));
    const known = values.every((v) => !Number.isNaN(v));
    const plug = (formula) => plugIn(formula, names, values);
    const reached = state && state.valueReached[id];
    const formula = el('div', { class: 'formula', 'data-field': 'formula' });
    formula.append(el('div', {}, symbolic(operator.formula, children.map((c) => label(graph, c)), names)));
    formula.append(el('div', { class: 'numbers' },
      `= ${plug(operator.formula)}${reached ? ` = ${long(state.value[id])}` : ''}`));
    const t = state && state.timeline;
    const derivatives = el('ul', { class: 'derivatives' });
    children.forEach((c, slot) => {
      const e = graph.childStart[id] + slot;
      const d = operator.derivatives && operator.derivatives[slot];
      const k = t ? t.edgeEvent[e] : -1;
      const local = known && k >= 0 ? t.local[k] : null;
      const steps = [d ?? '?'];
      if (d && known && plug(d) !== d) steps.push(plug(d));
      if (local !== null && long(local) !== steps[steps.length - 1]) steps.push(long(local));
      derivatives.append(el('li', local !== null ? { 'data-edge': e, 'data-local': full(local) } : { 'data-edge': e },
        `∂this/∂${dLabel(label(graph, c))} = ${steps.join(' = ')}`));
    });
    return [el('h4', {}, 'Forward'), formula, el('h4', {}, 'Local derivatives'), derivatives];
  }

  _inputField(graph, id, value) {
    const field = el('input', { type: 'number', step: 'any', 'aria-label': `Value of ${label(graph, id)}`,
      'data-field': 'whatif', value: value == null || Number.isNaN(value) ? '' : String(value) });
    field.addEventListener('change', () => {
      const v = Number(field.value);
      if (field.value !== '' && Number.isFinite(v)) this.onEditInput(id, v);
    });
    return el('label', { class: 'edit' }, 'What if the value were ', field);
  }
}

/** What the gradient is of: the output's name (one output), else "out" (their sum). */
function outputName(graph) {
  return graph.outputs.length === 1 ? dLabel(label(graph, graph.outputs[0])) : 'out';
}

/** A label inside ∂…/∂…: a sub-expression gets brackets, ∂(exp(−x) / 2)/∂x. */
function dLabel(text) {
  return /\s/.test(text) ? `(${text})` : text;
}

// Gradient: the chain rule written out, then each parent's contribution — upstream × local —
// and their running sum (the fan-out `+=`).
function contributions(graph, state, id, incoming, onSelect) {
  const y = outputName(graph);
  const me = dLabel(label(graph, id));
  const rule = el('p', { class: 'chain-rule' },
    `∂${y}/∂this = ∂${y}/∂parent (upstream) × ∂parent/∂this (local), summed over its parents`);
  const list = el('ol', { class: 'contributions', 'aria-label': 'Contributions' });
  let count = 0;
  // zero_grad skipped: the gradient the earlier passes left is where this pass's sum starts.
  const t = state && state.timeline;
  const kept = t && t.kept && graph.op[id] === 'input' ? t.kept[id] : null;
  if (kept !== null) {
    const started = state.pos >= t.updateCount;
    list.append(el('li', started ? { 'data-contribution': full(kept), 'data-parent': 'kept', class: 'arrived' } : { class: 'waiting' },
      started ? `kept from earlier passes (zero_grad skipped): ${long(kept)}` : 'kept gradient (waiting)'));
    if (started) count++;
  }
  if (graph.output[id]) {
    const seeded = state && state.timeline && state.pos > state.timeline.forwardCount;
    list.append(el('li', seeded ? { 'data-contribution': '1', 'data-parent': 'seed', class: 'arrived' } : { class: 'waiting' },
      seeded ? `seed: ∂${me}/∂${me} = 1` : 'seed 1 (waiting)'));
    if (seeded) count++;
  }
  for (const e of incoming) {
    const parent = graph.edgeParent[e];
    const arrived = state && state.edgeReached[e];
    const item = el('li', arrived
      ? { 'data-contribution': full(state.edgeContribution[e]), 'data-parent': String(parent),
        'data-local': full(state.edgeLocal[e]), 'data-upstream': full(state.gradFinal[parent]), class: 'arrived' }
      : { class: 'waiting', 'data-parent': String(parent) });
    const link = el('button', { type: 'button', class: 'link' }, label(graph, parent));
    link.addEventListener('click', () => onSelect(parent));
    item.append('from ', link, ': ');
    if (arrived) {
      count++;
      const pl = dLabel(label(graph, parent));
      item.append(
        el('span', { class: 'factor', 'data-field': 'upstream' }, `∂${y}/∂${pl} (upstream) ${short(state.gradFinal[parent])}`),
        ' × ',
        el('span', { class: 'factor', 'data-field': 'local' }, `∂${pl}/∂${me} (local) ${short(state.edgeLocal[e])}`),
        ` = ${long(state.edgeContribution[e])}`);
    } else {
      item.append('waiting');
    }
    list.append(item);
  }
  const total = el('p', { class: 'sum', 'data-count': String(count), 'data-sum': count ? full(state.gradSum[id]) : '' },
    count ? `Σ = ${long(state.gradSum[id])} (${count} of ${incoming.length + (graph.output[id] ? 1 : 0) + (kept !== null ? 1 : 0)})` : 'Σ = — (nothing yet)');
  return [el('h4', {}, `Gradient ∂${y}/∂this = Σ contributions`), rule, list, total];
}

/** formula with operand names for a, b: "sin(a)" → "sin(x1)", "a / b" → "exp(u * v) / (1 + u)":
 * a sub-expression label is bracketed unless it is a whole argument of a call. */
export function symbolic(formula, labels, names) {
  // One pass for every operand: a label may itself contain "b" (an input named b).
  const which = new RegExp(`(?<![A-Za-z0-9_])(${names.slice(0, labels.length).join('|')})(?![A-Za-z0-9_])`, 'g');
  return labels.length ? formula.replace(which, (match, name, at, whole) => {
    const text = labels[names.indexOf(name)];
    const alone = /[(,]\s*$/.test(whole.slice(0, at)) && /^\s*[),]/.test(whole.slice(at + match.length));
    return alone || !compound(text) ? text : `(${text})`;
  }) : formula;
}

/** Whether a label has an operator outside its brackets ("1 + u", "−x"; not "sin(1 + u)"). */
function compound(label) {
  let depth = 0;
  for (const ch of label) {
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (depth === 0 && ' +−-*×/÷^'.includes(ch)) return true;
  }
  return false;
}

/** formula with numbers for a, b: "a * b" → "0.3 * 2". */
export function plugIn(formula, names, values) {
  return names.reduce((text, n, k) => (k < values.length
    ? replaceVar(text, n, Number.isNaN(values[k]) ? '?' : bracket(short(values[k]))) : text), formula)
    .replace(/\(\((−[^()]*)\)\)/g, '($1)'); // exp((−0.75)) → exp(−0.75)
}

function bracket(s) {
  return s.startsWith('−') ? `(${s})` : s;
}

function replaceVar(text, name, by) {
  return text.replace(new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`, 'g'), by);
}

/** "0.5 + 0.4 = 0.9 (passes 1–2); this pass adds to it": a gradient that zero_grad did not
 * clear, as the passes that made it. */
function keptText(parts, kept) {
  return `${parts.map(short).join(' + ')} = ${long(kept)} (${parts.length === 1 ? 'pass 1' : `passes 1–${parts.length}`}); this pass adds to it`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function p(text, cls) {
  return el('p', { class: cls }, text);
}
