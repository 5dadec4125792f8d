// The colour legend, one line: the gradient's diverging scale (or, for blocks, mean |gradient|)
// with a few ticks, then what the other looks mean (for a trace: not reached, value only, NaN/∞).
import * as d3 from 'd3';
import { UNREACHED, VALUE_ONLY, FLAGGED } from '../shared/colors.js';

const RAMP = 140;

const TRACE_SWATCHES = [
  { label: 'not reached', fill: UNREACHED, stroke: '#9aa3ad' },
  { label: 'value only', fill: VALUE_ONLY, stroke: '#9aa3ad' },
  { label: 'NaN / ∞', fill: '#fff', stroke: FLAGGED, dash: '3,2' },
];

/** `swatches`: what the other looks mean ([{label, fill, stroke, dash?}]); the trace's by default. */
export function drawLegend(svgElement, { scale, title, kind = 'diverging', swatches = TRACE_SWATCHES }) {
  const svg = d3.select(svgElement).attr('width', 640).attr('height', 36)
    .attr('role', 'img').attr('aria-label', `Legend: ${title}`);
  svg.selectAll('*').remove();
  if (!scale) return;
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
  const titleText = svg.append('text').attr('class', 'legend-title').attr('x', 0).attr('y', 15).text(title);
  const x0 = Math.ceil(titleText.node().getComputedTextLength()) + 10;
  const g = svg.append('g').attr('transform', `translate(${x0},4)`);
  g.append('rect').attr('width', RAMP).attr('height', 10).attr('fill', `url(#${id})`);
  const ticks = kind === 'diverging' ? [lo, 0, hi] : [lo, hi];
  g.append('g').attr('transform', 'translate(0,10)')
    .call(d3.axisBottom(axisScale).tickValues(ticks)
      .tickFormat(d3.format(kind === 'diverging' ? '.2~g' : '.1~e')).tickSize(3))
    .call((axis) => axis.select('.domain').remove());
  const sw = svg.append('g').attr('transform', `translate(${x0 + RAMP + 24},6)`).selectAll('g')
    .data(swatches).join('g').attr('transform', (d, i) => `translate(${i * 84},0)`);
  sw.append('rect').attr('width', 12).attr('height', 12).attr('rx', 3)
    .attr('fill', (d) => d.fill).attr('stroke', (d) => d.stroke)
    .attr('stroke-dasharray', (d) => d.dash || null).attr('stroke-width', 1.5);
  sw.append('text').attr('x', 16).attr('y', 10).text((d) => d.label);
  svg.attr('width', x0 + RAMP + 24 + swatches.length * 84);
}
