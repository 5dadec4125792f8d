// Wiring of the training mode: who is told when runs come and go, the focus moves or a step is
// picked. The parts each do one job: run-registry.js (the page's copies of the runs, the focus,
// the overlay), training-panel.js (form, Train/Stop, progress), run-follower.js (watch_run,
// resumable), loss-chart.js (curves) and chart-controls.js, runs-list.js, confusion.js and
// gradient-health.js (what the grouped view's blocks show), training-stage.js (the graph view
// beside the curves: the focused run's network) and training-frame.js (the drawing, once per
// frame). main.js asks overlay() for the view's blocks every frame.
import { ok } from '../shared/socket.js';
import { deleteRun, getSharedPage, listRuns, renameRun, shareRun, unshareRun } from '../shared/api.js';
import { ModeTabs } from '../shared/mode-tabs.js';
import { invalidate, onFrame } from '../shared/frame-loop.js';
import { comparisonFromUrl, graphFromUrl, setComparison, setSharedRun, sharedRunFromUrl } from '../shared/url-state.js';
import { RunRegistry } from './run-registry.js';
import { RunData } from './run-data.js';
import { RunFollower } from './run-follower.js';
import { TrainingPanel } from './training-panel.js';
import { LossChart } from './loss-chart.js';
import { wireChartControls } from './chart-controls.js';
import { RunsList } from './runs-list.js';
import { ConfusionMatrix } from './confusion.js';
import { GradientHealth } from './gradient-health.js';
import { TrainingStage } from './training-stage.js';
import { trainingFrame } from './training-frame.js';
import { ChartNote } from './chart-note.js';
import { isSharedRun, readSharedRun, SharedRunPoller } from './shared-run.js';
import { PicturesClient } from './pictures-client.js';
import { PicturesPanel } from './pictures-panel.js';

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
    this.pictures = new PicturesPanel(new PicturesClient(connection), { card: $('#pictures-card'),
      caption: $('#pictures-caption'), strip: $('#digit-strip'), pairs: $('#confusion-pairs'),
      pairsCaption: $('#confusion-pairs-caption'), kernels: $('#kernels'), maps: $('#digit-maps'),
      drawCanvas: $('#draw-canvas'), drawClear: $('#draw-clear'), drawLabel: $('#draw-label'), drawnMaps: $('#drawn-maps'),
      openBackprop: $('#open-backprop') }, { openGraph: (ref) => this.openGraph(controller, ref) });
    const confusion = new ConfusionMatrix($('#confusion'), $('#confusion-caption'),
      { onCell: (t, p) => this.pictures.pickCell(t, p) });
    this.frame = trainingFrame({ registry: this.registry, modes: this.modes, chart: this.chart, panel: this.panel,
      health: this.health, list: this.list, note: new ChartNote($('#chart')), confusion, pictures: this.pictures });
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
      onShare: (id) => shareRun(id).then(({ token }) => this.update({ id, share_token: token })),
      onUnshare: (id) => unshareRun(id).then(() => this.update({ id, share_token: null })),
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

  /** The training config the graph view shows: the focused run's, else the form's (a shared
   * run's network spec is another workspace's upload: the view cannot show it). */
  config() {
    const entry = this.registry.get(this.registry.focusId);
    if (!entry) return this.panel.values();
    const config = entry.meta.config || {};
    return entry.meta.visiting && config.graph && !/^(example|model):/.test(config.graph) ? {} : config;
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
    // (A run shared by link is another workspace's: never listed, kept while the page shows it.)
    if (startedBefore === this.started) {
      for (const [id, entry] of [...this.registry.runs]) if (!ids.has(id) && !entry.meta.visiting) this.forget(id);
    }
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

  /** A graph made for this page (a digit's back-prop) on the Graph tab, ready to play. Leaving
   * training mode first: its own load of Graph mode's graph is superseded by this one. */
  async openGraph(controller, ref) {
    this.modes.set('graph');
    await controller.load(ref);
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

  // -- a run shared by link (shared-run.js) ----------------------------------------------------
  /** Before the page loads a graph: if `?shared=TOKEN` is a run's link, not a graph's, the
   * address becomes `?run=TOKEN#training` (start() opens the run) and the graph view shows the
   * default graph. */
  async takeSharedLink() {
    const { sharedId } = graphFromUrl();
    if (!sharedId) return;
    let answer;
    try {
      answer = await getSharedPage(sharedId);
    } catch {
      return; // the graph path says what went wrong
    }
    if (!isSharedRun(answer)) return;
    this.sharedFirstPage = answer;
    setSharedRun(sharedId);
  }

  /** Show the run shared under `token`, read-only, in focus; a run still going is followed by
   * asking the link again. Returns its id, or null when the link does not work. */
  async openShared(token) {
    let run;
    try {
      run = await readSharedRun(token, 0, this.sharedFirstPage);
    } catch (error) {
      this.panel.showError(`Could not open the shared run: ${error.message}`);
      return null;
    }
    if (!run) {
      this.panel.showError('No run is shared under that link (any more): its owner may have stopped sharing it.');
      return null;
    }
    const { id } = run.meta;
    if (!this.registry.has(id)) { // (its owner opening their own link sees their own run)
      const entry = this.update({ ...run.meta, visiting: token });
      entry.data = new RunData(entry.meta);
      this.takeShared(run);
      this.sharedPoller = new SharedRunPoller(token, { lastSeq: () => entry.data.lastSeq,
        onRun: (more) => this.takeShared(more),
        onGone: () => this.panel.showError('The shared run’s owner stopped sharing it: what is shown is what it had.') });
      this.sharedPoller.start(run.meta.status);
    }
    this.registry.show(id);
    return id;
  }

  takeShared({ meta, records }) {
    const data = this.registry.dataOf(meta.id);
    for (const record of records) if (record.seq === data.lastSeq + 1) data.add(record);
    this.update({ id: meta.id, status: meta.status, summary: meta.summary, steps: meta.steps });
    invalidate();
  }

  /** After the page has loaded its graph: list the runs, follow the newest (or open the run a
   * share link names). */
  async start() {
    await this.refreshList();
    const token = sharedRunFromUrl();
    const shared = token ? await this.openShared(token) : null;
    const focus = this.restoreFromUrl();
    this.restored = true;
    this.setFocus(shared && !comparisonFromUrl().focus ? shared : focus || this.registry.newest());
    if (shared) this.modes.set('training');
    // Runs the page does not follow (started elsewhere) end without telling it: ask now and then.
    setInterval(() => {
      if (this.modes.training && this.registry.hasUnfollowedRunning((id) => this.follower.isFollowing(id))) {
        this.refreshList();
      }
    }, POLL_MS);
    document.body.dataset.trainingReady = 'true';
  }
}
