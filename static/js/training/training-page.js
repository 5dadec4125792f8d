// Wiring of the training mode: who is told when runs come and go, the focus moves or a step is
// picked. The parts each do one job: run-registry.js (the page's copies of the runs, the focus,
// the overlay), training-panel.js (form, Train/Stop, progress), run-follower.js (watch_run,
// resumable), loss-chart.js (curves) and chart-controls.js, runs-list.js, confusion.js and
// gradient-health.js (what the grouped view's blocks show), training-stage.js (the graph view
// beside the curves: the focused run's network) and training-frame.js (the drawing, once per
// frame). main.js asks overlay() for the view's blocks every frame.
import { ok } from '../shared/socket.js';
import { deleteRun, listRuns, renameRun } from '../shared/api.js';
import { ModeTabs } from '../shared/mode-tabs.js';
import { invalidate, onFrame } from '../shared/frame-loop.js';
import { comparisonFromUrl, setComparison } from '../shared/url-state.js';
import { RunRegistry } from './run-registry.js';
import { RunFollower } from './run-follower.js';
import { TrainingPanel } from './training-panel.js';
import { LossChart } from './loss-chart.js';
import { wireChartControls } from './chart-controls.js';
import { RunsList } from './runs-list.js';
import { ConfusionMatrix } from './confusion.js';
import { GradientHealth } from './gradient-health.js';
import { TrainingStage } from './training-stage.js';
import { trainingFrame } from './training-frame.js';

const $ = (selector) => document.querySelector(selector);
const POLL_MS = 5000;

export function createTraining({ connection, controller, session }) {
  return new TrainingPage({ connection, controller, session });
}

class TrainingPage {
  constructor({ connection, controller, session }) {
    this.connection = connection;
    this.started = 0; // runs this page has started
    this.restored = false; // the compared runs were read back from the URL
    this.registry = new RunRegistry({ follow: (id) => this.follower.follow(id) });
    this.panel = new TrainingPanel($('#training-panel'), { onTrain: (payload) => this.train(payload),
      onStop: () => this.stop(), onModel: () => this.syncStage() });
    this.stage = new TrainingStage({ controller, session, config: () => this.config() });
    this.modes = new ModeTabs(Array.from(document.querySelectorAll('[role=tab][data-mode]')), {
      onChange: (mode) => this.modeChanged(mode) });
    this.chart = new LossChart($('#chart'), $('#chart-readout'), { onPick: (step) => this.pick(step) });
    wireChartControls(this.chart, { onPick: (step) => this.pick(step) });
    this.list = this.createList();
    this.health = new GradientHealth($('#health'));
    this.follower = this.createFollower();
    this.frame = trainingFrame({ registry: this.registry, modes: this.modes, chart: this.chart, panel: this.panel,
      health: this.health, list: this.list, confusion: new ConfusionMatrix($('#confusion'), $('#confusion-caption')) });
    onFrame((now) => {
      if (!this.frame.draw(now)) invalidate();
    });
    // For the tests and the bench: the page's copies of the runs.
    const { registry } = this;
    window.__training = { runs: registry.runs, follower: this.follower, chart: this.chart,
      get focus() { return registry.focusId; } };
  }

  createList() {
    return new RunsList($('#runs-list'), {
      onFocus: (id) => this.setFocus(id),
      onToggle: (id, on) => {
        if (on) this.registry.show(id);
        else this.registry.hide(id);
        this.changed();
      },
      onRename: (id, name) => renameRun(id, name).then((run) => this.update(run))
        .catch((e) => this.panel.showError(e.message)),
      onDelete: (id) => this.remove(id),
    });
  }

  createFollower() {
    const { registry } = this;
    return new RunFollower(this.connection, {
      lastSeq: (id) => (registry.dataOf(id) ? registry.dataOf(id).lastSeq : 0),
      onRecords: (id, records, arrival) => {
        const data = registry.dataOf(id);
        if (!data) return;
        for (const record of records) data.add(record, arrival);
        invalidate();
      },
      onStatus: (id, status, summary) => {
        this.update({ id, status, ...(summary ? { summary } : {}) });
        this.refreshList();
      },
      onLost: (id) => this.forget(id),
    });
  }

  modeChanged(mode) {
    if (mode === 'training') this.stage.enter();
    else this.stage.leave();
    this.syncStage();
    invalidate();
    window.dispatchEvent(new Event('resize')); // the graph view's size changed
  }

