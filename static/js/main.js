// Wiring: builds each part of the page and connects them. Each part lives in its own module;
// this file only says who tells whom. Training mode (part 2) is wired in training-page.js; its
// panels sit beside #graph-panel, whose grouped view then shows the run's gradient health.
// What the Graph tab shows is kept in one place (graph/page-state.js) and drawn each frame from
// the controller's state (graph/graph-frame.js).
import { connect } from './shared/socket.js';
import { GraphSession } from './graph/session.js';
import { GraphController } from './graph/controller.js';
import { ViewManager } from './graph/views.js';
import { Playback } from './graph/playback.js';
import { Inspector } from './graph/inspector.js';
import { ExpressionEditor } from './graph/editor.js';
import { LoadNotes } from './graph/load-notes.js';
import { GradientCheck, WhatIf } from './graph/whatif.js';
import { ShareLink } from './graph/share-link.js';
import { Banner } from './graph/banner.js';
import { GraphPage } from './graph/page-state.js';
import { graphFrame } from './graph/graph-frame.js';
import { PhaseMark } from './graph/phase-mark.js';
import { exportPng, exportSvg } from './shared/export.js';
import { listExamples } from './shared/api.js';
import { invalidate, onFrame } from './shared/frame-loop.js';
import { createTraining } from './training/training-page.js';
import { Shortcuts } from './shared/keyboard.js';
import { KeyboardHelp } from './shared/keyboard-help.js';
import { initDisplayControls } from './shared/theme.js';
import { initPanelToggles } from './shared/panels.js';
import { Descent } from './graph/descent.js';
import { DescentCurve } from './graph/descent-curve.js';
import { learningRateFromUrl, setLearningRate } from './shared/url-state.js';
import { createPlayground } from './playground/playground-page.js'; // issue 13

const $ = (selector) => document.querySelector(selector);

// Theme and projector first: the views read their colours when they draw.
initDisplayControls({ theme: $('#theme'), projector: $('#projector') }, {
  onTheme: () => { drawGraph.redrawLegend(); views.redraw(); },
  onProjector: () => { drawGraph.redrawLegend(); views.relayout(); },
});
initPanelToggles(document.querySelectorAll('.panel-toggle'), { onToggle: () => views.fit() });

const connectionBadge = $('#connection');
const connection = connect({
  onStatus: (status) => {
    connectionBadge.dataset.state = status;
    connectionBadge.textContent = status;
  },
});
const session = new GraphSession(connection);

// In an expanded block: jump to where back-prop reaches it.
const jumpButton = $('#jump-block');
jumpButton.addEventListener('click', () => playback.seekToGradient(views.entry.ids));

const views = new ViewManager($('#view'), $('#breadcrumb'), {
  onSelect: (id) => page.select(id, { pin: true }),
  onChange: (entry) => {
    if (controller.state) controller.state.markAllDirty();
    jumpButton.hidden = entry.kind !== 'block';
    invalidate();
  },
});
const playback = new Playback({
  play: $('#play'), stepForward: $('#step-forward'), stepBack: $('#step-back'),
  restart: $('#restart'), speed: $('#speed'), speedReadout: $('#speed-readout'),
  scrubber: $('#scrubber'), position: $('#position'),
  modes: Array.from(document.querySelectorAll('input[name=mode]')),
}, {
  onMove: () => invalidate(),
  onModeChange: (mode) => controller.modeChanged(mode),
});
const inspector = new Inspector($('#inspector'), {
  onFollow: (on) => page.setFollow(on),
  onEditInput: (id, value) => whatIf.set(id, value),
  onReceptiveField: (id) => views.receptiveField(id),
  onSelect: (id) => page.select(id, { pin: true }),
});
const whatIf = new WhatIf($('#whatif'), { onChange: () => controller.trace({ at: 'end' }) });
const gradCheck = new GradientCheck($('#gradcheck'), {
  onToggle: (on) => (on ? controller.check() : (gradCheck.clear(), invalidate())),
});
const editor = new ExpressionEditor($('#editor'), { onLoad: (text, format) => page.loadExpression(text, format) });
const banner = new Banner($('#message'));
const shareLink = new ShareLink({
  share: $('#share'), field: $('#share-link'), unshare: $('#unshare'), status: $('#share-status'),
}, { notify: (error) => page.notify(error) });

const page = new GraphPage({
  editor, banner, inspector, shareLink, title: $('#graph-title'), menu: $('#graph-select'),
  notes: new LoadNotes($('#load-notes')),
  sharedBar: { root: $('#shared-bar'), copy: $('#edit-copy') },
});
const controller = new GraphController({
  onDomainError: (id) => page.select(id, { pin: true }),
  session, connection, views, playback, whatIf, gradCheck,
  notify: (error, context) => page.notify(error, context),
  onGraph: (graph, meta) => { page.graphShown(graph, meta); descent.setGraph(graph); },
  onBusy: (busy) => page.setControllerBusy(busy),
  savePlace: () => page.savePlace(),
  restorePlace: (place) => page.restorePlace(place),
});
// -- descent (issue 12): Descend, ×10, Auto, Undo, the zero_grad toggle, the objective curve ----
const descent = new Descent({
  root: $('#descent'), lr: $('#lr'), step: $('#descend'), ten: $('#descend-10'), auto: $('#descend-auto'),
  undo: $('#descend-undo'), keep: $('#keep-gradients'), minChange: $('#descend-min-change'),
  maxSteps: $('#descend-max-steps'), objective: $('#descent-objective'), message: $('#descent-message'),
  result: $('#descent-result'),
}, { connection, session, controller, whatIf, playback, curve: new DescentCurve($('#descent-curve')),
  onLearningRate: setLearningRate, onNode: (id) => page.select(id, { pin: true }) });
