// What-if: each input's value as a field you can type in or drag (drag the name left/right);
// any change traces the graph again on the server and the page shows the new values and gradients
// at once. Values are sent by name when the name is unique, else by id.
import { label } from './graph-model.js';
import { short, thousands } from '../shared/numbers.js';

const MAX_FIELDS = 24;

export class WhatIf {
  constructor(root, { onChange = () => {} } = {}) {
    this.root = root;
    this.list = root.querySelector('.inputs');
    this.onChange = onChange;
    this.values = new Map(); // id → value the user set
    this.committed = new Map(); // the values of the last trace that succeeded
    this.graph = null;
  }

  /** The last trace with these values succeeded: they are the graph's values now. */
  commit() {
    this.committed = new Map(this.values);
    this.pending = false;
  }

  /** The last trace failed (e.g. log of a negative number): back to the values that worked,
   * in every field — the one still focused too, so field and graph never disagree. */
  revert() {
    this.values = new Map(this.committed);
    this.pending = false;
    for (const field of (this.fields || new Map()).values()) field.dataset.editing = '';
  }

  /** The value input `id` has on screen: the trace's, else the one asked for (a trace on its
   * way), else the one that worked last, else the graph's own (its first trace failed). */
  valueOf(id, state) {
    if (this.pending && this.values.has(id)) return this.values.get(id);
    const traced = state && state.graph === this.graph ? state.timeline.finalValue[id] : NaN;
    if (!Number.isNaN(traced)) return traced;
    if (this.committed.has(id)) return this.committed.get(id);
    const defined = this.graph && id < this.graph.leafValues.length ? this.graph.leafValues[id] : NaN;
    return defined;
  }

  /** Values from a link ({name or id: number}): they are asked for by the first trace. */
  setWire(values) {
    const g = this.graph;
    for (const [key, v] of Object.entries(values || {})) {
      const id = g.byName.has(key) ? g.byName.get(key) : /^\d+$/.test(key) ? Number(key) : -1;
      if (id >= 0 && id < g.n && g.op[id] === 'input' && Number.isFinite(v)) this.values.set(id, v);
    }
  }

  setGraph(graph) {
    this.graph = graph;
    this.values = new Map();
    this.committed = new Map();
    this.pending = false;
    this.fields = new Map();
    const inputs = graph.inputs;
    this.list.replaceChildren();
    if (inputs.length > MAX_FIELDS) {
      const p = document.createElement('p');
      p.className = 'hint';
      p.textContent = `${thousands(inputs.length)} inputs: select one in the view to change it in the Inspector.`;
      this.list.append(p);
      return;
    }
    for (const id of inputs) {
      const row = document.createElement('div');
      row.className = 'input-row';
      const name = document.createElement('span');
      name.className = 'drag';
      name.textContent = label(graph, id);
      name.title = 'Drag left or right to change';
      const field = document.createElement('input');
      field.type = 'number';
      field.step = 'any';
      field.setAttribute('aria-label', label(graph, id));
      field.dataset.nodeId = String(id);
      const defined = id < graph.leafValues.length ? graph.leafValues[id] : NaN;
      if (!Number.isNaN(defined)) field.value = String(defined);
      // While the user types, the field is theirs; once they commit (change) it shows the
      // graph's value again — the new one, or the old one if the new one failed.
      field.addEventListener('input', () => { field.dataset.editing = 'true'; });
      field.addEventListener('change', () => {
        field.dataset.editing = '';
        const v = Number(field.value);
        if (field.value !== '' && Number.isFinite(v)) this.set(id, v);
      });
      this._drag(name, field, id);
      row.append(name, field);
      this.list.append(row);
      this.fields.set(id, field);
    }
  }

  _drag(handle, field, id) {
    let start = null;
    handle.addEventListener('pointerdown', (event) => {
      handle.setPointerCapture(event.pointerId);
      start = { x: event.clientX, value: Number(field.value) || 0 };
    });
    handle.addEventListener('pointermove', (event) => {
      if (!start) return;
      const step = Math.max(0.01, Math.abs(start.value) / 100);
      const v = Number((start.value + (event.clientX - start.x) * step).toPrecision(6));
      field.value = String(v);
      this.set(id, v);
    });
    const end = () => { start = null; };
    handle.addEventListener('pointerup', end);
    handle.addEventListener('pointercancel', end);
  }

  /** Show the values on screen (valueOf) in the fields the user is not typing in. */
  showValues(state) {
    if (!this.fields) return;
    for (const [id, field] of this.fields) {
      if (field.dataset.editing === 'true') continue;
      const v = this.valueOf(id, state);
      const text = Number.isNaN(v) ? '' : String(v);
      if (field.value !== text) field.value = text;
    }
  }

  /** The user set input `id` to `value`: trace again. */
  set(id, value) {
    this.values.set(id, value);
    this.pending = true;
    this.onChange(this.wireValues());
  }

  /** {name or id: value} for trace_graph. */
  wireValues(values = this.values) {
    const g = this.graph;
    const out = {};
    for (const [id, v] of values) {
      const n = g.name[id];
      const unique = n != null && g.byName.get(n) === id && !isIdLike(n, g);
      out[unique ? n : String(id)] = v;
    }
    return out;
  }

  /** The values of the trace on screen, as wireValues (for links and a kept place). */
  committedWire() {
    return this.graph ? this.wireValues(this.committed) : {};
  }

  get modified() {
    return this.values.size > 0;
  }
}

function isIdLike(name, graph) {
  return /^\d+$/.test(name) && Number(name) < graph.n;
}

/** Gradient check: a toggle; when on, each trace is followed by gradient_check on the server. */
export class GradientCheck {
  constructor(root, { onToggle = () => {} } = {}) {
    this.root = root;
    this.toggle = root.querySelector('input[type=checkbox]');
    this.result = root.querySelector('.gradcheck-result');
    this.toggle.addEventListener('change', () => onToggle(this.toggle.checked));
    this.checks = new Map(); // id → agree
    this.lastInputs = [];
  }

  get on() {
    return this.toggle.checked;
  }

  clear(message = '') {
    this.checks = new Map();
    this.lastInputs = [];
    this.result.replaceChildren();
    if (message) this.result.textContent = message;
  }

  show(graph, inputs) {
    this.lastInputs = inputs;
    this.checks = new Map(inputs.map((r) => [r.id, r.agree]));
    const table = document.createElement('table');
    table.innerHTML = '<thead><tr><th>input</th><th>analytic</th><th>numeric</th><th></th></tr></thead>';
    const body = document.createElement('tbody');
    for (const r of inputs.slice(0, 50)) {
      const tr = document.createElement('tr');
      tr.dataset.nodeId = String(r.id);
      tr.dataset.agree = String(r.agree);
      for (const text of [label(graph, r.id), short(r.analytic), short(r.numeric), r.agree ? '✓' : '✗']) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      tr.className = r.agree ? 'agree' : 'disagree';
      body.append(tr);
    }
    table.append(body);
    const agree = inputs.filter((r) => r.agree).length;
    const summary = document.createElement('p');
    summary.textContent = `${agree} of ${inputs.length} inputs agree with central differences.`;
    this.result.replaceChildren(summary, table);
  }
}
