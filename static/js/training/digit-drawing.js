// Draw your own digit: a 16×16 grid drawn with the mouse, a finger or a pen (Pointer Events,
// so touch needs nothing apart), and a Clear button. Each finished stroke hands the ink —
// 256 numbers in [0, 1], row by row, the scale the bundled digits have — to `onDrawn`. The
// brush inks the pixel under the pointer fully and its four neighbours half, about as wide as
// a stroke of the upscaled 8×8 digits.
import { paint } from './pixel-map.js';
import * as d3 from 'd3';

const SIDE = 16;
const SHOWN_PX = 176; // the canvas on screen: 11 px per pixel
const EDGE_INK = 0.5;
const ink = d3.scaleLinear().domain([0, 1]).range(['#ffffff', '#111111']).clamp(true);

export class DigitDrawing {
  constructor(el, { onDrawn, onClear }) {
    this.el = el; // {canvas, clear, label}
    this.onDrawn = onDrawn;
    this.onClear = onClear;
    this.pixels = new Float64Array(SIDE * SIDE);
    this.strokes = 0;
    const { canvas } = el;
    canvas.width = SIDE;
    canvas.height = SIDE;
    canvas.style.width = `${SHOWN_PX}px`;
    canvas.style.height = `${SHOWN_PX}px`;
    this._paint();
    canvas.addEventListener('pointerdown', (event) => this._down(event));
    canvas.addEventListener('pointermove', (event) => this._move(event));
    canvas.addEventListener('pointerup', (event) => this._up(event));
    canvas.addEventListener('pointercancel', (event) => this._up(event));
    el.clear.addEventListener('click', () => this.clear());
    el.label.addEventListener('change', () => this.strokes && this.onDrawn(this.pixels, this.label()));
  }

  /** The class the drawing is meant to be (the select), or null: score it as predicted. */
  label() {
    return this.el.label.value === '' ? null : Number(this.el.label.value);
  }

  clear() {
    this.pixels.fill(0);
    this.strokes = 0;
    this._paint();
    this.onClear();
  }

  _cell(event) {
    const box = this.el.canvas.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * SIDE);
    const r = Math.floor(((event.clientY - box.top) / box.height) * SIDE);
    return [Math.min(SIDE - 1, Math.max(0, r)), Math.min(SIDE - 1, Math.max(0, c))];
  }

  _down(event) {
    event.preventDefault();
    this.el.canvas.setPointerCapture(event.pointerId);
    this.drawing = true;
    this.last = this._cell(event);
    this._ink(...this.last);
    this._paint();
  }

  _move(event) {
    if (!this.drawing) return;
    const [r, c] = this._cell(event);
    // A fast stroke skips cells between two events: fill the line between them.
    const [r0, c0] = this.last;
    const steps = Math.max(Math.abs(r - r0), Math.abs(c - c0));
    for (let s = 1; s <= steps; s++) this._ink(Math.round(r0 + ((r - r0) * s) / steps), Math.round(c0 + ((c - c0) * s) / steps));
    this.last = [r, c];
    this._paint();
  }

  _up(event) {
    if (!this.drawing) return;
    this.drawing = false;
    if (this.el.canvas.hasPointerCapture(event.pointerId)) this.el.canvas.releasePointerCapture(event.pointerId);
    this.strokes++;
    this.onDrawn(this.pixels, this.label());
  }

  _ink(r, c) {
    this.pixels[r * SIDE + c] = 1;
    for (const [dr, dc] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
      const rr = r + dr;
      const cc = c + dc;
      if (rr >= 0 && rr < SIDE && cc >= 0 && cc < SIDE) this.pixels[rr * SIDE + cc] = Math.max(this.pixels[rr * SIDE + cc], EDGE_INK);
    }
  }

  _paint() {
    paint(this.el.canvas, this.pixels, SIDE, ink);
    this.el.canvas.dataset.inked = String(this.pixels.reduce((n, v) => n + (v > 0), 0));
  }
}