if (learningRateFromUrl()) descent.setLearningRate(learningRateFromUrl());

// Before the drawing below registers, so that each frame shows the training state of that frame.
const training = createTraining({ connection, controller, session });
page.attach({ controller, training });

// -- issue 13: the Playground tab ----------------------------------------------------------------
const playground = createPlayground({
  boundary: $('#pg-boundary'), network: $('#pg-network'), losses: $('#pg-losses'), readout: $('#pg-readout'),
  message: $('#pg-message'), play: $('#pg-play'), pause: $('#pg-pause'), step: $('#pg-step'), reset: $('#pg-reset'),
  showTest: $('#pg-show-test'), discrete: $('#pg-discrete'), csv: $('#pg-csv'), clear: $('#pg-clear'),
  controls: {
    problem: $('#pg-problem'), dataset: $('#pg-dataset'), noise: $('#pg-noise'), ratio: $('#pg-ratio'), seed: $('#pg-seed'),
    features: $('#pg-features'), addLayer: $('#pg-add-layer'), removeLayer: $('#pg-remove-layer'), layers: $('#pg-layers'),
    activation: $('#pg-activation'), regularization: $('#pg-regularization'), reg_rate: $('#pg-reg-rate'), lr: $('#pg-lr'),
    batch_size: $('#pg-batch'), init_seed: $('#pg-init'), regenerate: $('#pg-regenerate'),
  },
}, { connection, openGraph: (ref) => { $('#tab-graph').click(); page.loadRef(ref); } });

// -- loading -------------------------------------------------------------------------------------
$('#graph-select').addEventListener('change', (event) => {
  if (event.target.value) page.loadRef(event.target.value);
});
$('#graph-file').addEventListener('change', (event) => {
  const file = event.target.files[0];
  if (file) page.loadFile(file);
  event.target.value = '';
});
const stage = $('#graph-panel');
stage.addEventListener('dragover', (event) => {
  event.preventDefault();
  stage.classList.add('dropping');
});
stage.addEventListener('dragleave', () => stage.classList.remove('dropping'));
stage.addEventListener('drop', (event) => {
  event.preventDefault();
  stage.classList.remove('dropping');
  const file = event.dataTransfer.files[0];
  if (file) page.loadFile(file);
});

$('#export-svg').addEventListener('click', () => views.view && exportSvg(views.view));
$('#export-png').addEventListener('click', () => views.view && exportPng(views.view));
$('#share').addEventListener('click', () => shareLink.open(session.ref || '', { ...controller.place(), lr: descent.learningRateForLink() }));

// -- keyboard: the playback and graph shortcuts on the Graph tab, and the help that lists them --
const shortcuts = new Shortcuts();
const onGraphTab = () => !training.active && !playground.active;
shortcuts.add(...playback.shortcuts({ when: onGraphTab, group: 'Playback (Graph tab)' }),
  ...views.shortcuts({ when: onGraphTab }), ...descent.shortcuts({ when: onGraphTab }));
new KeyboardHelp($('#keyboard-help'), shortcuts);

// -- drawing, once per frame ---------------------------------------------------------------------
const drawGraph = graphFrame({ page, controller, views, playback, inspector, whatIf, gradCheck, training, descent,
  legend: $('#legend'), caption: $('#caption'), phaseMark: new PhaseMark($('#scrubber')) });
onFrame((now) => {
  if (drawGraph(now)) invalidate();
});
// A new width moves the phase mark with the scrubber: draw a frame.
window.addEventListener('resize', () => { views.fit(); invalidate(); });

// -- start ---------------------------------------------------------------------------------------
async function fillExamples() {
  const select = $('#graph-select');
  const option = (value, text) => Object.assign(document.createElement('option'), { value, textContent: text });
  select.replaceChildren(option('', '— choose —'));
  try {
    const { examples, models } = await listExamples();
    const ex = document.createElement('optgroup');
    ex.label = 'Examples';
    ex.append(...examples.map((e) => option(e.ref, `${e.name} (${e.file})`)));
    const mo = document.createElement('optgroup');
    mo.label = 'Models';
    mo.append(...models.map((m) => option(m.ref, m.title || m.name)));
    select.append(ex, mo);
  } catch (error) {
    page.notify(error);
  }
}

async function start() {
  const examples = fillExamples();
  await training.takeSharedLink(); // a ?shared= link to a training run opens it on the Training tab
  await page.start();
  await examples;
  const option = Array.from($('#graph-select').options).find((o) => o.value === session.ref);
  $('#graph-select').value = option ? session.ref : '';
  document.body.dataset.ready = 'true';
  await training.start();
}
start();
