// The network diagram: features → hidden neurons → output, each neuron a small heat map of its
// own output over the square (from the frame's maps), each edge's width and colour its weight.
// Hovering a neuron shows its formula with the current weights plugged in; hovering an edge its
// weight (the elements' titles, which screen readers read too); clicking an edge (or Enter on
// it) opens the field that edits its weight (weight-editor.js). The edges are one tab stop, and
// the neurons another (roving-focus.js).
import { colorOf, paintMap } from './heat-colors.js';
import { FEATURE_LABELS } from './playground-config.js';
import { WeightEditor } from './weight-editor.js';
import { rovingFocus } from './roving-focus.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE = 30;
const GAP = 42;
const SQUARE = 6;
const FEATURE_OF = {
  x1: (a) => a, x2: (a, b) => b, 'x1^2': (a) => a * a, 'x2^2': (a, b) => b * b, x1x2: (a, b) => a * b,
  'sin(x1)': (a) => Math.sin(a), 'sin(x2)': (a, b) => Math.sin(b),
};

function featureMap(feature, resolution) {
  const out = new Float32Array(resolution * resolution);
  const scale = feature.endsWith('^2') || feature === 'x1x2' ? SQUARE * SQUARE : feature.startsWith('sin') ? 1 : SQUARE;
  for (let r = 0; r < resolution; r += 1) {
    for (let c = 0; c < resolution; c += 1) {
      const a = -SQUARE + (2 * SQUARE * c) / (resolution - 1);
      const b = SQUARE - (2 * SQUARE * r) / (resolution - 1);
      out[r * resolution + c] = FEATURE_OF[feature](a, b) / scale;
    }
  }
  return out;
}

const signed = (w) => `${w < 0 ? '−' : '+'} ${Math.abs(w).toFixed(3)}`;

export class NetworkView {
  constructor(root, { onEditWeight = async () => {} } = {}) {
    this.root = root;
    this.shape = null;
    this.params = null;
    this.activation = 'tanh';
    this.editor = new WeightEditor(root, { onCommit: onEditWeight });
  }