  /** The training config the graph view shows: the focused run's, else the form's. */
  config() {
    const entry = this.registry.get(this.registry.focusId);
    return entry ? entry.meta.config || {} : this.panel.values();
  }

  syncStage() {
    if (this.modes.training) this.stage.sync();
  }

  // -- runs ----------------------------------------------------------------------------------
  update(meta) {
    const entry = this.registry.update(meta);
    this.frame.listChanged();
    invalidate();
    return entry;
  }

  setFocus(id) {
    this.registry.focusId = id;
    this.registry.picked = null;
    this.chart.setPicked(null);
    if (id) this.registry.show(id);
    this.changed();
    this.syncStage();
  }

  forget(id) {
    this.follower.unfollow(id);
    this.registry.remove(id);
    if (this.registry.focusId === id) this.setFocus(this.registry.newest());
    this.changed();
  }

  async remove(id) {
    try {
      await deleteRun(id);
    } catch (error) {
      this.panel.showError(error.message);
      return;
    }
    this.forget(id);
  }

  async refreshList() {
    const startedBefore = this.started;
    let listed;
    try {
      listed = await listRuns();
    } catch (error) {
      this.panel.showError(error.message);
      return;
    }
    const ids = new Set(listed.map((r) => r.id));
    // Runs missing from the list were deleted elsewhere — unless the list is older than a run
    // this page has just started.
    if (startedBefore === this.started) for (const id of [...this.registry.runs.keys()]) if (!ids.has(id)) this.forget(id);
    for (const meta of listed) this.update(meta);
    this.changed();
  }

  changed() {
    this.chart.setRuns(this.registry.chartRuns());
    this.frame.listChanged();
    invalidate();
    // The comparison lives in the URL, so a reload or a copied link shows the same one; until
    // start() has read the URL, the URL is the page's memory, not ours to overwrite.
    if (this.restored) setComparison(this.registry.comparison());
  }

  /** The focus the URL names, once its overlaid runs are shown; null if it names none we have. */
  restoreFromUrl() {
    const { runs: overlaid, focus } = comparisonFromUrl();
    for (const id of overlaid) if (this.registry.has(id)) this.registry.show(id);
    return focus && this.registry.has(focus) ? focus : null;
  }

  // -- training ------------------------------------------------------------------------------
  async train(payload) {
    this.panel.setBusy(true);
    this.panel.showError(null);
    try {
      const ack = ok(await this.connection.request('train', payload, 30000));
      this.started++;
      this.update({ id: ack.run_id, name: ack.name, status: 'running', created: Date.now() / 1000, steps: 0,
        config: { ...payload, model: payload.graph ? 'network' : payload.model } });
      this.setFocus(ack.run_id);
      this.refreshList();
    } catch (error) {
      this.panel.showError(`Could not start: ${error.message}`);
    } finally {
      this.panel.setBusy(false);
    }
  }

  async stop() {
    if (!this.registry.focusId) return;
    try {
      ok(await this.connection.request('stop_run', { run_id: this.registry.focusId }, 10000));
    } catch (error) {
      this.panel.showError(`Could not stop: ${error.message}`);
    }
  }

  pick(step) {
    this.registry.picked = step;
    this.chart.setPicked(step);
    invalidate();
  }

  // -- what main.js asks -----------------------------------------------------------------------
  get active() {
    return this.modes.training;
  }

  /** The grouped view's blocks in training mode (gradient health), or null. */
  overlay() {
    if (!this.modes.training || !this.registry.focusId || !this.stage.showing) return null;
    return this.health.overlay;
  }

  legend() {
    return this.modes.training && this.stage.showing ? this.health.legend() : null;
  }

  /** A graph was loaded in the view: a network spec (not a built-in model) can be trained. */
  graphLoaded(meta) {
    if (meta.format !== 'network' || meta.ref.startsWith('model:')) return;
    const fresh = !this.panel.network || this.panel.network.ref !== meta.ref;
    this.panel.setNetwork({ ref: meta.ref, name: meta.name }, { select: fresh });
  }

  /** After the page has loaded its graph: list the runs, follow the newest. */
  async start() {
    await this.refreshList();
    const focus = this.restoreFromUrl();
    this.restored = true;
    this.setFocus(focus || this.registry.newest());
    // Runs the page does not follow (started elsewhere) end without telling it: ask now and then.
    setInterval(() => {
      if (this.modes.training && this.registry.hasUnfollowedRunning((id) => this.follower.isFollowing(id))) {
        this.refreshList();
      }
    }, POLL_MS);
    document.body.dataset.trainingReady = 'true';
  }
}
