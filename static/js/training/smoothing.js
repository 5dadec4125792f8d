// TensorBoard's smoothing: an exponential moving average, debiased so the first points are not
// pulled towards 0. With weight w, after k finite points
//   last = w·last + (1 − w)·y,   smoothed = last / (1 − w^k).
// Non-finite points pass through unsmoothed and do not disturb the average. One Ema follows one
// series point by point (appending is O(1)); smooth() does a whole array.

export class Ema {
  constructor(weight) {
    this.weight = Math.min(Math.max(weight, 0), 0.999);
    this.last = 0;
    this.count = 0;
  }

  next(y) {
    if (!Number.isFinite(y)) return y;
    const w = this.weight;
    this.last = this.last * w + (1 - w) * y;
    this.count++;
    return w === 0 ? y : this.last / (1 - w ** this.count);
  }
}

export function smooth(values, weight) {
  const ema = new Ema(weight);
  return Float64Array.from(values, (y) => ema.next(y));
}
