// The page's keyboard shortcuts: one listener on the document routes a key to the shortcut that
// wants it, unless the focused element already uses that key. The list it holds is also what the
// Keyboard help (keyboard-help.js) shows, so the help cannot drift from what the keys do.
//
// Who keeps a key — a focused element keeps every key it uses itself:
// - text fields, selects and editable text keep every key (typing, type-ahead);
// - a button keeps Space and Enter (they press it), a checkbox Space, a radio button Space and
//   the arrows (they move in its group), a slider the arrows, Home/End and Page keys, a tab
//   the arrows, Home/End, Space and Enter; a key such a control does not use (← on a button,
//   K, ?) still reaches the shortcuts, so a click on Step back followed by ← steps back again;
// - a widget that handles a key itself (the graph's arrow keys) calls preventDefault, and a
//   key already handled is never routed again.

const ARROWS = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'];
const PRESS = [' ', 'Enter'];
/** The keys each kind of control uses natively. */
const USES = {
  button: new Set(PRESS),
  checkbox: new Set([' ']),
  radio: new Set([' ', ...ARROWS]),
  slider: new Set([...ARROWS, 'Home', 'End', 'PageUp', 'PageDown']),
  tab: new Set([...PRESS, ...ARROWS, 'Home', 'End']),
  composite: new Set([...PRESS, ...ARROWS, 'Home', 'End', 'PageUp', 'PageDown', 'Escape']),
};

const TEXT_TYPES = new Set(['text', 'search', 'number', 'email', 'password', 'tel', 'url', 'date',
  'datetime-local', 'month', 'time', 'week']);

/** Focus is where typing goes: every key belongs to the field. */
export function isTextEntry(el) {
  if (!el || el.nodeType !== 1) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TEXT_TYPES.has((el.getAttribute('type') || 'text').toLowerCase());
}

/** Which kind of control `el` is (a key of USES), or null for none. */
function controlKind(el) {
  const role = el.getAttribute('role');
  if (role === 'tab') return 'tab';
  if (role === 'radio' || role === 'slider' || role === 'checkbox') return role;
  if (el.closest('[role=radiogroup], [role=listbox], [role=menu], [role=grid], [role=tree], [role=tablist]')) return 'composite';
  const tag = el.tagName;
  if (tag === 'INPUT') {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (type === 'radio' || type === 'checkbox') return type;
    if (type === 'range') return 'slider';
    return 'button'; // file, submit, reset, button, color
  }
  if (tag === 'BUTTON' || tag === 'SUMMARY' || (tag === 'A' && el.hasAttribute('href'))) return 'button';
  if (role === 'button' || role === 'link' || role === 'switch') return 'button';
  return null;
}

/** Whether the focused element `el` uses `key` itself: then no shortcut may take it. */
export function usesKey(el, key) {
  if (!el || el.nodeType !== 1) return false;
  if (isTextEntry(el)) return true;
  const kind = controlKind(el);
  return kind !== null && USES[kind].has(key);
}

/** "Shift+?" style name of a key for the help list. */
export function keyName(key) {
  const names = { ' ': 'Space', ArrowLeft: '←', ArrowRight: '→', ArrowUp: '↑', ArrowDown: '↓', Escape: 'Esc' };
  return names[key] ?? (key.length === 1 ? key.toUpperCase() : key);
}

export class Shortcuts {
  constructor(root = document) {
    this.list = []; // {keys, label, group, when, run}
    root.addEventListener('keydown', (event) => this.route(event));
  }

  /**
   * `keys`: event.key values (letters match either case); `run(event)`; `when()` (optional):
   * whether it applies now (say, only on the Graph tab); `group`: its heading in the help.
   * A shortcut without `run` only documents a key a widget handles itself.
   */
  add(...shortcuts) {
    for (const s of shortcuts) this.list.push({ group: 'Anywhere', when: () => true, ...s });
    return this;
  }

  /** The shortcut `event` fires, or null. */
  match(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return null;
    const target = event.target;
    if (usesKey(target, event.key)) return null;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    return this.list.find((s) => s.run && s.keys.some((k) => (k.length === 1 ? k.toLowerCase() : k) === key)
      && s.when()) ?? null;
  }

  route(event) {
    const shortcut = this.match(event);
    if (!shortcut) return;
    event.preventDefault();
    shortcut.run(event);
  }

  /** [{group, items: [{keys: ['Space', 'K'], label}]}] in the order they were added. */
  groups() {
    const groups = new Map();
    for (const s of this.list) {
      if (!groups.has(s.group)) groups.set(s.group, []);
      groups.get(s.group).push({ keys: s.keys.map(keyName), label: s.label });
    }
    return Array.from(groups, ([group, items]) => ({ group, items }));
  }
}
