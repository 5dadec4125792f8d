// Wiring: builds each part of the page and connects them. Each part lives in its own module;
// this file only says who tells whom. Training mode (part 2) is wired in training-page.js; its
// panels sit beside #graph-panel, whose grouped view then shows the run's gradient health.
import { connect } from './shared/socket.js';
import { GraphSession } from './graph/session.js';
import { GraphController } from './graph/controller.js';
import { ViewManager } from './graph/views.js';
import { Playback } from './graph/playback.js';
import { Inspector } from './graph/inspector.js';
import { ExpressionEditor } from './graph/editor.js';
import { GradientCheck, WhatIf } from './graph/whatif.js';
import { ShareLink } from './graph/share-link.js';
import { drawLegend } from './graph/legend.js';
import { describeEvent } from './graph/caption.js';
import { exportPng, exportSvg } from './shared/export.js';
import { getGraph, getShared, listExamples, uploadFile, uploadGraph } from './shared/api.js';
import { invalidate, onFrame } from './shared/frame-loop.js';
import { EDGE, GRADIENT } from './graph/timeline.js';
import { thousands } from './shared/numbers.js';
import { createTraining } from './training/training-page.js';
import { graphFromUrl, setGraph } from './shared/url-state.js';
import { initDisplayControls } from './shared/theme.js';
import { initPanelToggles } from './shared/panels.js';

const $ = (selector) => document.querySelector(selector);

