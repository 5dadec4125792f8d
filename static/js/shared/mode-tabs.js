// The page's modes: "Graph" (define, trace and animate a graph), "Training" (train a network and
// watch it learn, beside the same graph view) and "Playground" (issue 13: a 2-D exercise). The
// mode shows as body.training / body[data-mode] and is kept in the URL (url-state.js), so a
// reload comes back to it. A change is also announced as a "modechange" event on document, for
// the parts that do not own the tabs.
import { modeFromUrl, setMode } from './url-state.js';

export class ModeTabs {
  constructor(tabs, { onChange = () => {} } = {}) {
    this.tabs = tabs; // [role=tab] elements with data-mode
    this.onChange = onChange;
    this.mode = modeFromUrl();
    for (const tab of tabs) {
      tab.addEventListener('click', () => this.set(tab.dataset.mode));
      // The ARIA tabs pattern: arrows move to the previous / next tab (wrapping), Home / End to
      // the first / last, and the tab moved to is selected.
      tab.addEventListener('keydown', (event) => {
        const k = tabs.indexOf(tab);
        const to = { ArrowLeft: k - 1, ArrowRight: k + 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (to === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
        event.preventDefault();
        const next = tabs[(to + tabs.length) % tabs.length];
        next.focus();
        this.set(next.dataset.mode);
      });
    }
    this._show();
  }

  get training() {
    return this.mode === 'training';
  }

  set(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    setMode(mode);
    this._show();
    this.onChange(mode);
    document.dispatchEvent(new CustomEvent('modechange', { detail: mode }));
  }

  _show() {
    document.body.classList.toggle('training', this.training);
    document.body.dataset.mode = this.mode;
    for (const tab of this.tabs) {
      const on = tab.dataset.mode === this.mode;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
  }
}
