// Colour scales, named for what they map.
// gradientColor: a node's gradient → a diverging colour (blue negative, white 0, red positive),
//   symlog so that small gradients still show next to large ones.
// magnitudeColor: a block's mean |gradient| → a sequential colour.
// The plain fills (not reached, value only, flagged) belong to the theme: they are live
// bindings that theme.js sets from the page's CSS custom properties (setThemeColors), so the
// canvas view and d3 fills — which need colour strings, not var() — follow light and dark.
import * as d3 from 'd3';

export let UNREACHED = '#eef0f3';
export let VALUE_ONLY = '#fff7d6';
export let FLAGGED = '#d7191c';
/** The page's background and a plain stroke, for drawing code (exports, canvas). */
export let BACKGROUND = '#ffffff';
export let PLAIN_STROKE = '#6b7684';
/** A plain block's fill (a block with no colour of its own). */
export let PANEL = '#f7f8fa';
/** The text colour of the page (a selection outline on the canvas). */
export let INK = '#1d232b';

/** Called by theme.js after the theme changed: {unreached, valueOnly, flagged, background,
 * stroke, ink, panel}. */
export function setThemeColors(colors) {
  if (colors.unreached) UNREACHED = colors.unreached;
  if (colors.valueOnly) VALUE_ONLY = colors.valueOnly;
  if (colors.flagged) FLAGGED = colors.flagged;
  if (colors.background) BACKGROUND = colors.background;
  if (colors.stroke) PLAIN_STROKE = colors.stroke;
  if (colors.ink) INK = colors.ink;
  if (colors.panel) PANEL = colors.panel;
}

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

/** WCAG relative luminance of a CSS colour (0 black … 1 white); NaN if it is not a colour. */
export function luminance(color) {
  const c = d3.rgb(color);
  if (!c || Number.isNaN(c.r)) return NaN;
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Text drawn on `fill`: black or white, whichever contrasts more. One of the two always
 * reaches 4.58:1, so text on any data colour passes WCAG AA. */
export function inkOn(fill) {
  const l = luminance(fill);
  if (Number.isNaN(l)) return '#000';
  return (1.05 / (l + 0.05)) > ((l + 0.05) / 0.05) ? '#fff' : '#000';
}

/** Does white text read better than black on `fill`? (The views mark such shapes "dark".) */
export function wantsWhiteText(fill) {
  return inkOn(fill) === '#fff';
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