// Theme and projector first: the views read their colours when they draw.
initDisplayControls({ theme: $('#theme'), projector: $('#projector') }, {
  onTheme: () => views.redraw(),
  onProjector: () => { lastLegend = null; views.relayout(); },
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

let selected = null; // node id shown in the inspector
let follow = true; // the inspector follows the event at the playhead

const message = $('#message');
// In an expanded block: jump to where back-prop reaches it.
const jumpButton = $('#jump-block');
jumpButton.addEventListener('click', () => {
  const state = controller.state;
  const entry = views.entry;
  if (!state || !entry.ids) return;
  const t = state.timeline;
  const i = t.firstEvent(GRADIENT, new Set(entry.ids), t.forwardCount);
  if (i < 0) return;
  if (playback.mode === 'forward') playback.setMode('both');
  playback.seek(i);
});
function notify(error, { context = '' } = {}) {
  if (!error) {
    message.hidden = true;
    message.textContent = '';
    return;
  }
  const problems = (error.problems || []).map((p) => (p.location ? `${p.location}: ${p.message}` : p.message));
  message.textContent = [`${context === 'trace' ? 'Could not compute' : 'Could not load'}: ${error.message}`, ...problems].join('\n');
  message.hidden = false;
}

const views = new ViewManager($('#view'), $('#breadcrumb'), {
  onSelect: (id) => select(id, { pin: true }),
  onChange: (entry) => {
    if (controller.state) controller.state.markAllDirty();
    lastLegend = null;
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
  onFollow: (on) => { follow = on; invalidate(); },
  onEditInput: (id, value) => whatIf.set(id, value),
  onReceptiveField: (id) => views.receptiveField(id),
  onSelect: (id) => select(id, { pin: true }),
});
const whatIf = new WhatIf($('#whatif'), { onChange: () => controller.trace({ at: 'end' }) });
const gradCheck = new GradientCheck($('#gradcheck'), {
  onToggle: (on) => (on ? controller.check() : (gradCheck.clear(), invalidate())),
});
const editor = new ExpressionEditor($('#editor'), { onLoad: (text) => loadExpression(text) });
const shareLink = new ShareLink({
  share: $('#share'), field: $('#share-link'), unshare: $('#unshare'), status: $('#share-status'),
}, { notify });

const controller = new GraphController({
  onDomainError: (id) => select(id, { pin: true }),
  session, connection, views, playback, whatIf, gradCheck, notify,
  onGraph: (graph, meta) => {
    selected = graph.outputs[0] ?? null;
    $('#graph-title').textContent = `${meta.name || ''} · ${thousands(graph.n)} nodes`;
    document.body.dataset.graph = meta.ref;
    document.body.dataset.nodes = String(graph.n);
    setGraph(meta.ref);
    const option = Array.from($('#graph-select').options).find((o) => o.value === meta.ref);
    $('#graph-select').value = option ? meta.ref : '';
    training.graphLoaded(meta);
    shareLink.graphLoaded(meta.ref);
  },
});
// Before the drawing below registers, so that each frame shows the training state of that frame.
const training = createTraining({ connection, controller, session });

function select(id, { pin = false } = {}) {
  selected = id;
  if (pin && follow) {
    follow = false;
    inspector.setFollow(false);
  }
  invalidate();
}

// -- loading -------------------------------------------------------------------------------------
async function loadExpression(text) {
  editor.setBusy(true);
  try {
    const uploaded = await uploadGraph(text, { format: 'expr', name: 'expression' });
    editor.showProblems([]);
    await controller.load(uploaded.ref);
  } catch (error) {
    editor.showProblems(error.problems || [], { message: error.message });
  } finally {
    editor.setBusy(false);
  }
}

async function loadFile(file) {
  try {
    const uploaded = await uploadFile(file);
    editor.showProblems([]);
    if (/\.expr$|\.txt$/i.test(file.name)) editor.text = await file.text();
    await controller.load(uploaded.ref);
  } catch (error) {
    editor.showProblems(error.problems || [], { message: `${file.name}: ${error.message}` });
  }
}

$('#graph-select').addEventListener('change', (event) => {
  if (event.target.value) controller.load(event.target.value).catch(() => {});
});
$('#graph-file').addEventListener('change', (event) => {
  const file = event.target.files[0];
  if (file) loadFile(file);
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
  if (file) loadFile(file);
});

$('#export-svg').addEventListener('click', () => views.view && exportSvg(views.view));
$('#export-png').addEventListener('click', () => views.view && exportPng(views.view));
$('#share').addEventListener('click', () => shareLink.open(session.ref || ''));

// -- drawing, once per frame ---------------------------------------------------------------------
let lastLegend = null;
let lastPanels = 0;
onFrame((now) => {
  const state = controller.state;
  if (state && follow && state.current >= 0) {
    const t = state.timeline;
    const i = state.current;
    selected = t.kind[i] === EDGE ? t.childOf(i) : t.node[i];
  }
  const ctx = {
    gradScale: controller.gradScale,
    selected,
    checks: gradCheck.checks,
    flagged: controller.flagged,
    animateMs: 1000 / playback.eventsPerSecond,
    blockOverlay: training.overlay(),
  };
  views.render(state && state.graph === controller.graph ? state : null, ctx);
  const grouped = views.view && views.view.kind === 'grouped';
  const health = grouped && ctx.blockOverlay ? training.legend() : null;
  const legendKey = health ? health.scale : grouped ? views.view.magnitudeScale : controller.gradScale;
  if (legendKey !== lastLegend) {
    lastLegend = legendKey;
    drawLegend($('#legend'), health || (grouped
      ? { scale: legendKey, title: 'block mean |gradient|', kind: 'sequential' }
      : { scale: legendKey, title: 'gradient ∂out/∂node', kind: 'diverging' }));
  }
  if (training.active) return; // the inspector, what-if and caption are hidden while training
  // Text panels change faster than anyone reads while playing fast: ten times a second is plenty.
  const fast = playback.playing && playback.eventsPerSecond > 20;
  if (fast && now - lastPanels < 100) {
    invalidate();
    return;
  }
  lastPanels = now;
  const check = gradCheck.checks.has(selected)
    ? (gradCheck.lastInputs || []).find((r) => r.id === selected) : null;
  inspector.show(controller.graph, state, selected, { check });
  whatIf.showValues(state);
  const caption = describeEvent(state);
  const captionEl = $('#caption');
  if (captionEl.textContent !== caption.text) captionEl.textContent = caption.text;
  captionEl.dataset.kind = caption.kind;
  captionEl.dataset.index = state ? String(state.current) : '';
});
window.addEventListener('resize', () => views.fit());

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
    notify(error);
  }
}

async function start() {
  const examples = fillExamples();
  const { ref, sharedId } = graphFromUrl();
  if (sharedId) {
    const row = await getShared(sharedId);
    if (row && row.format === 'expr' && row.source) editor.text = row.source;
    editor.setReadOnly(true);
    document.body.classList.add('read-only');
  } else if (!ref.includes(':')) {
    const row = await getGraph(ref);
    if (row && row.format === 'expr' && row.source) editor.text = row.source;
  }
  try {
    await controller.load(ref);
  } catch {
    // notify() has said why; the page stays usable
  }
  await examples;
  const option = Array.from($('#graph-select').options).find((o) => o.value === session.ref);
  $('#graph-select').value = option ? session.ref : '';
  document.body.dataset.ready = 'true';
  await training.start();
}
start();
