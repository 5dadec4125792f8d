// The page's copies of the training runs: what the server listed (each run's meta), the
// metrics of those the page has loaded (RunData), each run's colour, which runs are overlaid on
// the chart, which one is in focus and which step is picked. State only: training-page.js says
// who is told of a change.
import * as d3 from 'd3';
import { FINAL, RunData } from './run-data.js';

export class RunRegistry {
  /** follow(id): start receiving a run's metrics (its stored history, then the live tail). */
  constructor({ follow }) {
    this.follow = follow;
    this.runs = new Map(); // id → {meta, data: RunData | null}
    this.colors = new Map(); // id → colour, given once
    this.drawn = new Set(); // runs overlaid on the chart
    this.focusId = null;
    this.picked = null; // the step the blocks show; null: the latest
  }

  get(id) {
    return this.runs.get(id);
  }

  has(id) {
    return this.runs.has(id);
  }

  /** The metrics of a run the page has loaded, or null. */
  dataOf(id) {
    const entry = id && this.runs.get(id);
    return entry ? entry.data : null;
  }

  get focused() {
    return this.dataOf(this.focusId);
  }

  /** Merge what the server says of a run (its meta) into the page's copy. */
  update(meta) {
    let entry = this.runs.get(meta.id);
    // A list fetched before a run ended must not bring it back to life.
    if (entry && FINAL.has(entry.meta.status) && meta.status === 'running') meta = { ...meta, status: entry.meta.status };
    if (!entry) {
      entry = { meta: { ...meta }, data: null };
      this.runs.set(meta.id, entry);
      if (!this.colors.has(meta.id)) this.colors.set(meta.id, d3.schemeTableau10[this.colors.size % 10]);
    } else Object.assign(entry.meta, meta);
    if (entry.data) entry.data.setMeta(meta);
    return entry;
  }

  /** Overlay a run, loading its metrics if the page has none yet. */
  show(id) {
    const entry = this.runs.get(id);
    if (!entry) return;
    this.drawn.add(id);
    if (!entry.data) {
      entry.data = new RunData(entry.meta);
      this.follow(id);
    }
  }

  hide(id) {
    this.drawn.delete(id);
  }

  remove(id) {
    this.runs.delete(id);
    this.drawn.delete(id);
  }

  /** The running run started last, else the newest; null when there are none. */
  newest() {
    const all = this.newestFirst();
    const running = all.find((r) => r.meta.status === 'running');
    return (running || all[0] || { meta: { id: null } }).meta.id;
  }

  newestFirst() {
    return [...this.runs.values()].sort((a, b) => b.meta.created - a.meta.created);
  }

  /** What the chart draws: the overlaid runs whose metrics are loaded. */
  chartRuns() {
    return [...this.drawn].filter((id) => this.dataOf(id))
      .map((id) => ({ data: this.dataOf(id), color: this.colors.get(id), focus: id === this.focusId }));
  }

  /** The rows of the runs list, newest first. */
  listRows() {
    return this.newestFirst().map((entry) => ({
      meta: entry.meta, data: entry.data, color: this.colors.get(entry.meta.id),
      drawn: this.drawn.has(entry.meta.id), focus: entry.meta.id === this.focusId,
    }));
  }

  /** The compared runs as the URL keeps them: the overlaid ones besides the focus. */
  comparison() {
    return { runs: [...this.drawn].filter((id) => id !== this.focusId && this.runs.has(id)), focus: this.focusId };
  }

  /** The row of the step the blocks show: the picked step's, else the last. */
  focusIndex(data) {
    if (!data || !data.n) return -1;
    return this.picked == null ? data.n - 1 : data.indexOfStep(this.picked);
  }

  /** Runs still going that the page does not follow (started elsewhere)? */
  hasUnfollowedRunning(isFollowing) {
    return [...this.runs.values()].some((r) => r.meta.status === 'running' && !isFollowing(r.meta.id));
  }
}
