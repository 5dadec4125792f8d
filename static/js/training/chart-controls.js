// The controls around the loss chart: the smoothing slider, the log-scale box, the x axis (by
// step or by epoch), "Follow latest" and the two exports.
import { exportPng, exportSvg } from '../shared/export.js';
import { invalidate } from '../shared/frame-loop.js';

const $ = (selector) => document.querySelector(selector);

/** onPick(null): back to the latest step. */
export function wireChartControls(chart, { onPick }) {
  $('#smoothing').addEventListener('input', (event) => {
    const weight = Number(event.target.value);
    $('#smoothing-value').textContent = weight.toFixed(2);
    chart.setSmoothing(weight);
    invalidate();
  });
  $('#log-scale').addEventListener('change', (event) => {
    chart.setLog(event.target.checked);
    invalidate();
  });
  $('#x-axis').addEventListener('change', (event) => {
    chart.setAxis(event.target.value);
    invalidate();
  });
  $('#follow-latest').addEventListener('click', () => onPick(null));
  $('#export-chart-svg').addEventListener('click', () => exportSvg(chart, 'training-curves.svg'));
  $('#export-chart-png').addEventListener('click', () => exportPng(chart, 'training-curves.png'));
}
