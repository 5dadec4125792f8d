// What the server draws from a run's stored weights (docs/protocol.md, "Pictures"): the test
// digits with their predictions at an epoch, both conv kernels at every epoch, one digit's feature
// maps and saliency. Answers arrive with their arrays as binary; this turns them into typed
// arrays and keeps the last few, so going back to an epoch asks nothing. No DOM here.
import { ok } from '../shared/socket.js';

const KEEP = 16; // answers kept per kind

const bytes = (x) => (x instanceof ArrayBuffer ? x : x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
const f64 = (x) => new Float64Array(bytes(x));
const f32 = (x) => new Float32Array(bytes(x));
const u8 = (x) => new Uint8Array(bytes(x));

export class PicturesClient {
  constructor(connection) {
    this.connection = connection;
    this.kept = new Map(); // key → promise of the decoded answer
  }

  _ask(key, event, payload, decode) {
    if (this.kept.has(key)) return this.kept.get(key);
    const answer = this.connection.request(event, payload, 30000).then((ack) => decode(ok(ack)));
    answer.catch(() => this.kept.delete(key)); // a failure is not kept: asking again retries
    this.kept.set(key, answer);
    if (this.kept.size > KEEP * 3) this.kept.delete(this.kept.keys().next().value);
    return answer;
  }

  /** Every test digit at `epoch`: {epoch, epochs, size, count, labels, predicted, probability,
   * pixels (count × size², 0..16)}. */
  testDigits(runId, epoch) {
    return this._ask(`digits ${runId} ${epoch}`, 'run_test_digits', { run_id: runId, epoch }, (a) => ({
      ...a, labels: u8(a.labels), predicted: u8(a.predicted), probability: f32(a.probability), pixels: u8(a.pixels) }));
  }

  /** {epochs, layers, kernels: Float64Array (epochs × layers × (9 weights + bias))}. Not kept:
   * a running run stores more epochs. */
  kernels(runId, epochCount) {
    return this._ask(`kernels ${runId} ${epochCount}`, 'run_kernels', { run_id: runId }, (a) => ({ ...a, kernels: f64(a.kernels) }));
  }

  /** The digit's whole scalar graph with the run's weights, kept on the server for the Graph
   * tab: {ref, name, loss}. */
  async digitGraph(runId, epoch, which) {
    return ok(await this.connection.request('digit_graph', { run_id: runId, epoch, ...which }, 60000));
  }

  /** One digit's maps: `which` is {digit} (a test digit's index) or {pixels, label}. */
  digitMaps(runId, epoch, which) {
    const key = which.pixels ? null : `maps ${runId} ${epoch} ${which.digit}`;
    const decode = (a) => ({ ...a, values: f64(a.values), grads: f64(a.grads), probabilities: f64(a.probabilities) });
    if (!key) {
      return this.connection.request('digit_maps', { run_id: runId, epoch, ...which }, 30000).then((ack) => decode(ok(ack)));
    }
    return this._ask(key, 'digit_maps', { run_id: runId, epoch, ...which }, decode);
  }
}
