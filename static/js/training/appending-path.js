// A line grown point by point, as SVG path data in data coordinates (x = step, y = the value),
// so a new point costs one string append and never a redraw of the others: the chart maps data
// to pixels with one transform on the paths' group (vector-effect: non-scaling-stroke keeps the
// stroke's width). A non-finite y breaks the line; the next finite point starts a new piece.
//
// The line is kept in chunks of CHUNK points: a full chunk is frozen (its <path> never changes
// again) and only the last one grows, so the browser repaints a small region per frame, not the
// whole curve. A chunk after the first starts at the previous chunk's last point, written
// "Mx y" (a space, not a comma) so that reading the points back (pathXs) sees each step once.

export const CHUNK = 128;

export class AppendingPath {
  constructor(yOf = (y) => y) {
    this.yOf = yOf; // e.g. Math.log10 for a log axis
    this.reset();
  }

  reset() {
    this.frozen = []; // d of each full chunk, oldest first
    this.d = ''; // the growing chunk
    this.inChunk = 0; // points in it
    this.points = 0; // finite points drawn, in all chunks
    this.last = null; // the last point drawn: "x,y", or null after a break
  }

  append(x, y) {
    const v = this.yOf(y);
    if (!Number.isFinite(v)) {
      this.last = null;
      return;
    }
    if (this.inChunk >= CHUNK) {
      this.frozen.push(this.d);
      this.d = this.last ? `M${this.last.replace(',', ' ')}` : '';
      this.inChunk = 0;
    }
    const point = `${x},${+v.toPrecision(7)}`;
    this.d += `${this.last ? 'L' : 'M'}${point}`;
    this.last = point;
    this.inChunk++;
    this.points++;
  }

  /** The whole line as one `d` (for tests and exports). */
  get all() {
    return this.frozen.join('') + this.d;
  }
}

/** The x of every point of path data built here, in order, each step once. */
export function pathXs(d) {
  return Array.from(d.matchAll(/[ML](-?[\d.e+-]+),/g), (m) => Number(m[1]));
}
