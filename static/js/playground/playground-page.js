// The Playground tab (issue 13): wires the controls, the boundary, the diagram and the loss
// curves to the server's exercise (docs/protocol.md, "The Playground"). Every change of the
// config starts a new exercise (paused at epoch 0) and is written to the URL; Play / Pause /
// Step / Reset drive it. Nothing trains in the browser.
import { ok } from '../shared/socket.js';
import { modeFromUrl, playgroundFromUrl, setPlayground } from '../shared/url-state.js';
import { BoundaryView } from './boundary-view.js';
import { Controls } from './controls.js';
import { LossView } from './loss-view.js';
import { NetworkView } from './network-view.js';
import { configFromParams, paramsOf, problemOf } from './playground-config.js';

export function createPlayground(el, { connection, openGraph }) {
  // Click a point: its own scalar graph (one forward and back-prop with the current weights)
  // opens on the Graph tab; the exercise stays, paused, for the way back.
  const boundary = new BoundaryView(el.boundary, {
    onPoint: async (index) => {
      el.boundary.dataset.sample = String(index);
      try {
        if (playing) el.pause.click();
        const { ref } = ok(await connection.request('playground_sample', { index }));
        openGraph(ref);
      } catch (error) { problem(error); }
    },
    onAdd: (x, y, label) => {
      own.push(`${x.toFixed(3)},${y.toFixed(3)},${label > 0 ? 'A' : 'B'}`);
      csv = own.join('\n');
      if (own.length >= 2) restart();
      else boundary.setPoints({ xy: new Float64Array([x, y]), labels: new Float64Array([label]), count: 1, trainCount: 1, classification: true });
    },
  });
  let own = []; // points clicked in, as CSV lines
  let csv = null; // your own data (clicked or uploaded), sent with each start; not in the URL
  // An edited edge: the server sets that weight and answers with the frame it makes.
  const network = new NetworkView(el.network, {
    onEditWeight: async (position, value) => {
      await started;
      showFrame(ok(await connection.request('playground_weight', { position, value })).frame);
    },
  });
  const losses = new LossView(el.losses, el.readout);
  let config = configFromParams(playgroundFromUrl());
  let playing = false;
  let started = null; // the promise of the current exercise's start

  const showPlaying = (on) => {
    playing = on;
    el.play.hidden = on;
    el.pause.hidden = !on;
    el.step.disabled = on;
  };
  const showFrame = (frame) => {
    boundary.setFrame(frame);
    network.setFrame(frame);
    losses.add(frame);
  };
  const problem = (error) => { el.message.textContent = error.message; };

  async function start() {
    showPlaying(false);
    el.message.textContent = '';
    const ack = ok(await connection.request('playground_start', csv === null ? { config } : { config, csv }));
    const p = ack.points;
    const xy = new Float64Array(p.xy.slice(0));
    boundary.setPoints({ xy, labels: new Float64Array(p.labels.slice(0)), count: xy.length / 2,
      trainCount: p.train_count, classification: p.classification });
    network.setShape(ack.shape, { activation: config.activation, classification: problemOf(config.dataset) === 'classification' });
    losses.reset();
    showFrame(ack.frame);
  }
  const restart = () => { started = start().catch(problem); return started; };

  const controls = new Controls(el.controls, {
    onChange: (next, { generated = false }) => {
      if (generated) { own = []; csv = null; }
      config = configFromParams(paramsAsStrings(next));
      setPlayground(paramsOf(config));
      controls.show(config);
      restart();
    },
  });
  controls.show(config);

  connection.on('playground_frame', (frame) => { if (playing) showFrame(frame); });
  connection.on('playground_stopped', (why) => { showPlaying(false); el.message.textContent = why.reason; });
  el.play.addEventListener('click', async () => {
    await started;
    showPlaying(true);
    ok(await connection.request('playground_play', {}));
  });
  el.pause.addEventListener('click', async () => {
    showPlaying(false);
    el.step.disabled = true; // until the pause's own frame (the last one) is drawn
    try {
      showFrame(ok(await connection.request('playground_pause', {})).frame);
    } catch (error) { problem(error); }
    el.step.disabled = false;
  });
  el.step.addEventListener('click', async () => {
    try {
      showFrame(ok(await connection.request('playground_step', {})).frame);
    } catch (error) { problem(error); }
  });
  el.reset.addEventListener('click', () => restart());
  el.csv.addEventListener('change', async () => {
    const file = el.csv.files[0];
    el.csv.value = '';
    if (!file) return;
    const before = csv;
    csv = await file.text();
    try {
      await start();
      own = [];
    } catch (error) {
      csv = before; // a refused file changes nothing
      problem(error);
    }
  });
  el.clear.addEventListener('click', () => {
    own = [];
    csv = null;
    restart();
  });
  el.showTest.addEventListener('change', () => boundary.setOptions({ showTest: el.showTest.checked }));
  el.discrete.addEventListener('change', () => boundary.setOptions({ discrete: el.discrete.checked }));

  // The exercise starts the first time the tab is shown (and again when the socket reconnects:
  // the server ended the old one with the old connection).
  let wanted = modeFromUrl() === 'playground';
  const begin = () => { if (wanted) restart(); };
  document.addEventListener('modechange', (event) => {
    const now = event.detail === 'playground';
    if (now && !wanted) { wanted = true; begin(); }
    if (!now && playing) el.pause.click();
  });
  connection.socket.on('connect', begin);
  if (connection.socket.connected) begin();
  return { get active() { return modeFromUrl() === 'playground'; } };
}

/** A config in URL form, for configFromParams to check and clamp. */
function paramsAsStrings(config) {
  return {
    data: config.dataset, seed: String(config.seed), noise: String(Math.round(config.noise * 100)),
    ratio: String(Math.round(config.ratio * 100)), features: config.features.join(','), net: config.hidden.join(','),
    act: config.activation, reg: config.regularization, rate: String(config.reg_rate), lr: String(config.lr),
    batch: String(config.batch_size), init: String(config.init_seed),
  };
}
