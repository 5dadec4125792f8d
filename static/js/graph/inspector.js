// The Inspector region: the selected node's operator, value, gradient, its formula with the
// numbers plugged in, the local derivative along each operand, and each parent's contribution
// to its gradient with their running sum (the fan-out `+=`). Input nodes get a value field for
// what-if. Rows carry data-* hooks with full-precision numbers.
import { GRAD_FINAL, GRAD_PARTIAL } from './trace-state.js';
import { label, parentEdgesOf } from './graph-model.js';
import { full, long, short } from '../shared/numbers.js';

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

  /** Show node `id` of `graph` under `state` (null: nothing selected). */
  show(graph, state, id, extra = {}) {
    const key = `${id}|${state ? state.version : -1}|${state ? state.pos : -1}|${extra.check ?? ''}`;
    if (this.shown === key && this.graph === graph) return;
    this.shown = key;
    this.graph = graph;
    const body = this.body;
    if (id == null || !graph) {
      body.replaceChildren(p('Click a node to see how its value and gradient are computed.', 'hint'));
      this.root.dataset.nodeId = '';
      return;
    }
    this.root.dataset.nodeId = String(id);
    const op = graph.op[id];
    const operator = graph.operators[op] || null;
    const parts = [];
    const title = el('h3', {}, label(graph, id));
    parts.push(title);
    const facts = el('dl', { class: 'facts' });
    const fact = (name, value, attrs = {}) => {
      facts.append(el('dt', {}, name), el('dd', attrs, value));
    };
    fact('Operator', op === 'input' ? 'input (trainable)' : op === 'const' ? 'const (data)' : op);
    fact('Node', `#${id}${graph.group[id] ? ` · ${graph.group[id]}` : ''}${graph.output[id] ? ' · output' : ''}`);
    const reached = state && state.valueReached[id];
    fact('Value', reached ? long(state.value[id]) : '—',
      reached ? { 'data-field': 'value', 'data-value': full(state.value[id]) } : { 'data-field': 'value' });
    const gs = state ? state.gradState[id] : 0;
    const gradShown = gs === GRAD_FINAL ? state.gradFinal[id] : gs === GRAD_PARTIAL ? state.gradSum[id] : NaN;
    fact('Gradient', gs === GRAD_FINAL ? long(gradShown) : gs === GRAD_PARTIAL ? `${long(gradShown)} so far` : '—',
      gs === GRAD_FINAL ? { 'data-field': 'grad', 'data-grad': full(gradShown) } : { 'data-field': 'grad' });
    if (extra.check) {
      fact('Gradient check', `${extra.check.agree ? '✓ agrees' : '✗ differs'}: numeric ${long(extra.check.numeric)}`,
        { 'data-field': 'check', 'data-agree': String(extra.check.agree) });
    }
    parts.push(facts);

    // Formula with numbers.
    const children = [];
    for (let e = graph.childStart[id]; e < graph.childStart[id + 1]; e++) children.push(graph.edgeChild[e]);
    if (operator && children.length) {
      const names = ['a', 'b'];
      const values = children.map((c) => (state && state.valueReached[c] ? state.value[c] : NaN));
      const plug = (formula) => plugIn(formula, names, values);
      const formula = el('div', { class: 'formula', 'data-field': 'formula' });
      formula.append(el('div', {}, `${symbolic(operator.formula, children.map((c) => graph.name[c] ?? `#${c}`), names)}`));
      formula.append(el('div', { class: 'numbers' },
        `= ${plug(operator.formula)}${reached ? ` = ${long(state.value[id])}` : ''}`));
      parts.push(el('h4', {}, 'Forward'), formula);
      const derivatives = el('ul', { class: 'derivatives' });
      children.forEach((c, slot) => {
        const e = graph.childStart[id] + slot;
        const d = operator.derivatives && operator.derivatives[slot];
        const local = state && state.edgeReached[e] ? long(state.edgeLocal[e]) : null;
        const steps = [d ?? '?'];
        if (d && plug(d) !== d) steps.push(plug(d));
        if (local !== null && local !== steps[steps.length - 1]) steps.push(local);
        derivatives.append(el('li', { 'data-edge': e },
          `∂/∂${names[slot]} (${label(graph, c)}) = ${steps.join(' = ')}`));
      });
      parts.push(el('h4', {}, 'Local derivatives'), derivatives);
    } else if (op === 'input' || op === 'const') {
      parts.push(p(op === 'input' ? 'A trainable input: back-prop ends here.' : 'Data: fed to each trace.', 'hint'));
      if (op === 'input') {
        const field = el('input', { type: 'number', step: 'any', 'aria-label': `Value of ${label(graph, id)}`,
          value: reached ? String(state.value[id]) : '' });
        field.addEventListener('change', () => {
          const v = Number(field.value);
          if (field.value !== '' && Number.isFinite(v)) this.onEditInput(id, v);
        });
        parts.push(el('label', { class: 'edit' }, 'What if the value were ', field));
      }
    }

    // Gradient: each parent's contribution, and their sum.
    const incoming = parentEdgesOf(graph, id);
    if (incoming.length || graph.output[id]) {
      parts.push(el('h4', {}, 'Gradient = Σ contributions'));
      const list = el('ol', { class: 'contributions', 'aria-label': 'Contributions' });
      let count = 0;
      if (graph.output[id]) {
        const seeded = state && state.timeline && state.pos > state.timeline.forwardCount;
        list.append(el('li', seeded ? { 'data-contribution': '1', 'data-parent': 'seed', class: 'arrived' } : { class: 'waiting' },
          seeded ? 'seed: ∂out/∂out = 1' : 'seed 1 (waiting)'));
        if (seeded) count++;
      }
      for (const e of incoming) {
        const parent = graph.edgeParent[e];
        const arrived = state && state.edgeReached[e];
        const item = el('li', arrived
          ? { 'data-contribution': full(state.edgeContribution[e]), 'data-parent': String(parent),
            'data-local': full(state.edgeLocal[e]), 'data-upstream': full(state.gradFinal[parent]),
            class: 'arrived' }
          : { class: 'waiting', 'data-parent': String(parent) });
        const link = el('button', { type: 'button', class: 'link' }, label(graph, parent));
        link.addEventListener('click', () => this.onSelect(parent));
        if (arrived) {
          count++;
          item.append('from ', link, `: ${short(state.gradFinal[parent])} × ${short(state.edgeLocal[e])} = ${long(state.edgeContribution[e])}`);
        } else {
          item.append('from ', link, ': waiting');
        }
        list.append(item);
      }
      parts.push(list);
      const total = el('p', { class: 'sum', 'data-count': String(count), 'data-sum': count ? full(state.gradSum[id]) : '' },
        count ? `Σ = ${long(state.gradSum[id])} (${count} of ${incoming.length + (graph.output[id] ? 1 : 0)})` : 'Σ = — (nothing yet)');
      parts.push(total);
    } else if (op !== 'input' && op !== 'const') {
      parts.push(p('Reaches no output: no gradient flows here.', 'hint'));
    }
    if (this.onReceptiveField && children.length) {
      const button = el('button', { type: 'button' }, 'Show its receptive field');
      button.addEventListener('click', () => this.onReceptiveField(id));
      parts.push(button);
    }
    body.replaceChildren(...parts);
  }
}

/** formula with operand names for a, b: "sin(a)" → "sin(x1)". */
function symbolic(formula, labels, names) {
  return names.reduce((text, n, k) => (k < labels.length ? replaceVar(text, n, labels[k]) : text), formula);
}

/** formula with numbers for a, b: "a * b" → "0.3 * 2". */
export function plugIn(formula, names, values) {
  return names.reduce((text, n, k) => (k < values.length
    ? replaceVar(text, n, Number.isNaN(values[k]) ? '?' : bracket(short(values[k]))) : text), formula);
}

function bracket(s) {
  return s.startsWith('−') ? `(${s})` : s;
}

function replaceVar(text, name, by) {
  return text.replace(new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`, 'g'), by);
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
