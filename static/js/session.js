// The graph on screen and its runs: load_graph, run_graph and the trace frames of each run,
// gathered into a Timeline (timeline.js).
//
// Frames are kept by run id as they arrive, whether they come before run_graph's
// acknowledgement (which names the run) or after it; `trace_start` tells which runs are
// streaming, so a new run cancels those still in flight and their frames are dropped.
import { buildGraph } from './graph-model.js';
import { Timeline } from './timeline.js';
import { ok } from './socket.js';

const KEEP_RUNS = 6; // runs whose frames are kept while waiting for their acknowledgement

export class GraphSession {
  constructor(connection) {
    this.connection = connection;
    this.graph = null;
    this.ref = null;
    this.meta = null;
    this.runs = new Map(); // run id → {frames: [], done: message|null, job: {...}|null}
    this.streaming = new Set(); // runs between trace_start and trace_done
    this.generation = 0;
    connection.on('trace_start', (message) => {
      this.streaming.add(message.run);
      this._entry(message.run).start = message;
    });
    connection.on('trace', (frame) => this._frame(frame));
    connection.on('trace_done', (message) => this._done(message));
  }

  /** Load a graph reference; resolves with the built graph (graph-model.js). */
  async load(ref) {
    performance.mark('load_graph:sent');
    const ack = ok(await this.connection.request('load_graph', { graph: ref }));
    performance.mark('load_graph:ack');
    const info = ack.graph;
    const graph = buildGraph(info.description, info.ref || ref);
    performance.mark('load_graph:built');
    this.cancelStreaming();
    this.graph = graph;
    this.ref = info.ref || ref;
    this.meta = { name: info.name, format: info.format };
    return graph;
  }

  /**
   * Run the current graph with `values` ({name or id: number}); resolves with the complete
   * Timeline. Rejects with a ServerError (e.g. a DomainError's message) or 'superseded'.
   */
  async run({ values = {}, mode = 'both' } = {}) {
    const graph = this.graph;
    const ref = this.ref;
    const generation = ++this.generation;
    this.cancelStreaming();
    const ack = ok(await this.connection.request('run_graph', { graph: ref, mode, values }));
    if (generation !== this.generation || graph !== this.graph) {
      this.runs.delete(ack.run);
      throw new Error('superseded');
    }
    const entry = this._entry(ack.run);
    const timeline = new Timeline(graph, ack.run);
    return new Promise((resolve, reject) => {
      entry.job = { timeline, resolve, reject };
      const frames = entry.frames;
      entry.frames = [];
      try {
        for (const frame of frames) timeline.addFrame(frame);
      } catch (error) {
        this.runs.delete(ack.run);
        reject(error);
        return;
      }
      if (entry.done) this._finish(ack.run, entry);
    });
  }

  /** Ask the server to stop the frames of every run still streaming. */
  cancelStreaming() {
    for (const run of this.streaming) {
      this.connection.request('cancel_run', { run }, 10000).catch(() => {});
      const entry = this.runs.get(run);
      if (entry && entry.job) entry.job.reject(new Error('superseded'));
      this.runs.delete(run);
    }
    this.streaming.clear();
  }

  _entry(run) {
    let entry = this.runs.get(run);
    if (!entry) {
      entry = { frames: [], done: null, job: null, start: null };
      this.runs.set(run, entry);
      if (this.runs.size > KEEP_RUNS) {
        for (const [key, value] of this.runs) {
          if (!value.job) {
            this.runs.delete(key);
            break;
          }
        }
      }
    }
    return entry;
  }

  _frame(frame) {
    const entry = this._entry(frame.run);
    if (!entry.job) {
      entry.frames.push(frame);
      return;
    }
    try {
      entry.job.timeline.addFrame(frame);
    } catch (error) {
      this.runs.delete(frame.run);
      entry.job.reject(error);
    }
  }

  _done(message) {
    this.streaming.delete(message.run);
    const entry = this._entry(message.run);
    entry.done = message;
    if (entry.job) this._finish(message.run, entry);
  }

  _finish(run, entry) {
    this.runs.delete(run);
    entry.job.timeline.finish(entry.done);
    entry.job.resolve(entry.job.timeline);
  }
}
