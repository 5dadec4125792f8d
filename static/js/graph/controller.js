// The graph page's flow: load a graph (keeping the previous one if loading fails), trace it, hand
// the trace to playback, trace again on what-if, gradient-check when asked. Views, inspector and
// controls are told what changed; they draw once per animation frame (frame-loop.js).
//
// A graph's "place" — its what-if values, the playhead and the mode, and what the page adds
// (selection, expanded block) — is kept when another graph replaces it, so coming back to it
// (Training tab and back) or opening a link that carries one resumes there.
import { TraceState, prepareGroupIndex } from './trace-state.js';
import { GRADIENT } from './timeline.js';
import { gradientColor, maxAbsGradient } from '../shared/colors.js';
import { ok } from '../shared/socket.js';
import { invalidate } from '../shared/frame-loop.js';
import { nextTask } from '../shared/yield.js';

const KEEP_PLACES = 8;

export class GraphController {
  constructor({ session, connection, views, playback, whatIf, gradCheck, notify, onGraph,
    onDomainError = null, onBusy = () => {}, savePlace = () => ({}), restorePlace = () => {} }) {
    Object.assign(this, { session, connection, views, playback, whatIf, gradCheck, notify, onGraph,
      onDomainError, onBusy, savePlace, restorePlace });
    this.graph = null;
    this.state = null;
    this.gradScale = gradientColor(1);
    this.flagged = new Set();
    this.pendingValues = null;
    this.tracing = false;
    this.places = new Map(); // ref → place, of graphs replaced by another
    this.busy = 0;
    this.idle = []; // whenIdle()'s resolvers
  }

  /** Resolves once no trace is running or waiting. */
  whenIdle() {
    if (!this.tracing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  _busy(delta) {
    this.busy += delta;
    this.onBusy(this.busy > 0);
  }

  /** Where the graph on screen is: {values, at, mode, page: what savePlace() adds}. */
  place() {
    return { values: this.whatIf.committedWire(), at: this.state ? this.state.pos : null,
      mode: this.playback.mode, page: this.savePlace() };
  }

  /**
   * Load `ref`; on failure the previous graph stays. `place`: where to resume (a link's);
   * `resume`: resume where this ref was left, if it was. Resolves true when loaded and traced,
   * false when a later load took its place.
   */
  async load(ref, { meta = {}, place = null, resume = false } = {}) {
    this._busy(1);
    try {
      return await this._load(ref, { meta, place, resume });
    } finally {
      this._busy(-1);
    }
  }

  async _load(ref, { meta, place, resume }) {
    let graph;
    try {
      graph = await this.session.load(ref);
    } catch (error) {
      if (error.message === 'superseded') return false; // a later load is on its way
      this.notify(error, { context: 'load', ref, meta });
      throw error;
    }
    if (this.graph && this.state) this._keepPlace(this.graph.ref);
    const resumed = place || (resume ? this.places.get(this.session.ref) : null) || null;
    this.graph = graph;
    this.state = null;
    this.flagged = new Set();
    this.gradScale = gradientColor(1); // this graph's, once it is traced
    this.playback.detach();
    this.whatIf.setGraph(graph);
    if (resumed) this.whatIf.setWire(resumed.values);
    this.gradCheck.clear();
    // A big graph's setup is a few tasks, not one (issue 18: none over 50 ms): building it, then
    // showing its name and source, then its view.
    await nextTask();
    if (graph !== this.graph) return false;
    this.onGraph(graph, { ...this.session.meta, ...meta, ref: this.session.ref });
    if (resumed && resumed.mode) this.playback.setMode(resumed.mode);
    await prepareGroupIndex(graph); // the views' blocks, which views.setGraph asks for at once
    if (graph !== this.graph) return false;
    await this.views.setGraph(graph);
    if (graph !== this.graph) return false; // another graph arrived while this one was laid out
    if (resumed && resumed.page && resumed.page.block) await this.views.expandBlock(resumed.page.block);
    invalidate();
    await this.trace({ fresh: true, at: resumed && resumed.at != null ? resumed.at : 'start' });
    if (graph === this.graph && resumed) this.restorePlace(resumed.page || {});
    return true;
  }

  _keepPlace(ref) {
    this.places.delete(ref);
    this.places.set(ref, this.place());
    while (this.places.size > KEEP_PLACES) this.places.delete(this.places.keys().next().value);
  }

  /**
   * Trace the graph with the what-if values. `fresh`: a new graph (default speed); `at`: where
   * the playhead goes, 'start', 'end' (a what-if shows its result at once) or an event count;
   * `step`: the descent step ({step, keep}) the trace follows, played as its first phase.
   * Resolves true when this trace is on screen.
   */
  async trace({ fresh = false, at = 'end', step = null } = {}) {
    if (!this.graph) return false;
    if (this.tracing) {
      // One trace at a time: the latest values wait for the current one, older ones are dropped.
      this.pendingValues = { fresh, at, step };
      return false;
    }
    this.tracing = true;
    this._busy(1);
    const graph = this.graph;
    try {
      const mode = this.playback.mode === 'forward' ? 'forward' : 'both';
      const timeline = await this.session.trace({ values: this.whatIf.wireValues(), mode, step });
      if (graph !== this.graph) return false;
      this.flagged = new Set(timeline.flagged);
      this.gradScale = gradientColor(maxAbsGradient(timeline, GRADIENT));
      this.state = new TraceState(graph, timeline);
      this.playback.attach(this.state, { fresh, atEnd: at === 'end' });
      if (Number.isInteger(at)) this.playback.seek(at);
      this.whatIf.commit();
      this.notify(null);
      if (this.gradCheck.on) this.check();
      return true;
    } catch (error) {
      if (error.message !== 'superseded' && graph === this.graph) {
        this.whatIf.revert();
        this.notify(error, { context: 'trace' });
      }
      if (error.node != null && this.onDomainError && graph === this.graph) this.onDomainError(error.node);
      return false;
    } finally {
      this.tracing = false;
      invalidate();
      if (this.pendingValues) {
        const next = this.pendingValues;
        this.pendingValues = null;
        this.trace(next);
      } else {
        const waiting = this.idle;
        this.idle = [];
        for (const resolve of waiting) resolve();
      }
      this._busy(-1);
    }
  }

  async check() {
    if (!this.graph) return;
    this.gradCheck.clear('Checking…');
    invalidate();
    try {
      const ack = ok(await this.connection.request('gradient_check',
        { graph: this.session.ref, values: this.whatIf.wireValues() }));
      this.gradCheck.show(this.graph, ack.inputs);
    } catch (error) {
      this.gradCheck.clear(`Gradient check failed: ${error.message}`);
    }
    invalidate();
  }

  /** The trace lacks back-prop (it was traced forward only) but the mode now wants it. */
  modeChanged(mode) {
    const t = this.state && this.state.timeline;
    if (t && mode !== 'forward' && t.length === t.forwardCount) this.trace({ at: 'start' });
  }
}
