// A training run someone shared by link (`/?shared=TOKEN`, docs/api.md): shown read-only on the
// Training tab. The server answers GET /api/shared/<token> with the run and a page of its
// records ({kind: "run", id, name, config, status, …, metrics, next_after}); a visitor may not
// watch another workspace's run over Socket.IO, so a run still going is asked again every
// POLL_MS for the records that came since. No DOM here: training-page.js shows what it reads.
import { getSharedPage } from '../shared/api.js';
import { FINAL } from './run-data.js';

const POLL_MS = 2000;

/** Is this answer of GET /api/shared/<token> a run's? */
export const isSharedRun = (answer) => !!answer && answer.kind === 'run';

/** The run behind `token` and every record after `after`, read page by page: {meta, records},
 * or null when nothing is shared by it (never shared, or revoked). `first`: a page already read. */
export async function readSharedRun(token, after = 0, first = null) {
  let page = first || await getSharedPage(token, after);
  if (!isSharedRun(page)) return null;
  const records = [...page.metrics];
  const meta = { ...page };
  for (const key of ['metrics', 'next_after', 'kind']) delete meta[key];
  while (page.next_after != null) {
    page = await getSharedPage(token, page.next_after);
    if (!isSharedRun(page)) return null;
    records.push(...page.metrics);
    Object.assign(meta, { status: page.status, summary: page.summary, steps: page.steps });
  }
  return { meta, records };
}

/**
 * Keeps a shared run that is still training up to date: every POLL_MS, the records after
 * lastSeq(); onRun({meta, records}) with what came, onGone() when the link stopped working.
 * Stops by itself once the run has ended.
 */
export class SharedRunPoller {
  constructor(token, { lastSeq, onRun, onGone }) {
    Object.assign(this, { token, lastSeq, onRun, onGone });
    this.timer = null;
  }

  start(status) {
    if (FINAL.has(status) || this.timer) return;
    this.timer = setInterval(() => this._poll(), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async _poll() {
    if (this.busy) return;
    this.busy = true;
    try {
      const run = await readSharedRun(this.token, this.lastSeq());
      if (!run) {
        this.stop();
        this.onGone();
        return;
      }
      this.onRun(run);
      if (FINAL.has(run.meta.status)) this.stop();
    } catch {
      // the server did not answer this time: ask again at the next tick
    } finally {
      this.busy = false;
    }
  }
}
