// Wiring of the training mode: which runs exist (the server's list), which one is in focus,
// which are overlaid, which step is picked — and who is told. The parts each do one job:
// training-panel.js (form, Train/Stop, progress), run-follower.js (watch_run, resumable),
// run-data.js (a run's metrics), loss-chart.js (curves), runs-list.js, confusion.js and
// gradient-health.js (what the grouped view's blocks show). The graph view beside the curves
// shows the focused run's network; main.js asks overlay() for its blocks every frame.
import * as d3 from 'd3';
import { ok } from '../shared/socket.js';
import { deleteRun, listRuns, renameRun } from '../shared/api.js';
import { FINAL, RunData } from './run-data.js';
import { RunFollower } from './run-follower.js';
import { TrainingPanel } from './training-panel.js';
import { LossChart } from './loss-chart.js';
import { RunsList } from './runs-list.js';
import { ConfusionMatrix } from './confusion.js';
import { GradientHealth } from './gradient-health.js';
import { ModeTabs } from '../shared/mode-tabs.js';
import { exportPng, exportSvg } from '../shared/export.js';
import { invalidate, onFrame } from '../shared/frame-loop.js';
import { comparisonFromUrl, setComparison } from '../shared/url-state.js';

const $ = (selector) => document.querySelector(selector);
const MODEL_REFS = { resnet: 'model:resnet', mlp: 'model:mlp' };

