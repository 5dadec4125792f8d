// Colour scales, named for what they map.
// gradientColor: a node's gradient → a diverging colour (blue negative, white 0, red positive),
//   symlog so that small gradients still show next to large ones.
// magnitudeColor: a block's mean |gradient| → a sequential colour.
import * as d3 from 'd3';

export const UNREACHED = '#eef0f3';
export const VALUE_ONLY = '#fff7d6';
export const FLAGGED = '#d7191c';

export function gradientColor(maxAbs) {
  const m = Number.isFinite(maxAbs) && maxAbs > 0 ? maxAbs : 1;
  const scale = d3.scaleDivergingSymlog((t) => d3.interpolateRdBu(1 - t))
    .domain([-m, 0, m])
    .constant(m / 100)
    .clamp(true);
  return scale;
}

export function magnitudeColor(min, max) {
  const lo = Number.isFinite(min) && min > 0 ? min : 1e-6;
  const hi = Number.isFinite(max) && max > lo ? max : lo * 10;
  return d3.scaleSequentialLog(d3.interpolateYlOrRd).domain([lo, hi]).clamp(true);
}

/** Largest finite |x| among the final gradients of a timeline (for the scale's domain). */
export function maxAbsGradient(timeline, GRADIENT) {
  let m = 0;
  for (let i = timeline.forwardCount; i < timeline.length; i++) {
    if (timeline.kind[i] !== GRADIENT) continue;
    const a = Math.abs(timeline.value[i]);
    if (Number.isFinite(a) && a > m) m = a;
  }
  return m;
}
