// The loss chart's legend, inside its SVG (so the SVG and PNG exports carry it): one entry per
// run drawn — a line in the run's colour and its name, the run in focus first and in bold, a
// diverging run marked — laid out in rows above the panels. Pure drawing with D3 (join); the
// chart says when (the runs drawn or their names changed).
import * as d3 from 'd3';

const ROW = 16; // px per row of entries
const SWATCH = 16; // px of the line before a name
const GAP = 14; // px between entries
const CHAR = 6.2; // px per character when the text cannot be measured (hidden chart)

/** Draw `entries` ([{id, name, color, focus, diverged}]) into `group` within `width` px;
 * returns the height the legend takes (0 with no entry). */
export function drawChartLegend(group, entries, width) {
  const ordered = [...entries].sort((a, b) => b.focus - a.focus);
  const items = group.selectAll('g.legend-item').data(ordered, (d) => d.id)
    .join((enter) => {
      const g = enter.append('g').attr('class', 'legend-item');
      g.append('line').attr('x1', 0).attr('x2', SWATCH - 4).attr('y1', -4).attr('y2', -4);
      g.append('text').attr('x', SWATCH);
      return g;
    })
    .attr('data-run', (d) => d.id)
    .classed('focus', (d) => d.focus)
    .classed('diverged', (d) => d.diverged)
    .style('color', (d) => d.color);
  items.select('line').attr('stroke', (d) => d.color);
  items.select('text').text((d) => (d.diverged ? `${d.name} — diverging` : d.name));
  items.order();
  let x = 0;
  let row = 0;
  items.each(function place() {
    const text = this.querySelector('text');
    const measured = text.getComputedTextLength ? text.getComputedTextLength() : 0;
    const w = SWATCH + (measured || CHAR * text.textContent.length);
    if (x > 0 && x + w > width) {
      x = 0;
      row++;
    }
    d3.select(this).attr('transform', `translate(${x},${row * ROW + ROW - 3})`);
    x += w + GAP;
  });
  return ordered.length ? (row + 1) * ROW : 0;
}
