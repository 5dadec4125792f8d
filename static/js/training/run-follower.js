// Follows training runs over Socket.IO (docs/protocol.md, "Training"): watch_run {run_id, after}
// answers with run_history (every stored record after `after`), then run_metrics as steps end,
// then run_status when the run ends.
//
// Records are handed on strictly in seq order, so the page's copy is whole: a record the page
// already has is dropped (no duplicate); a record beyond the next one means something was lost,
// so the run is watched again from the last seq the page has (no gap) — the history brings what
// was missing, and later records are taken as they come. A new connection has no rooms: on
// every (re)connect each followed run is watched again from its last seq. After a reload the
// page starts from 0 and gets the stored history, then the live tail.
import { ok } from '../shared/socket.js';
import { FINAL } from './run-data.js';

export class RunFollower {
  /**
   * lastSeq(runId): the last seq the page has; onRecords(runId, records, arrival): the next
   * records, in order; onStatus(runId, status, summary|null): it ended; onLost(runId, error):
   * the server does not know it (deleted).
   */
  constructor(connection, { lastSeq, onRecords, onStatus, onLost = () => {} }) {
    Object.assign(this, { connection, lastSeq, onRecords, onStatus, onLost });
    this.followed = new Map(); // run id → {resyncing, ended: {status, summary} | null}
    this.resyncs = 0; // how many gaps were mended (tests and the bench read it)
    connection.on('run_history', (m) => this._history(m, performance.now()));
    connection.on('run_metrics', (m) => this._take(m.run_id, m.records, performance.now()));
    connection.on('run_status', (m) => this._ended(m.run_id, m.status, m.summary ?? null));
    connection.on('connect', () => {
      for (const runId of this.followed.keys()) this._watch(runId);
    });
  }

  follow(runId) {
    if (this.followed.has(runId)) return;
    this.followed.set(runId, { resyncing: true, ended: null });
    // Before the first connection, the 'connect' handler watches it.
    if (this.connection.socket.connected) this._watch(runId);
  }

  unfollow(runId) {
    if (!this.followed.delete(runId)) return;
    if (this.connection.socket.connected) {
      this.connection.request('unwatch_run', { run_id: runId }, 10000).catch(() => {});
    }
  }

  isFollowing(runId) {
    return this.followed.has(runId);
  }

  _watch(runId) {
    const entry = this.followed.get(runId);
    if (!entry) return;
    entry.resyncing = true;
    this.connection.request('watch_run', { run_id: runId, after: this.lastSeq(runId) })
      .then((ack) => {
        try {
          ok(ack);
        } catch (error) {
          this.followed.delete(runId);
          this.onLost(runId, error);
        }
      })
      .catch(() => {}); // no answer: the connection dropped, and 'connect' watches again
  }

  _history(message, arrival) {
    const entry = this.followed.get(message.run_id);
    if (!entry) return;
    entry.resyncing = false;
    this._take(message.run_id, message.records, arrival);
    if (FINAL.has(message.status)) this._ended(message.run_id, message.status, null);
    else if (entry.ended) this._ended(message.run_id, entry.ended.status, entry.ended.summary);
  }

  _take(runId, records, arrival) {
    const entry = this.followed.get(runId);
    if (!entry || !records || !records.length) return;
    let last = this.lastSeq(runId);
    const fresh = [];
    for (const record of records) {
      if (record.seq <= last) continue; // had it
      if (record.seq !== last + 1) {
        // Lost in between: ask again from what the page has; the history brings the rest.
        if (!entry.resyncing) {
          this.resyncs++;
          this._watch(runId);
        }
        break;
      }
      fresh.push(record);
      last = record.seq;
    }
    if (fresh.length) this.onRecords(runId, fresh, arrival);
  }

  _ended(runId, status, summary) {
    const entry = this.followed.get(runId);
    if (!entry) return;
    if (entry.resyncing) {
      entry.ended = { status, summary }; // after the history, which may bring the last steps
      return;
    }
    this.unfollow(runId);
    this.onStatus(runId, status, summary);
  }
}
