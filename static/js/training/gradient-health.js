// Gradient health: each layer's gradient norm at one step of a run, as colours on the grouped
// view's blocks (grouped-view.js draws them; this module only says what each block shows), a
// flag for vanishing or exploding gradients per block, and the skip path against the residual
// branch at each residual sum.
//
// The rule (stated on the page too), for a layer with weights at step s:
// - exploding: its ‖∇‖ is not finite, or is more than 10× the median of that layer's ‖∇‖ over
//   the run's first 10 steps (its scale at initialisation; a median, so that an early blow-up
//   does not hide itself);
// - vanishing: its ‖∇‖ is below 1/1000 of the largest layer's ‖∇‖ at that same step — the
//   signal fades on its way back through the network.
// (Measured on the default ResNet run, 1,800 steps: no layer meets either — the largest ratio
// to the early median is 8.4; the MLP with SGD at lr 10 explodes at steps 2, 3 and 5.)
import { magnitudeColor, FLAGGED, PANEL, PLAIN_STROKE } from '../shared/colors.js';
import { short } from '../shared/numbers.js';

export const RULE = 'Flags — exploding: ‖∇‖ not finite, or over 10× the median of the layer’s ‖∇‖ '
  + 'in the first 10 steps; vanishing: ‖∇‖ under 1/1000 of the largest layer’s ‖∇‖ at that step.';
/** The rule in words a learner reads (RULE is its tooltip). */
export const RULE_WORDS = 'Each block’s colour is the size of its weights’ gradient. A layer is flagged exploding when '
  + 'that gradient is not a number or over 10 times its size in the first steps, vanishing when it is under '
  + 'a thousandth of the largest layer’s.';
export const EXPLODE_FACTOR = 10;
export const EARLY_STEPS = 10;
export const VANISH_RATIO = 1e-3;

/** Each layer's norm and flag at step position `i`: Map(layer → {norm, flag: null|'vanishing'|'exploding'}). */
export function layerHealth(data, i) {
  const out = new Map();
  if (i < 0 || i >= data.n) return out;
  let largest = 0;
  for (const layer of data.norms.keys()) {
    const v = data.norm(layer, i);
    if (Number.isFinite(v) && v > largest) largest = v;
  }
  const early = Math.min(EARLY_STEPS, data.n);
  for (const [layer, column] of data.norms) {
    const norm = column.data[i];
    const first = Array.from(column.data.subarray(0, early)).filter(Number.isFinite).sort((a, b) => a - b);
    const scale = first.length ? median(first) : 0;
    let flag = null;
    if (!Number.isFinite(norm) || (scale > 0 && norm > EXPLODE_FACTOR * scale)) flag = 'exploding';
    else if (largest > 0 && norm < VANISH_RATIO * largest) flag = 'vanishing';
    out.set(layer, { norm, flag });
  }
  return out;
}

