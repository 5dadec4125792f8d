// The widget's elements: the page's regions (views, Inspector, what-if, playback controls) in one
// notebook cell, plus Descend. Built here rather than in a template; names are per widget (radio
// groups, labels), as a notebook may show several.

export function buildMarkup(root) {
  // Unique in the document: each widget loads its own copy of this bundle, so a counter here
  // would restart at 1 in each (and their radio groups would merge).
  const uid = `bpl-${Math.random().toString(36).slice(2, 10)}`;
  root.classList.add('bpl-widget');
  root.tabIndex = 0; // the playback keys (space, ← →) act on the focused widget only
  root.setAttribute('role', 'region');
  root.innerHTML = `<div class="bpl-grid">
    <header class="bpl-head">
      <strong class="bpl-title"></strong>
      <span class="bpl-status" role="status">loading…</span>
    </header>
      <aside class="left" aria-label="Change the graph">
        <section class="whatif" aria-labelledby="${uid}-whatif">
          <h2 id="${uid}-whatif" class="section-title">Inputs — what if?</h2>
          <div class="inputs"></div>
        </section>
        <section class="descend" aria-labelledby="${uid}-descend">
          <h2 id="${uid}-descend" class="section-title">Descend</h2>
          <div class="descend-row">
            <label>lr <input type="number" class="lr" step="any" min="0" aria-label="Learning rate"></label>
            <button type="button" class="descend-step primary">Descend</button>
            <button type="button" class="descend-undo">Undo</button>
          </div>
          <label class="descent-keep"><input type="checkbox" class="descend-keep"> Keep old gradients (skip zero_grad)</label>
          <p class="hint">One step: each input ← input − lr × gradient; consts stay. With several outputs, their sum descends.</p>
          <div class="descent-curve" data-points="0"><span class="descent-readout" aria-live="off"></span></div>
          <div class="descend-result" aria-live="polite"></div>
        </section>
        <section class="gradcheck" aria-labelledby="${uid}-gradcheck">
          <h2 id="${uid}-gradcheck" class="section-title">Gradient check</h2>
          <label><input type="checkbox"> Finite differences in the kernel</label>
          <div class="gradcheck-result" aria-live="polite"></div>
        </section>
      </aside>
      <section class="stage" aria-label="Graph view">
        <div class="viewbar">
          <nav class="breadcrumb" aria-label="View"></nav>
          <svg class="legend"></svg>
        </div>
        <div class="view"></div>
        <button type="button" class="jump-block floating" hidden>Jump to its back-prop</button>
        <div class="message" role="alert" hidden></div>
      </section>
      <aside class="inspector" role="region" aria-label="Inspector">
        <h2 class="section-title">Inspector</h2>
        <label class="follow"><input type="checkbox" name="follow" checked> Follow the animation</label>
        <div class="inspector-body"></div>
      </aside>
    <footer class="controls" aria-label="Playback">
      <div class="buttons">
        <button type="button" class="restart" aria-label="Restart" title="Restart">Restart</button>
        <button type="button" class="step-back" aria-label="Step back" title="Step back (←)">◀</button>
        <button type="button" class="play primary" aria-label="Play" title="Play / pause (space)">Play</button>
        <button type="button" class="step-forward" aria-label="Step forward" title="Step forward (→)">▶</button>
      </div>
      <fieldset class="modes">
        <legend>Animate</legend>
        <label><input type="radio" name="${uid}-mode" value="forward"> Forward</label>
        <label><input type="radio" name="${uid}-mode" value="backward"> Back-prop</label>
        <label><input type="radio" name="${uid}-mode" value="both" checked> Both</label>
      </fieldset>
      <label class="speed">Speed
        <input type="range" class="speed-range" min="0" max="100" value="40" aria-label="Speed">
        <output class="speed-readout"></output>
      </label>
      <div class="timeline">
        <input type="range" class="scrubber" min="0" max="0" value="0" aria-label="Timeline">
        <output class="position"></output>
      </div>
      <p class="caption" aria-live="polite"></p>
    </footer></div>`;
  const $ = (selector) => root.querySelector(selector);
  return {
    root, $,
    title: $('.bpl-title'), status: $('.bpl-status'), message: $('.message'),
    whatif: $('.whatif'), gradcheck: $('.gradcheck'), descend: $('.descend'),
    view: $('.view'), breadcrumb: $('.breadcrumb'), legend: $('.legend'), jump: $('.jump-block'),
    inspector: $('.inspector'), caption: $('.caption'),
    playback: {
      play: $('.play'), stepForward: $('.step-forward'), stepBack: $('.step-back'),
      restart: $('.restart'), speed: $('.speed-range'), speedReadout: $('.speed-readout'),
      scrubber: $('.scrubber'), position: $('.position'),
      modes: Array.from(root.querySelectorAll('.modes input')),
    },
  };
}