export function createTraining({ connection, controller, session }) {
  const runs = new Map(); // id → {meta, data: RunData | null}
  const colors = new Map(); // id → colour, given once
  const drawn = new Set(); // runs overlaid on the chart
  let focusId = null;
  let picked = null; // the step the blocks show; null: the latest
  let listDirty = true; // the list's rows changed (not just their numbers)
  let lastList = 0;
  let lastText = 0;
  let started = 0; // runs this page has started
  let restored = false; // the compared runs were read back from the URL

  const modes = new ModeTabs(Array.from(document.querySelectorAll('[role=tab][data-mode]')), {
    onChange: (mode) => {
      if (mode === 'training') graphModeRef = session.ref;
      else restoreStage();
      syncStage();
      invalidate();
      window.dispatchEvent(new Event('resize')); // the graph view's size changed
    },
  });
  const panel = new TrainingPanel($('#training-panel'), { onTrain: train, onStop: stop,
    onModel: () => syncStage() });
  const chart = new LossChart($('#chart'), $('#chart-readout'), { onPick: pick });
  const list = new RunsList($('#runs-list'), {
    onFocus: (id) => setFocus(id),
    onToggle: (id, on) => {
      if (on) show(id);
      else drawn.delete(id);
      changed();
    },
    onRename: (id, name) => renameRun(id, name).then((run) => update(run)).catch((e) => panel.showError(e.message)),
    onDelete: (id) => remove(id),
  });
  const confusion = new ConfusionMatrix($('#confusion'), $('#confusion-caption'));
  const health = new GradientHealth($('#health'));
  const follower = new RunFollower(connection, {
    lastSeq: (id) => (runs.get(id) && runs.get(id).data ? runs.get(id).data.lastSeq : 0),
    onRecords: (id, records, arrival) => {
      const data = runs.get(id) && runs.get(id).data;
      if (!data) return;
      for (const record of records) data.add(record, arrival);
      invalidate();
    },
    onStatus: (id, status, summary) => {
      update({ id, status, ...(summary ? { summary } : {}) });
      refreshList();
    },
    onLost: (id) => forget(id),
  });

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
  $('#follow-latest').addEventListener('click', () => pick(null));
  $('#export-chart-svg').addEventListener('click', () => exportSvg(chart, 'training-curves.svg'));
  $('#export-chart-png').addEventListener('click', () => exportPng(chart, 'training-curves.png'));

  // -- runs ----------------------------------------------------------------------------------
  function update(meta) {
    let entry = runs.get(meta.id);
    // A list fetched before a run ended must not bring it back to life.
    if (entry && FINAL.has(entry.meta.status) && meta.status === 'running') meta = { ...meta, status: entry.meta.status };
    if (!entry) {
      entry = { meta: { ...meta }, data: null };
      runs.set(meta.id, entry);
      if (!colors.has(meta.id)) colors.set(meta.id, d3.schemeTableau10[colors.size % 10]);
    } else Object.assign(entry.meta, meta);
    if (entry.data) entry.data.setMeta(meta);
    listDirty = true;
    invalidate();
    return entry;
  }

  /** Load a run's metrics (stored history, then the live tail) if the page has none yet. */
  function show(id) {
    const entry = runs.get(id);
    if (!entry) return;
    drawn.add(id);
    if (!entry.data) {
      entry.data = new RunData(entry.meta);
      follower.follow(id);
    }
  }

  function setFocus(id) {
    focusId = id;
    picked = null;
    chart.setPicked(null);
    if (id) show(id);
    changed();
    syncStage();
  }

  function forget(id) {
    follower.unfollow(id);
    runs.delete(id);
    drawn.delete(id);
    if (focusId === id) setFocus(newest());
    changed();
  }

  async function remove(id) {
    try {
      await deleteRun(id);
    } catch (error) {
      panel.showError(error.message);
      return;
    }
    forget(id);
  }

  function newest() {
    const all = [...runs.values()].sort((a, b) => b.meta.created - a.meta.created);
    const running = all.find((r) => r.meta.status === 'running');
    return (running || all[0] || { meta: { id: null } }).meta.id;
  }

  async function refreshList() {
    const startedBefore = started;
    let listed;
    try {
      listed = await listRuns();
    } catch (error) {
      panel.showError(error.message);
      return;
    }
    const ids = new Set(listed.map((r) => r.id));
    // Runs missing from the list were deleted elsewhere — unless the list is older than a run
    // this page has just started.
    if (startedBefore === started) for (const id of [...runs.keys()]) if (!ids.has(id)) forget(id);
    for (const meta of listed) update(meta);
    changed();
  }

  function changed() {
    chart.setRuns([...drawn].filter((id) => runs.get(id) && runs.get(id).data)
      .map((id) => ({ data: runs.get(id).data, color: colors.get(id), focus: id === focusId })));
    listDirty = true;
    invalidate();
    rememberInUrl();
  }

  /** The compared runs and the focused one live in the URL, so a reload or a copied link
   * shows the same comparison. */
  function rememberInUrl() {
    if (!restored) return; // until start() has read the URL, it is the page's memory, not ours
    setComparison({ runs: [...drawn].filter((id) => id !== focusId && runs.has(id)), focus: focusId });
  }

  function restoreFromUrl() {
    const { runs: overlaid, focus } = comparisonFromUrl();
    for (const id of overlaid) if (runs.has(id)) show(id);
    return focus && runs.has(focus) ? focus : null;
  }

  // -- training ------------------------------------------------------------------------------
  async function train(payload) {
    panel.setBusy(true);
    panel.showError(null);
    try {
      const ack = ok(await connection.request('train', payload, 30000));
      started++;
      update({ id: ack.run_id, name: ack.name, status: 'running', created: Date.now() / 1000, steps: 0,
        config: { ...payload, model: payload.graph ? 'network' : payload.model } });
      setFocus(ack.run_id);
      refreshList();
    } catch (error) {
      panel.showError(`Could not start: ${error.message}`);
    } finally {
      panel.setBusy(false);
    }
  }

  async function stop() {
    if (!focusId) return;
    try {
      ok(await connection.request('stop_run', { run_id: focusId }, 10000));
    } catch (error) {
      panel.showError(`Could not stop: ${error.message}`);
    }
  }

  function pick(step) {
    picked = step;
    chart.setPicked(step);
    invalidate();
  }

  // -- the graph view beside the curves: the focused run's network -------------------------
  let loading = null;
  let graphModeRef = null; // what Graph mode showed before training mode took the view
  let shownForTraining = null; // what training mode loaded into the view
  function stageRef() {
    const entry = focusId && runs.get(focusId);
    const cfg = entry ? entry.meta.config || {} : panel.values();
    if (cfg.model === 'network' || cfg.graph) return cfg.graph || null;
    const ref = MODEL_REFS[cfg.model];
    // Draw the width the run trains (model:resnet:128), so the blocks' sizes are its own.
    return ref && cfg.width && +cfg.width !== 32 ? `${ref}:${cfg.width}` : ref || null;
  }

  function syncStage() {
    const ref = stageRef();
    if (!modes.training || !ref || ref === session.ref || ref === loading) return;
    loading = ref;
    shownForTraining = ref;
    controller.load(ref).catch(() => {}).finally(() => {
      if (loading === ref) loading = null;
    });
  }

  /** Back in Graph mode: the graph it showed, if training mode replaced it. */
  function restoreStage() {
    const ref = graphModeRef;
    graphModeRef = null;
    if (ref && session.ref === shownForTraining && ref !== session.ref) controller.load(ref).catch(() => {});
  }

  function focusIndex(data) {
    if (!data || !data.n) return -1;
    return picked == null ? data.n - 1 : data.indexOfStep(picked);
  }

  // -- once per frame ------------------------------------------------------------------------
  onFrame((now) => {
    if (!modes.training) return;
    const data = focusId && runs.get(focusId) ? runs.get(focusId).data : null;
    const start = performance.now();
    chart.draw();
    if (window.__trainingDrawn) window.__trainingDrawn.push([now, data ? data.id : null, chart.runs.get(focusId)?.drawn ?? 0]);
    // Text and the blocks change faster than anyone reads while a run streams in: while they
    // follow the newest step, ten times a second; at once when the user picks a step. A frame
    // whose chart took long (new axes) leaves them to the next one.
    const following = picked == null && data && data.status === 'running';
    if (performance.now() - start > 6 || (following && now - lastText < 100)) {
      invalidate();
      return;
    }
    lastText = now;
    panel.showRun(data);
    health.at(data, focusIndex(data));
    const step = picked ?? (data ? data.lastStep() : 0);
    confusion.show(data ? data.epochAt(step) : null, { runName: data ? data.meta.name : '',
      waiting: data ? 'No epoch had ended by then.' : 'The test set’s confusion matrix appears after each epoch.' });
    chart.refreshReadout();
    if (listDirty || now - lastList > 250) {
      listDirty = false;
      lastList = now;
      renderList();
    }
  });

  function renderList() {
    const rows = [...runs.values()].sort((a, b) => b.meta.created - a.meta.created).map((entry) => ({
      meta: entry.meta, data: entry.data, color: colors.get(entry.meta.id),
      drawn: drawn.has(entry.meta.id), focus: entry.meta.id === focusId,
    }));
    list.render(rows);
  }

  // For the tests and the bench: the page's copies of the runs.
  window.__training = { runs, follower, chart, get focus() { return focusId; } };

  return {
    get active() {
      return modes.training;
    },
    /** The grouped view's blocks in training mode (gradient health), or null. */
    overlay() {
      if (!modes.training || !focusId || session.ref !== stageRef()) return null;
      return health.overlay;
    },
    legend() {
      return modes.training && session.ref === stageRef() ? health.legend() : null;
    },
    /** A graph was loaded in the view: a network spec (not a built-in model) can be trained. */
    graphLoaded(meta) {
      if (meta.format !== 'network' || meta.ref.startsWith('model:')) return;
      const fresh = !panel.network || panel.network.ref !== meta.ref;
      panel.setNetwork({ ref: meta.ref, name: meta.name }, { select: fresh });
    },
    /** After the page has loaded its graph: list the runs, follow the newest. */
    async start() {
      await refreshList();
      const focus = restoreFromUrl();
      restored = true;
      setFocus(focus || newest());
      // Runs the page does not follow (started elsewhere) end without telling it: ask now and then.
      setInterval(() => {
        const unseen = [...runs.values()].some((r) => r.meta.status === 'running' && !follower.isFollowing(r.meta.id));
        if (unseen && modes.training) refreshList();
      }, 5000);
      document.body.dataset.trainingReady = 'true';
    },
  };
}
