// The notebook widget (anywidget's front-end module): the page's graph views, playback,
// Inspector, what-if and gradient check, wired as main.js wires them, with the kernel in place
// of the server (kernel-connection.js) and a Descend panel. Each frame is drawn by the page's own
// graph-frame.js, so the widget and the page cannot drift apart. engine/notebook/widget.py is the
// Python side; `npm run build` bundles this file to static/dist/widget.js.
import { GraphSession } from '../graph/session.js';
import { GraphController } from '../graph/controller.js';
import { ViewManager } from '../graph/views.js';
import { Playback } from '../graph/playback.js';
import { Inspector } from '../graph/inspector.js';
import { GradientCheck, WhatIf } from '../graph/whatif.js';
import { Banner, problemLines } from '../graph/banner.js';
import { graphFrame } from '../graph/graph-frame.js';
import { PhaseMark } from '../graph/phase-mark.js';
import { setLayoutWorkerUrl } from '../graph/graph-layout.js';
import { invalidate, onFrame } from '../shared/frame-loop.js';
import { Shortcuts } from '../shared/keyboard.js';
import { thousands } from '../shared/numbers.js';
import { kernelConnection } from './kernel-connection.js';
import { buildMarkup } from './markup.js';
import { DescendPanel } from './descend-panel.js';
import { NodeSelection } from '../graph/node-selection.js';

let workerReady = false;

const FAILED = { trace: 'Could not compute', load: 'Could not load', descend: 'Could not descend' };

function render({ model, el }) {
  if (!workerReady) {
    const source = model.get('_worker');
    if (source) setLayoutWorkerUrl(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    workerReady = true;
  }
  const ui = buildMarkup(el);
  el.style.setProperty('--bpl-height', `${model.get('height')}px`);
  ui.title.textContent = model.get('title');
  const connection = kernelConnection(model);
  const session = new GraphSession(connection);
  const banner = new Banner(ui.message);
  let destroyed = false;

  const notify = (error, { context = '' } = {}) => {
    if (!error) banner.clear();
    else banner.show([`${FAILED[context] || FAILED.descend}: ${error.message}`, ...problemLines(error)]);
  };

  const views = new ViewManager(ui.view, ui.breadcrumb, {
    onSelect: (id) => selection.select(id, { pin: true }),
    onChange: (entry) => {
      if (controller.state) controller.state.markAllDirty();
      ui.jump.hidden = entry.kind !== 'block';
      invalidate();
    },
  });
  const playback = new Playback(ui.playback, {
    onMove: () => invalidate(),
    onModeChange: (mode) => controller.modeChanged(mode),
  });
  const inspector = new Inspector(ui.inspector, {
    onFollow: (on) => selection.setFollow(on),
    onEditInput: (id, value) => whatIf.set(id, value),
    onReceptiveField: (id) => views.receptiveField(id),
    onSelect: (id) => selection.select(id, { pin: true }),
  });
  const selection = new NodeSelection(inspector);
  const whatIf = new WhatIf(ui.whatif, { onChange: () => controller.trace({ at: 'end' }) });
  const gradCheck = new GradientCheck(ui.gradcheck, {
    onToggle: (on) => (on ? controller.check() : (gradCheck.clear(), invalidate())),
  });
  const controller = new GraphController({
    onDomainError: (id) => selection.select(id, { pin: true }),
    session, connection, views, playback, whatIf, gradCheck, notify,
    onGraph: (graph) => {
      selection.selected = graph.outputs[0] ?? null;
      ui.title.textContent = `${model.get('title')} · ${thousands(graph.n)} nodes`;
      el.dataset.nodes = String(graph.n);
      descend.setGraph(graph);
    },
  });
  const descend = new DescendPanel(ui.descend, {
    connection, whatIf, lr: model.get('lr'),
    onStepped: async (at) => {
      await controller.trace({ at });
      if (at === 'start') playback.play();
    },
    onError: (error) => notify(error, { context: 'descend' }),
    onLearningRate: (lr) => {
      model.set('lr', lr);
      model.save_changes();
    },
  });

  const onLearningRate = () => descend.setLearningRate(model.get('lr'));
  model.on('change:lr', onLearningRate);

  ui.jump.addEventListener('click', () => playback.seekToGradient(views.entry.ids));

  // The keys act on this widget only, while the focus is in it: never on JupyterLab's cells or
  // another widget (the router listens on the widget's element, not the document).
  new Shortcuts(el).add(...playback.shortcuts(), ...views.shortcuts());

  const phaseMark = new PhaseMark(ui.playback.scrubber, { id: null });
  const drawGraph = graphFrame({ page: selection, controller, views, playback, inspector, whatIf, gradCheck,
    legend: ui.legend, caption: ui.caption, phaseMark });
  onFrame((now) => {
    if (!destroyed && drawGraph(now)) invalidate();
  });

  // The output area may lay the widget out after render(), and JupyterLab's side panels (or
  // its hiding of cells out of view) change its width: fit the view when its size changes, and
  // place the phase mark by the scrubber's new width in this frame rather than the next.
  const resize = new ResizeObserver((entries) => {
    if (entries.some((e) => e.target === ui.view)) views.fit();
    const state = controller.state;
    phaseMark.update(state && state.graph === controller.graph ? state : null);
  });
  resize.observe(ui.view);
  resize.observe(ui.playback.scrubber);

  ui.status.textContent = 'computing in the kernel…';
  controller.load('kernel').then(() => {
    ui.status.textContent = 'engine: this kernel';
    el.dataset.ready = 'true';
  }, (error) => {
    ui.status.textContent = 'failed';
    el.dataset.ready = 'failed';
    notify(error, { context: 'load' });
  });

  return () => {
    destroyed = true;
    model.off('change:lr', onLearningRate);
    playback.pause();
    resize.disconnect();
    connection.close();
    if (views.view) views.view.destroy();
  };
}

export default { render };
