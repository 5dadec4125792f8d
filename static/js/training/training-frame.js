// Training mode's drawing, once per animation frame: the curves every frame; the progress,
// the blocks' gradient health, the confusion matrix, the readout and the runs list at most ten
// times a second while a run streams in (faster than anyone reads), at once when a step is
// picked. Registered with frame-loop.js by training-page.js.

const TEXT_EVERY_MS = 100;
const LIST_EVERY_MS = 250;
const SLOW_CHART_MS = 6; // a chart frame this long (new axes) leaves the rest to the next one

export function trainingFrame({ registry, modes, chart, panel, health, confusion, list, note, pictures }) {
  let lastText = 0;
  let lastList = 0;
  let listDirty = true; // the list's rows changed (not just their numbers)

  function drawPanels(data) {
    panel.showRun(data);
    note.show(data);
    health.at(data, registry.focusIndex(data));
    const step = registry.picked ?? (data ? data.lastStep() : 0);
    const epoch = data ? data.epochAt(step) : null;
    confusion.show(epoch, { runName: data ? data.meta.name : '',
      waiting: data ? 'No epoch had ended by then.' : 'The test set’s confusion matrix appears after each epoch.' });
    if (pictures) pictures.show(data, epoch);
    chart.refreshReadout();
  }

  /** Draws one frame; returns false when the text was left to a later frame. */
  function draw(now) {
    if (!modes.training) return true;
    const data = registry.focused;
    const start = performance.now();
    chart.draw();
    const focus = chart.runs.get(registry.focusId);
    if (window.__trainingDrawn) window.__trainingDrawn.push([now, data ? data.id : null, focus?.drawn ?? 0]);
    const following = registry.picked == null && data && data.status === 'running';
    if (performance.now() - start > SLOW_CHART_MS || (following && now - lastText < TEXT_EVERY_MS)) return false;
    lastText = now;
    drawPanels(data);
    if (listDirty || now - lastList > LIST_EVERY_MS) {
      listDirty = false;
      lastList = now;
      list.render(registry.listRows());
      return true;
    }
    // The list's numbers may have changed since it was drawn: a later frame draws them, even
    // if no message comes to ask (the last records of a run that just stopped, say).
    return false;
  }

  return {
    draw,
    /** The runs list's rows changed: rebuild it at the next frame that draws text. */
    listChanged() {
      listDirty = true;
    },
  };
}
