// The colour legend: the gradient's diverging scale (or, for blocks, mean |gradient|) with a
// few ticks, then what the other looks mean (for a trace: not reached, value only, NaN/∞).
// One line when the bar has room, else the swatches wrap below the ramp; every width is
// measured from the text as drawn, so projector mode's larger text still fits. Text colours
// come from app.css (.legend), so the legend follows the theme.
import * as d3 from 'd3';
import { UNREACHED, VALUE_ONLY, FLAGGED } from '../shared/colors.js';

const RAMP = 140;
const GAP = 18; // between the ramp and the swatches, and between swatches
const BOX = 12; // a swatch's square

const traceSwatches = () => [
  { label: 'not reached', fill: UNREACHED, stroke: '#9aa3ad' },
  { label: 'value only', fill: VALUE_ONLY, stroke: '#9aa3ad' },
  { label: 'NaN / ∞', fill: 'none', stroke: FLAGGED, dash: '3,2' },
];

const drawn = new WeakMap(); // legend element → {args, observer, width}

/** `swatches`: what the other looks mean ([{label, fill, stroke, dash?}]); the trace's by default.
 * Drawn again by itself when the bar it sits in changes width (a tab or a panel was switched). */
export function drawLegend(svgElement, args) {
  let entry = drawn.get(svgElement);
  if (!entry && svgElement.parentElement && typeof ResizeObserver !== 'undefined') {
    entry = { width: svgElement.parentElement.clientWidth };
    entry.observer = new ResizeObserver(() => {
      const width = svgElement.parentElement.clientWidth;
      if (width === entry.width || !entry.args) return;
      entry.width = width;
      draw(svgElement, entry.args);
    });
    entry.observer.observe(svgElement.parentElement);
    drawn.set(svgElement, entry);
  }
  if (entry) entry.args = args;
  draw(svgElement, args);
}

function draw(svgElement, { scale, title, kind = 'diverging', swatches = traceSwatches() }) {
  const svg = d3.select(svgElement).attr('width', 640).attr('height', 36)
    .attr('role', 'img').attr('aria-label', `Legend: ${title}`);
  svg.selectAll('*').remove();
  if (!scale) {
    svg.attr('width', 0).attr('height', 0); // nothing to explain yet: no room taken
    return;
  }
  const id = `legend-ramp-${kind}`;
  const [lo, hi] = kind === 'diverging' ? [scale.domain()[0], scale.domain()[2]] : scale.domain();
  svg.attr('data-max', hi).attr('data-kind', kind); // the scale's top, for tests: this graph's
  // Position along the ramp, in the scale's own (symlog or log) spacing.
  const axisScale = (kind === 'diverging'
    ? d3.scaleSymlog().constant(scale.constant ? scale.constant() : 1)
    : d3.scaleLog()).domain([lo, hi]).range([0, RAMP]);
  const gradient = svg.append('defs').append('linearGradient').attr('id', id);
  gradient.selectAll('stop').data(d3.range(0, 1.0001, 0.05)).join('stop')
    .attr('offset', (t) => t)
    .attr('stop-color', (t) => scale(axisScale.invert(t * RAMP)));
  const titleText = svg.append('text').attr('class', 'legend-title').attr('x', 0).attr('y', 0)
    .attr('dy', '1em').text(title);
  const lineHeight = titleText.node().getBBox().height || 14;
  const x0 = Math.ceil(titleText.node().getComputedTextLength()) + 10;
  const g = svg.append('g').attr('transform', `translate(${x0},4)`);
  g.append('rect').attr('width', RAMP).attr('height', 10).attr('fill', `url(#${id})`);
  const ticks = kind === 'diverging' ? [lo, 0, hi] : [lo, hi];
  const axis = g.append('g').attr('class', 'legend-axis').attr('transform', 'translate(0,10)')
    .call(d3.axisBottom(axisScale).tickValues(ticks)
      .tickFormat(d3.format(kind === 'diverging' ? '.2~g' : '.1~e')).tickSize(3))
    .call((a) => a.select('.domain').remove());
  const rampBottom = 14 + (axis.node().getBBox().height || 12);

  const sw = svg.append('g').selectAll('g').data(swatches).join('g').attr('class', 'legend-swatch');
  sw.append('rect').attr('width', BOX).attr('height', BOX).attr('rx', 3)
    .attr('fill', (d) => d.fill).attr('stroke', (d) => d.stroke)
    .attr('stroke-dasharray', (d) => d.dash || null).attr('stroke-width', 1.5);
  sw.append('text').attr('x', BOX + 4).attr('y', BOX / 2).attr('dy', '0.35em').text((d) => d.label);
  // Lay the swatches out after measuring them: on the ramp's line while they fit, else wrapped.
  const room = Math.max(320, svgElement.parentElement ? svgElement.parentElement.clientWidth * 0.9 : 640);
  let x = x0 + RAMP + GAP;
  let y = 4;
  let width = x;
  let height = rampBottom;
  sw.each(function () {
    const w = BOX + 4 + Math.ceil(this.querySelector('text').getComputedTextLength());
    if (x + w > room && x > 0) {
      x = 0;
      y = Math.max(y + lineHeight + 6, rampBottom + 2);
    }
    d3.select(this).attr('transform', `translate(${x},${y})`);
    x += w + GAP;
    width = Math.max(width, x - GAP);
    height = Math.max(height, y + Math.max(BOX, lineHeight) + 2);
  });
  svg.attr('width', Math.ceil(width)).attr('height', Math.ceil(height));
}
