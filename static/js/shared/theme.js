// How the page looks and moves: the colour theme (System / Light / Dark, remembered in
// localStorage; System follows prefers-color-scheme), projector mode (bigger text, thicker
// lines, more contrast; ?projector=1 in the address, url-state.js) and prefers-reduced-motion.
// Theme and projector show as attributes of <html> that app.css reads (data-theme, data-scheme,
// class "projector"); drawing code that needs colour strings (canvas, d3 fills, exports) gets
// them from colors.js, which this module fills from the CSS after every change.
import { projectorFromUrl, setProjector } from './url-state.js';
import { setThemeColors } from './colors.js';

export const THEMES = ['system', 'light', 'dark'];
const STORAGE_KEY = 'backprop-live:theme';
const root = () => document.documentElement;
const media = (query) => (typeof window.matchMedia === 'function' ? window.matchMedia(query) : null);
const darkQuery = media('(prefers-color-scheme: dark)');
const motionQuery = media('(prefers-reduced-motion: reduce)');

/** The remembered choice ('system' when none, or when storage is unavailable). */
export function storedTheme() {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return THEMES.includes(value) ? value : 'system';
  } catch {
    return 'system';
  }
}

function remember(choice) {
  try {
    if (choice === 'system') window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // private mode or storage disabled: the choice lasts for this page only
  }
}

/** 'light' or 'dark': what `choice` means now. */
export function resolvedScheme(choice = storedTheme()) {
  if (choice === 'light' || choice === 'dark') return choice;
  return darkQuery && darkQuery.matches ? 'dark' : 'light';
}

/** Should moving pulses and transitions become instant steps? */
export function reducedMotion() {
  return Boolean(motionQuery && motionQuery.matches);
}

export function projectorOn() {
  return root().classList.contains('projector');
}

/** A custom property of the page as a colour string (light-dark() resolved for the theme). */
export function cssColor(name, fallback = '#000') {
  const probe = document.createElement('span');
  probe.style.color = `var(${name}, ${fallback})`;
  probe.style.display = 'none';
  document.body.append(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value || fallback;
}

function applyTheme(choice) {
  root().dataset.theme = choice;
  root().dataset.scheme = resolvedScheme(choice);
  if (!document.body) return;
  setThemeColors({
    unreached: cssColor('--node-unreached'),
    valueOnly: cssColor('--node-value-only'),
    flagged: cssColor('--warn'),
    background: cssColor('--bg', '#fff'),
    stroke: cssColor('--node-stroke'),
    ink: cssColor('--ink'),
    panel: cssColor('--panel'),
  });
}

function applyProjector(on) {
  root().classList.toggle('projector', on);
}

/**
 * Wire the two controls: `theme` a <select> of THEMES, `projector` a toggle button
 * (aria-pressed). onTheme() after the colours changed (views redraw their fills),
 * onProjector(on) after text sizes changed (views fit again).
 */
export function initDisplayControls({ theme, projector }, { onTheme = () => {}, onProjector = () => {} } = {}) {
  let choice = storedTheme();
  applyTheme(choice);
  applyProjector(projectorFromUrl());
  if (theme) {
    theme.value = choice;
    theme.addEventListener('change', () => {
      choice = THEMES.includes(theme.value) ? theme.value : 'system';
      remember(choice);
      applyTheme(choice);
      onTheme(resolvedScheme(choice));
    });
  }
  if (darkQuery) {
    darkQuery.addEventListener('change', () => {
      if (choice !== 'system') return;
      applyTheme(choice);
      onTheme(resolvedScheme(choice));
    });
  }
  if (projector) {
    const show = () => projector.setAttribute('aria-pressed', String(projectorOn()));
    show();
    projector.addEventListener('click', () => {
      const on = !projectorOn();
      applyProjector(on);
      setProjector(on);
      show();
      onProjector(on);
    });
  }
}