  /** A new network: lay out its neurons and edges. */
  setShape(shape, { activation, classification }) {
    this.shape = shape;
    this.activation = activation;
    this.classification = classification;
    this.root.replaceChildren();
    const columns = [shape.features.length, ...shape.hidden, 1];
    const tallest = Math.max(...columns);
    const width = Math.max(this.root.clientWidth, 280);
    const height = tallest * GAP + 10;
    const step = (width - NODE) / (columns.length - 1);
    this.positions = columns.map((count, k) => Array.from({ length: count }, (_, j) => ({
      x: k * step, y: (height - count * GAP) / 2 + j * GAP + 5 })));
    this.root.style.height = `${height}px`;
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.setAttribute('width', String(width));
    this.svg.setAttribute('height', String(height));
    this.svg.setAttribute('aria-hidden', 'false');
    this.edges = [];
    for (let layer = 0; layer < columns.length - 1; layer += 1) {
      const into = columns[layer + 1];
      const from = columns[layer];
      for (let i = 0; i < into; i += 1) {
        for (let j = 0; j < from; j += 1) {
          const line = document.createElementNS(SVG, 'line');
          const a = this.positions[layer][j];
          const b = this.positions[layer + 1][i];
          line.setAttribute('x1', String(a.x + NODE));
          line.setAttribute('y1', String(a.y + NODE / 2));
          line.setAttribute('x2', String(b.x));
          line.setAttribute('y2', String(b.y + NODE / 2));
          line.classList.add('pg-edge');
          // A wider invisible line over it takes the pointer and the focus: a 1 px edge is
          // too thin to click.
          const hit = line.cloneNode();
          hit.setAttribute('class', 'pg-edge-hit');
          hit.setAttribute('role', 'button');
          const title = document.createElementNS(SVG, 'title');
          hit.append(title);
          this.svg.append(line, hit);
          const edge = { line, hit, title, position: shape.weights[layer][i * from + j], from: [layer, j], to: [layer + 1, i] };
          hit.addEventListener('click', () => this._edit(edge));
          hit.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); this._edit(edge); }
          });
          this.edges.push(edge);
        }
      }
    }
    this.svg.setAttribute('role', 'group');
    this.svg.setAttribute('aria-label', 'Weights: arrow keys move between edges, Enter edits one');
    rovingFocus(this.edges.map((edge) => edge.hit));
    this.root.append(this.svg);
    this.neurons = this.positions.map((column, layer) => column.map((p, j) => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = NODE;
      canvas.className = 'pg-neuron';
      canvas.style.left = `${p.x}px`;
      canvas.style.top = `${p.y}px`;
      canvas.setAttribute('role', 'img');
      canvas.dataset.layer = String(layer);
      canvas.dataset.neuron = String(j);
      this.root.append(canvas);
      return canvas;
    }));
    rovingFocus(this.neurons.flat()); // neurons: one tab stop too, arrows between them
    this.neurons[0].forEach((canvas, j) => {
      const feature = shape.features[j];
      paintMap(canvas.getContext('2d'), featureMap(feature, 32), 32, NODE, NODE);
      canvas.setAttribute('aria-label', `feature ${FEATURE_LABELS[feature]}`);
      canvas.title = FEATURE_LABELS[feature];
    });
  }

  _edit(edge) {
    if (!this.params) return;
    const a = this.positions[edge.from[0]][edge.from[1]];
    const b = this.positions[edge.to[0]][edge.to[1]];
    this.editor.open({
      position: edge.position, value: this.params[edge.position],
      label: `${this.name(...edge.from)} → ${this.name(...edge.to)}`,
      returnFocus: () => edge.hit.focus(),
      onOpen: () => edge.hit.classList.add('pg-editing'), // the edge stays marked while edited
      onClose: () => edge.hit.classList.remove('pg-editing'),
    }, (a.x + NODE + b.x) / 2, (a.y + b.y) / 2 + NODE / 2);
  }

  name(layer, j) {
    if (layer === 0) return FEATURE_LABELS[this.shape.features[j]];
    if (layer === this.shape.hidden.length + 1) return 'output';
    return `h${layer},${j + 1}`;
  }

  /** Weights, formulas and maps of a frame. */
  setFrame(frame) {
    if (!this.shape) return;
    const params = new Float64Array(frame.params.slice(0));
    this.params = params;
    let most = 0;
    for (const edge of this.edges) most = Math.max(most, Math.abs(params[edge.position]));
    for (const edge of this.edges) {
      const w = params[edge.position];
      edge.line.setAttribute('stroke', colorOf(Math.sign(w) * Math.max(0.35, Math.abs(w) / (most || 1))));
      edge.line.setAttribute('stroke-width', String(0.5 + 4 * Math.abs(w) / (most || 1)));
      const text = `weight ${this.name(...edge.from)} → ${this.name(...edge.to)}: ${w.toFixed(4)}`;
      edge.title.textContent = `${text} (click to edit)`;
      edge.hit.setAttribute('aria-label', `Edit ${text}`);
      edge.hit.dataset.weight = String(w);
    }
    const res = frame.resolution;
    const maps = new Float32Array(frame.neurons.slice(0));
    let offset = 0;
    this.shape.hidden.forEach((width, k) => {
      for (let j = 0; j < width; j += 1) {
        const values = maps.subarray(offset, offset + res * res);
        offset += res * res;
        this._neuron(k + 1, j, values, res, params, this.activation);
      }
    });
    const last = this.shape.hidden.length + 1;
    this._neuron(last, 0, new Float32Array(frame.output.slice(0)), res, params,
      this.classification ? 'tanh' : 'linear');
  }

  _neuron(layer, j, values, res, params, activation) {
    const canvas = this.neurons[layer][j];
    paintMap(canvas.getContext('2d'), values, res, NODE, NODE);
    const from = this.positions[layer - 1].length;
    const weights = this.shape.weights[layer - 1];
    const terms = Array.from({ length: from }, (_, i) => `${signed(params[weights[j * from + i]])}·${this.name(layer - 1, i)}`);
    const bias = params[this.shape.biases[layer - 1][j]];
    const inner = `${terms.join(' ')} ${signed(bias)}`.replace(/^\+ /, '');
    const formula = `${this.name(layer, j)} = ${activation === 'linear' ? inner : `${activation}(${inner})`}`;
    canvas.title = formula;
    canvas.setAttribute('aria-label', formula);
  }
}
