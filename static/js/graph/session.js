// The graph on screen and its traces: load_graph, trace_graph and the frames of each trace,
// gathered into a Timeline (timeline.js).
//
// Frames are kept by trace token as they arrive, whether they come before trace_graph's
// acknowledgement (which names the trace) or after it; `trace_start` tells which traces are
// streaming, so a new trace cancels those still in flight and their frames are dropped.
import { buildGraphInSteps } from './graph-model.js';
import { Timeline } from './timeline.js';
import { ok } from '../shared/socket.js';
import { sliceTimer } from '../shared/yield.js';

const KEEP_TRACES = 6; // traces whose frames are kept while waiting for their acknowledgement

export class GraphSession {
  constructor(connection) {
    this.connection = connection;
    this.graph = null;
    this.ref = null;
    this.meta = null;
    this.traces = new Map(); // trace token → {frames: [], done: message|null, job: {...}|null}
    this.streaming = new Set(); // traces between trace_start and trace_done
    this.generation = 0;
    this.loads = 0; // load() calls so far: only the latest one's graph is taken
    connection.on('trace_start', (message) => {
      this.streaming.add(message.trace);
      this._entry(message.trace).start = message;
    });
    connection.on('trace', (frame) => this._frame(frame));
    connection.on('trace_done', (message) => this._done(message));
  }

  /**
   * Load a graph reference; resolves with the built graph (graph-model.js). Rejects with
   * 'superseded' if another load began meanwhile: the latest one asked for wins, not the slowest.
   */
  async load(ref) {
    const generation = ++this.loads;
    performance.mark('load_graph:sent');
    const ack = ok(await this.connection.request('load_graph', { graph: ref }));
    if (generation !== this.loads) throw new Error('superseded');
    performance.mark('load_graph:ack');
    const info = ack.graph;
    // The ack's decoding was one task; building the graph is a few more.
    const graph = await buildGraphInSteps(info.description, info.ref || ref);
    if (generation !== this.loads) throw new Error('superseded');
    performance.mark('load_graph:built');
    this.cancelStreaming();
    this.graph = graph;
    this.ref = info.ref || ref;
    this.meta = { name: info.name, format: info.format, notes: info.notes || [] };
    return graph;
  }

  /**
   * Trace the current graph with `values` ({name or id: number}); resolves with the complete
   * Timeline. Rejects with a ServerError (e.g. a DomainError's message) or 'superseded'.
   * `step`: a descent step ({step, keep}) whose update phase the timeline begins with.
   */
  async trace({ values = {}, mode = 'both', step = null } = {}) {
    const graph = this.graph;
    const ref = this.ref;
    const generation = ++this.generation;
    this.cancelStreaming();
    const ack = ok(await this.connection.request('trace_graph', { graph: ref, mode, values }));
    if (generation !== this.generation || graph !== this.graph) {
      this.traces.delete(ack.trace);
      throw new Error('superseded');
    }
    const entry = this._entry(ack.trace);
    const timeline = new Timeline(graph, ack.trace);
    if (step) timeline.addUpdate(step.step, { keep: step.keep });
    return new Promise((resolve, reject) => {
      entry.job = { timeline, resolve, reject };
      this._catchUp(ack.trace, entry);
    });
  }

  /**
   * The frames that came before the acknowledgement, into the timeline in slices of the event
   * loop (a big graph's early frames took 50–130 ms at once); frames arriving meanwhile queue
   * behind them, in order. The timeline is handed over only once every frame is in.
   */
  async _catchUp(trace, entry) {
    entry.catchingUp = true;
    const timer = sliceTimer();
    try {
      while (entry.frames.length) {
        const frames = entry.frames;
        entry.frames = [];
        for (let k = 0; k < frames.length; k++) {
          if (timer.due()) {
            entry.frames = frames.slice(k).concat(entry.frames);
            await timer.yield();
            if (this.traces.get(trace) !== entry) return; // cancelled, or another trace began
            break;
          }
          entry.job.timeline.addFrame(frames[k]);
        }
      }
    } catch (error) {
      this.traces.delete(trace);
      entry.job.reject(error);
      return;
    } finally {
      entry.catchingUp = false;
    }
    if (entry.done) this._finish(trace, entry);
  }

  /** Ask the server to stop the frames of every trace still streaming. */
  cancelStreaming() {
    for (const trace of this.streaming) {
      this.connection.request('cancel_trace', { trace }, 10000).catch(() => {});
      const entry = this.traces.get(trace);
      if (entry && entry.job) entry.job.reject(new Error('superseded'));
      this.traces.delete(trace);
    }
    this.streaming.clear();
  }

  _entry(trace) {
    let entry = this.traces.get(trace);
    if (!entry) {
      entry = { frames: [], done: null, job: null, start: null, catchingUp: false };
      this.traces.set(trace, entry);
      if (this.traces.size > KEEP_TRACES) {
        for (const [key, value] of this.traces) {
          if (!value.job) {
            this.traces.delete(key);
            break;
          }
        }
      }
    }
    return entry;
  }

  _frame(frame) {
    const entry = this._entry(frame.trace);
    if (!entry.job || entry.catchingUp) {
      entry.frames.push(frame);
      return;
    }
    try {
      entry.job.timeline.addFrame(frame);
    } catch (error) {
      this.traces.delete(frame.trace);
      entry.job.reject(error);
    }
  }

  _done(message) {
    this.streaming.delete(message.trace);
    const entry = this._entry(message.trace);
    entry.done = message;
    if (entry.job && !entry.catchingUp) this._finish(message.trace, entry);
  }

  _finish(trace, entry) {
    this.traces.delete(trace);
    entry.job.timeline.finish(entry.done);
    entry.job.resolve(entry.job.timeline);
  }
}
