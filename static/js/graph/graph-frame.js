// Drawing the Graph tab, once per animation frame, from the state on screen: the view, the
// legend (the current graph's scale), the Inspector, the what-if fields, the caption and the
// timeline's phase mark. Each reads the same controller state, so none can lag behind another.
// `training` is optional: the notebook widget (notebook/widget.js) has no Training tab.
import { drawLegend } from './legend.js';
import { describeEvent } from './caption.js';
import { EDGE } from './timeline.js';

export function graphFrame({ page, controller, views, playback, inspector, whatIf, gradCheck, training = null,
  descent = null, legend, caption, phaseMark }) {
  let lastLegend = null;
  let lastPanels = 0;
  const frame = (now) => {
    const state = controller.state;
    if (state && page.follow && state.current >= 0) {
      const t = state.timeline;
      const i = state.current;
      page.selected = t.kind[i] === EDGE ? t.childOf(i) : t.node[i];
    }
    const ctx = {
      gradScale: controller.gradScale,
      selected: page.selected,
      checks: gradCheck.checks,
      flagged: controller.flagged,
      animateMs: 1000 / playback.eventsPerSecond,
      blockOverlay: training ? training.overlay() : null,
    };
    views.render(state && state.graph === controller.graph ? state : null, ctx);
    const grouped = views.view && views.view.kind === 'grouped';
    const health = grouped && ctx.blockOverlay ? training.legend() : null;
    const legendKey = health ? health.scale : grouped ? views.view.magnitudeScale : controller.gradScale;
    if (legendKey !== lastLegend) {
      lastLegend = legendKey;
      drawLegend(legend, health || (grouped
        ? { scale: legendKey, title: 'block mean |gradient|', kind: 'sequential' }
        : { scale: legendKey, title: state ? 'gradient ∂out/∂node' : 'gradient (no trace yet)', kind: 'diverging' }));
    }
    phaseMark.update(state && state.graph === controller.graph ? state : null);
    if (training && training.active) return false; // the inspector, what-if and caption are hidden while training
    // Text panels change faster than anyone reads while playing fast: ten times a second is plenty.
    const fast = playback.playing && playback.eventsPerSecond > 20;
    if (fast && now - lastPanels < 100) return true; // draw again next frame
    lastPanels = now;
    const selected = page.selected;
    const check = gradCheck.checks.has(selected)
      ? (gradCheck.lastInputs || []).find((r) => r.id === selected) : null;
    const graph = controller.graph;
    const inputValue = graph && selected != null && graph.op[selected] === 'input' ? whatIf.valueOf(selected, state) : null;
    const kept = descent && inputValue !== null && state && state.timeline.kept ? descent.history.keptParts(selected) : null;
    inspector.show(graph, state && state.graph === graph ? state : null, selected, { check, inputValue, kept });
    whatIf.showValues(state && state.graph === graph ? state : null);
    const { text, kind } = describeEvent(state && state.graph === graph ? state : null);
    if (caption.textContent !== text) caption.textContent = text;
    caption.dataset.kind = kind;
    caption.dataset.index = state ? String(state.current) : '';
    return false;
  };
  /** The legend is drawn again next frame (its scale is the same, its look is not: theme,
   * projector). */
  frame.redrawLegend = () => { lastLegend = null; };
  return frame;
}
