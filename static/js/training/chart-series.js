// A run's curves on the loss chart, appended to, not redrawn (after TensorFlow Playground's
// AppendingLineChart): each series is path data in data coordinates (x = step, y = value) that
// only grows, kept in chunks of 128 points (appending-path.js) so that only the last chunk's
// <path> changes; the panel's transform (chart-panels.js) maps it to pixels. Each run is one
// group per panel (`data-run`, and `data-points` on the loss one: how many steps are drawn).
import { AppendingPath } from './appending-path.js';
import { Ema } from './smoothing.js';

const linear = (y) => y;

/** The elements of one run's curves and dots in the two panels, empty until appendSeries(). */
export function createSeries(panels, data, options) {
  const [lossPanel, accPanel] = panels;
  const lg = lossPanel.data.append('g').attr('class', 'run').attr('data-run', data.id);
  const ag = accPanel.data.append('g').attr('class', 'run').attr('data-run', data.id);
  const path = (g, cls) => g.append('path').attr('class', cls).attr('vector-effect', 'non-scaling-stroke');
  const series = (g, cls) => ({ cls, g: g.append('g').attr('class', `series ${cls}`), frozen: 0 });
  const run = { data, groups: [lg, ag],
    el: { raw: series(lg, 'raw'), smooth: series(lg, 'smooth'), test: path(lg, 'test'),
      accSmooth: series(ag, 'acc-smooth'), accTrain: path(ag, 'acc-train'), accTest: path(ag, 'acc-test') },
    dots: [lossPanel.marks.append('g').attr('class', 'dots').attr('data-run', data.id),
      accPanel.marks.append('g').attr('class', 'dots').attr('data-run', data.id)] };
  run.groups.push(...run.dots);
  restartSeries(run, options);
  return run;
}

/** Forget what was drawn of a run (new smoothing weight or y scale): the next append redoes it. */
export function restartSeries(run, { log, weight }) {
  for (const key of ['raw', 'smooth', 'accSmooth']) {
    run.el[key].g.selectAll('path').remove();
    run.el[key].frozen = 0;
    run.el[key].tail = run.el[key].g.append('path').attr('class', run.el[key].cls)
      .attr('vector-effect', 'non-scaling-stroke');
  }
  const yOf = log ? Math.log10 : linear;
  Object.assign(run, { drawn: 0, epochsDrawn: -1, lossMax: 0, lossMin: Infinity,
    raw: new AppendingPath(yOf), smooth: new AppendingPath(yOf), accSmooth: new AppendingPath(),
    ema: new Ema(weight), accEma: new Ema(weight), smoothed: [], accSmoothed: [] });
}

/** New steps and epochs of one run into its paths; keeps the run's loss range for the axes. */
export function appendSeries(run, log) {
  if (run.drawn < run.data.n) appendSteps(run);
  if (run.epochsDrawn !== run.data.epochs.length) drawEpochLines(run, log);
}

function appendSteps(run) {
  const { data } = run;
  const step = data.columns.step.data;
  const loss = data.columns.loss.data;
  const accuracy = data.columns.accuracy.data;
  for (let i = run.drawn; i < data.n; i++) {
    const s = step[i];
    const smoothed = run.ema.next(loss[i]);
    const accSmoothed = run.accEma.next(accuracy[i]);
    run.raw.append(s, loss[i]);
    run.smooth.append(s, smoothed);
    run.accSmooth.append(s, accSmoothed);
    run.smoothed.push(smoothed);
    run.accSmoothed.push(accSmoothed);
    if (loss[i] > run.lossMax && Number.isFinite(loss[i])) run.lossMax = loss[i];
    if (loss[i] > 0 && loss[i] < run.lossMin) run.lossMin = loss[i];
  }
  run.drawn = data.n;
  grow(run.el.raw, run.raw);
  grow(run.el.smooth, run.smooth);
  grow(run.el.accSmooth, run.accSmooth);
  run.groups[0].attr('data-points', run.drawn);
}

/** The per-epoch lines, whole (an epoch is rare); the dots follow at the next layout. */
function drawEpochLines(run, log) {
  const { data } = run;
  run.epochsDrawn = data.epochs.length;
  const line = (key, f = linear) => {
    const p = new AppendingPath(f);
    for (const e of data.epochs) p.append(e.step, e[key]);
    return p.all;
  };
  run.el.test.attr('d', line('test_loss', log ? Math.log10 : linear));
  run.el.accTrain.attr('d', line('train_accuracy'));
  run.el.accTest.attr('d', line('test_accuracy'));
  for (const e of data.epochs) {
    if (e.test_loss > run.lossMax) run.lossMax = e.test_loss;
    if (e.test_loss > 0 && e.test_loss < run.lossMin) run.lossMin = e.test_loss;
  }
  run.dotsDirty = true;
}

/** A series' paths after appending: newly frozen chunks become paths of their own (never
 * touched again), placed before the growing one, whose `d` is the only thing that changes. */
function grow(series, line) {
  for (; series.frozen < line.frozen.length; series.frozen++) {
    series.g.insert('path', () => series.tail.node()).attr('class', series.cls)
      .attr('vector-effect', 'non-scaling-stroke').attr('d', line.frozen[series.frozen]);
  }
  series.tail.attr('d', line.d);
}

/** Remove a run's elements from the chart. */
export function removeSeries(run) {
  run.groups.forEach((g) => g.remove());
}
