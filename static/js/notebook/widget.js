// The notebook widget (anywidget's front-end module): the page's graph views, playback,
// Inspector, what-if and gradient check, wired as main.js wires them, with the kernel in place
// of the server (kernel-connection.js) and a Descend panel. engine/notebook/widget.py is the
// Python side; `npm run build` bundles this file to static/dist/widget.js.
import { GraphSession } from '../graph/session.js';
import { GraphController } from '../graph/controller.js';
import { ViewManager } from '../graph/views.js';
import { Playback } from '../graph/playback.js';
import { Inspector } from '../graph/inspector.js';
import { GradientCheck, WhatIf } from '../graph/whatif.js';
import { drawLegend } from '../graph/legend.js';
import { describeEvent } from '../graph/caption.js';
import { setLayoutWorkerUrl } from '../graph/graph-layout.js';
import { EDGE, GRADIENT } from '../graph/timeline.js';
import { invalidate, onFrame } from '../shared/frame-loop.js';
import { thousands } from '../shared/numbers.js';
import { kernelConnection } from './kernel-connection.js';
import { buildMarkup } from './markup.js';
import { DescendPanel } from './descend-panel.js';

let workerReady = false;

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
  let destroyed = false;
  let selected = null;
  let follow = true;

  const notify = (error, { context = '' } = {}) => {
    ui.message.hidden = !error;
    if (!error) return;
    const problems = (error.problems || []).map((p) => (p.location ? `${p.location}: ${p.message}` : p.message));
    const what = context === 'trace' ? 'Could not compute' : context === 'load' ? 'Could not load' : 'Could not descend';
    ui.message.textContent = [`${what}: ${error.message}`, ...problems].join('\n');
  };
  const select = (id, { pin = false } = {}) => {
    selected = id;
    if (pin && follow) {
      follow = false;
      inspector.setFollow(false);
    }
    invalidate();
  };

  const views = new ViewManager(ui.view, ui.breadcrumb, {
    onSelect: (id) => select(id, { pin: true }),
    onChange: (entry) => {
      if (controller.state) controller.state.markAllDirty();
      lastLegend = null;
      ui.jump.hidden = entry.kind !== 'block';
      invalidate();
    },
  });
  const playback = new Playback(ui.playback, {
    onMove: () => invalidate(),
    onModeChange: (mode) => controller.modeChanged(mode),
    keyTarget: el,
  });
  const inspector = new Inspector(ui.inspector, {
    onFollow: (on) => { follow = on; invalidate(); },
    onEditInput: (id, value) => whatIf.set(id, value),
    onReceptiveField: (id) => views.receptiveField(id),
    onSelect: (id) => select(id, { pin: true }),
  });
  const whatIf = new WhatIf(ui.whatif, { onChange: () => controller.trace({ at: 'end' }) });
  const gradCheck = new GradientCheck(ui.gradcheck, {
    onToggle: (on) => (on ? controller.check() : (gradCheck.clear(), invalidate())),
  });
  const controller = new GraphController({
    onDomainError: (id) => select(id, { pin: true }),
    session, connection, views, playback, whatIf, gradCheck, notify,
    onGraph: (graph) => {
      selected = graph.outputs[0] ?? null;
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

  ui.jump.addEventListener('click', () => {
    const state = controller.state;
    const entry = views.entry;
    if (!state || !entry.ids) return;
    const t = state.timeline;
    const i = t.firstEvent(GRADIENT, new Set(entry.ids), t.forwardCount);
    if (i < 0) return;
    if (playback.mode === 'forward') playback.setMode('both');
    playback.seek(i);
  });

  let lastLegend = null;
  onFrame(() => {
    if (destroyed) return;
    const state = controller.state;
    if (state && follow && state.current >= 0) {
      const t = state.timeline;
      const i = state.current;
      selected = t.kind[i] === EDGE ? t.childOf(i) : t.node[i];
    }
    views.render(state && state.graph === controller.graph ? state : null, {
      gradScale: controller.gradScale, selected, checks: gradCheck.checks,
      flagged: controller.flagged, animateMs: 1000 / playback.eventsPerSecond, blockOverlay: null,
    });
    const grouped = views.view && views.view.kind === 'grouped';
    const legendKey = grouped ? views.view.magnitudeScale : controller.gradScale;
    if (legendKey !== lastLegend) {
      lastLegend = legendKey;
      drawLegend(ui.legend, grouped
        ? { scale: legendKey, title: 'block mean |gradient|', kind: 'sequential' }
        : { scale: legendKey, title: 'gradient ∂out/∂node', kind: 'diverging' });
    }
    const check = gradCheck.checks.has(selected)
      ? (gradCheck.lastInputs || []).find((r) => r.id === selected) : null;
    inspector.show(controller.graph, state, selected, { check });
    whatIf.showValues(state);
    const caption = describeEvent(state);
    if (ui.caption.textContent !== caption.text) ui.caption.textContent = caption.text;
    ui.caption.dataset.kind = caption.kind;
    ui.caption.dataset.index = state ? String(state.current) : '';
  });

  // The output area may lay the widget out after render(): fit the view when its size changes.
  const resize = new ResizeObserver(() => views.fit());
  resize.observe(ui.view);

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