function median(sorted) {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Skip path against residual branch at each residual sum at step position `i`. */
export function branchesAt(data, i) {
  return [...data.branches].map(([name, b]) => ({
    name, skipFrom: b.operands[0], residualFrom: b.operands[1],
    skip: b.skip.data[i], residual: b.residual.data[i], grad: b.grad.data[i],
  }));
}

export class GradientHealth {
  constructor(strip) {
    this.strip = strip; // the text under the blocks
    this.scale = null;
    this.key = null;
    this.overlay = null;
    this.domain = new Map(); // run id → [min, max] of its norms so far
  }

  /**
   * The overlay for grouped-view.js at step position `i` of `data` — {blocks: Map(name → {fill,
   * text, flag, value})} — made anew only when the run, the step or its data moved.
   */
  at(data, i) {
    const key = data ? `${data.id}|${i}|${data.n}|${data.version}` : null;
    if (key === this.key) return this.overlay;
    this.key = key;
    if (!data || i < 0) {
      this.overlay = null;
      this.scale = null;
      this._strip(null);
      return null;
    }
    const health = layerHealth(data, i);
    // Decades around every norm so far: the colours stay put while a run goes, and the scale
    // (and the legend, which is redrawn when it changes) changes only when a norm leaves them.
    const [lo, hi] = this._range(data).map(Math.log10);
    const decades = Number.isFinite(lo) && Number.isFinite(hi)
      ? [10 ** Math.floor(lo), 10 ** Math.max(Math.ceil(hi), Math.floor(lo) + 1)] : [1e-3, 1];
    if (!this.scale || this.scaleKey !== `${decades}`) {
      this.scale = magnitudeColor(...decades);
      this.scaleKey = `${decades}`;
    }
    const blocks = new Map();
    for (const [layer, { norm, flag }] of health) {
      blocks.set(layer, { value: norm, flag,
        fill: Number.isFinite(norm) && norm > 0 ? this.scale(norm) : '#fff',
        text: `‖∇‖ ${short(norm)}${flag ? ` · ${flag}` : ''}` });
    }
    for (const b of branchesAt(data, i)) {
      blocks.set(b.name, { value: null, flag: null, fill: null,
        text: `skip ${short(b.skip)} · residual ${short(b.residual)} (RMS)` });
    }
    this.overlay = { blocks, step: data.columns.step.data[i] };
    this._strip({ data, i, health });
    return this.overlay;
  }

  /** The colour domain: all norms the run has had so far (kept per run, so colours stay put). */
  _range(data) {
    let entry = this.domain.get(data.id);
    if (!entry || entry.n > data.n) entry = { n: 0, lo: Infinity, hi: 0 };
    for (const column of data.norms.values()) {
      for (let k = entry.n; k < data.n; k++) {
        const v = column.data[k];
        if (v > 0 && Number.isFinite(v)) {
          if (v < entry.lo) entry.lo = v;
          if (v > entry.hi) entry.hi = v;
        }
      }
    }
    entry.n = data.n;
    this.domain.set(data.id, entry);
    return [entry.lo, entry.hi];
  }

  /** The strip under the blocks: which step, what is flagged, skip against residual. */
  _strip(shown) {
    const el = this.strip;
    if (!shown) {
      el.replaceChildren(line('health-title', 'Gradient health: start a run or pick one.'), ruleLine());
      el.removeAttribute('data-step');
      return;
    }
    const { data, i, health } = shown;
    const step = data.columns.step.data[i];
    const flagged = [...health].filter(([, h]) => h.flag);
    const title = line('health-title', `Gradient health at step ${step} (epoch ${data.columns.epoch.data[i]}) of ${data.meta.name}: `);
    const verdict = document.createElement('span');
    verdict.className = flagged.length ? 'flagged' : 'healthy';
    verdict.textContent = flagged.length
      ? flagged.map(([layer, h]) => `${layer}’s gradient is ${h.flag}`).join(', ') : 'every layer’s gradient looks healthy';
    verdict.title = [...health].map(([layer, h]) => `${layer}: ‖∇‖ ${short(h.norm)}${h.flag ? ` (${h.flag})` : ''}`).join(' · ');
    title.append(verdict);
    const parts = [title];
    for (const b of branchesAt(data, i)) parts.push(branchBar(b));
    parts.push(ruleLine());
    el.replaceChildren(...parts);
    el.dataset.step = String(step);
    el.dataset.flagged = flagged.map(([layer, h]) => `${layer}:${h.flag}`).join(' ');
  }

  /** For the legend: the scale and what it means. */
  legend() {
    if (!this.scale) return null;
    return { scale: this.scale, kind: 'sequential', title: 'layer ‖∇‖',
      swatches: [{ label: 'no weights', fill: PANEL, stroke: PLAIN_STROKE },
        { label: 'flagged', fill: 'none', stroke: FLAGGED, dash: '4,2' }] };
  }
}

function ruleLine() {
  const rule = line('rule', RULE_WORDS);
  rule.title = RULE;
  return rule;
}

function line(className, text) {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}

/** "Add2 (a skip connection): the Conv2 branch adds about 0.63× what the skip from image
 * carries — both carry the signal", the numbers on hover; and a bar of the two shares. */
function branchBar(b) {
  const row = document.createElement('div');
  row.className = 'branch';
  row.dataset.branch = b.name;
  row.dataset.skip = String(b.skip);
  row.dataset.residual = String(b.residual);
  const total = (Number.isFinite(b.skip) ? b.skip : 0) + (Number.isFinite(b.residual) ? b.residual : 0);
  const share = (v) => (total > 0 && Number.isFinite(v) ? (100 * v) / total : 0);
  const label = document.createElement('span');
  label.className = 'branch-label';
  label.textContent = branchWords(b);
  label.title = `skip path (${b.skipFrom}): RMS ${short(b.skip)} · residual branch (${b.residualFrom}): RMS `
    + `${short(b.residual)} · residual/skip ${short(b.residual / b.skip)}× · gradient RMS at the sum ${short(b.grad)}`;
  label.tabIndex = 0; // the numbers are in its tooltip: reachable from the keyboard too
  const bar = document.createElement('div');
  bar.className = 'branch-bar';
  bar.setAttribute('aria-hidden', 'true');
  const skip = document.createElement('span');
  skip.className = 'skip';
  skip.style.width = `${share(b.skip)}%`;
  const residual = document.createElement('span');
  residual.className = 'residual';
  residual.style.width = `${share(b.residual)}%`;
  bar.append(skip, residual);
  row.append(label, bar);
  return row;
}

/** What the skip connection does at this step, in words (the ratio of the two values' RMS). */
export function branchWords(b) {
  const ratio = b.residual / b.skip;
  const head = `${b.name} (a skip connection): `;
  if (!Number.isFinite(ratio)) return `${head}no signal to compare at this step.`;
  if (ratio < 0.1) return `${head}the ${b.residualFrom} branch adds little — the skip from ${b.skipFrom} carries the signal.`;
  if (ratio > 10) return `${head}the ${b.residualFrom} branch drowns out the skip from ${b.skipFrom}.`;
  return `${head}the ${b.residualFrom} branch adds about ${short(ratio)}× what the skip from ${b.skipFrom} carries`
    + ' — both carry the signal.';
}
