// The decision boundary: the output neuron over the square [-6, 6]² with the points on top
// (training filled, test outlined). The canvas carries the latest frame's numbers as data-*
// attributes (data-points, data-epoch, data-step, data-train-loss, data-test-loss, data-test-accuracy) for tests and
// assistive tools alike.
import { CLASS_COLORS, colorOf, paintMap } from './heat-colors.js';

const SQUARE = 6;

export class BoundaryView {
  constructor(canvas, { onPoint = () => {}, onAdd = () => {} } = {}) {
    this.canvas = canvas;
    this.points = null;
    this.frame = null;
    this.showTest = true;
    this.discrete = false;
    canvas.addEventListener('click', (event) => {
      const hit = this.pointAt(event.offsetX, event.offsetY);
      if (hit !== null) onPoint(hit);
      else onAdd(...this.toSquare(event.offsetX, event.offsetY), event.shiftKey ? -1 : 1);
    });
  }

  setPoints(points) {
    this.points = points;
    this.canvas.dataset.points = String(points.count);
    this.draw();
  }

  setFrame(frame) {
    const receivedAt = performance.timeOrigin + performance.now();
    this.frame = frame;
    const c = this.canvas.dataset;
    c.epoch = String(frame.epoch);
    c.step = String(frame.step);
    c.trainLoss = String(frame.train_loss);
    c.testLoss = String(frame.test_loss);
    c.testAccuracy = frame.test_accuracy === null ? '' : String(frame.test_accuracy);
    this.draw();
    if (typeof frame.stepped_at === 'number') this._announceDrawn(frame.stepped_at, receivedAt);
  }

  /** A `pg-drawn` event once the frame that shows this draw has been painted, with the
   * server's step end, this frame's arrival here and that moment on the same (wall) clock —
   * bench/playground.py item 3. */
  _announceDrawn(steppedAt, receivedAt) {
    requestAnimationFrame(() => setTimeout(() => {
      const shownAt = performance.timeOrigin + performance.now();
      this.canvas.dispatchEvent(new CustomEvent('pg-drawn', { detail: { steppedAt, receivedAt, shownAt } }));
    }));
  }

  setOptions({ showTest = this.showTest, discrete = this.discrete } = {}) {
    Object.assign(this, { showTest, discrete });
    this.draw();
  }

  /** Canvas pixels of the point (x₁, x₂). */
  toPixels(x, y) {
    const size = this.canvas.clientWidth || this.canvas.width;
    return [((x + SQUARE) / (2 * SQUARE)) * size, ((SQUARE - y) / (2 * SQUARE)) * size];
  }

  /** The point (x₁, x₂) at canvas pixels (px, py). */
  toSquare(px, py) {
    const size = this.canvas.clientWidth || this.canvas.width;
    return [(px / size) * 2 * SQUARE - SQUARE, SQUARE - (py / size) * 2 * SQUARE];
  }

  /** The index of the point drawn at canvas pixel (px, py), or null. */
  pointAt(px, py) {
    if (!this.points) return null;
    const { xy, count } = this.points;
    let best = null;
    let bestDistance = 8 * 8;
    for (let k = 0; k < count; k += 1) {
      if (!this.showTest && k >= this.points.trainCount) break;
      const [x, y] = this.toPixels(xy[2 * k], xy[2 * k + 1]);
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    return best;
  }

  draw() {
    const canvas = this.canvas;
    const size = canvas.clientWidth || 300;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(size * ratio)) {
      canvas.width = canvas.height = Math.round(size * ratio);
    }
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, size, size);
    if (this.frame) {
      const output = new Float32Array(this.frame.output.slice(0));
      paintMap(context, output, this.frame.resolution, size, size, this.discrete);
    }
    if (!this.points) return;
    const { xy, labels, count, trainCount, classification } = this.points;
    for (let k = 0; k < count; k += 1) {
      const test = k >= trainCount;
      if (test && !this.showTest) continue;
      const [x, y] = this.toPixels(xy[2 * k], xy[2 * k + 1]);
      const fill = classification ? (labels[k] > 0 ? CLASS_COLORS.positive : CLASS_COLORS.negative) : colorOf(labels[k]);
      context.beginPath();
      context.arc(x, y, 3.2, 0, 2 * Math.PI);
      context.lineWidth = test ? 1.6 : 1;
      if (test) {
        context.fillStyle = '#ffffff';
        context.fill();
        context.strokeStyle = fill;
      } else {
        context.fillStyle = fill;
        context.fill();
        context.strokeStyle = '#ffffff';
      }
      context.stroke();
    }
  }
}
