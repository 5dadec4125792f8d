// The graph page's flow: load a graph (keeping the previous one if loading fails), trace it, hand
// the trace to playback, trace again on what-if, gradient-check when asked. Views, inspector and
// controls are told what changed; they draw once per animation frame (frame-loop.js).
import { TraceState } from './trace-state.js';
import { GRADIENT } from './timeline.js';
import { gradientColor, maxAbsGradient } from '../shared/colors.js';
import { ok } from '../shared/socket.js';
import { invalidate } from '../shared/frame-loop.js';

export class GraphController {
  constructor({ session, connection, views, playback, whatIf, gradCheck, notify, onGraph,
    onDomainError = null }) {
    Object.assign(this, { session, connection, views, playback, whatIf, gradCheck, notify, onGraph,
      onDomainError });
    this.graph = null;
    this.state = null;
    this.gradScale = gradientColor(1);
    this.flagged = new Set();
    this.pendingValues = null;
    this.tracing = false;
  }

  /**
   * Load `ref`; on failure the previous graph stays. Resolves true when loaded and traced, false
   * when a later load took its place.
   */
  async load(ref, { meta = {} } = {}) {
    let graph;
    try {
      graph = await this.session.load(ref);
    } catch (error) {
      if (error.message === 'superseded') return false; // a later load is on its way
      this.notify(error, { context: 'load' });
      throw error;
    }
    this.graph = graph;
    this.state = null;
    this.flagged = new Set();
    this.playback.detach();
    this.whatIf.setGraph(graph);
    this.gradCheck.clear();
    this.onGraph(graph, { ...this.session.meta, ...meta, ref: this.session.ref });
    await this.views.setGraph(graph);
    if (graph !== this.graph) return false; // another graph arrived while this one was laid out
    invalidate();
    await this.trace({ fresh: true, at: 'start' });
    return true;
  }

  /**
   * Trace the graph with the what-if values. `fresh`: a new graph (default speed); `at`: where the playhead
   * goes, 'start' or 'end' (a what-if shows its result at once).
   */
  async trace({ fresh = false, at = 'end' } = {}) {
    if (!this.graph) return;
    if (this.tracing) {
      // One trace at a time: the latest values wait for the current one, older ones are dropped.
      this.pendingValues = { fresh, at };
      return;
    }
    this.tracing = true;
    const graph = this.graph;
    try {
      const mode = this.playback.mode === 'forward' ? 'forward' : 'both';
      const timeline = await this.session.trace({ values: this.whatIf.wireValues(), mode });
      if (graph !== this.graph) return;
      this.flagged = new Set(timeline.flagged);
      this.gradScale = gradientColor(maxAbsGradient(timeline, GRADIENT));
      this.state = new TraceState(graph, timeline);
      this.playback.attach(this.state, { fresh, atEnd: at === 'end' });
      this.whatIf.commit();
      this.notify(null);
      if (this.gradCheck.on) this.check();
    } catch (error) {
      if (error.message !== 'superseded') {
        this.notify(error, { context: 'trace' });
        this.whatIf.revert();
      }
      if (error.node != null && this.onDomainError) this.onDomainError(error.node);
    } finally {
      this.tracing = false;
      invalidate();
      if (this.pendingValues) {
        const next = this.pendingValues;
        this.pendingValues = null;
        this.trace(next);
      }
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
