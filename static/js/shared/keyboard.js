// The page's keyboard shortcuts: one listener on the document routes a key to the shortcut that
// wants it, unless the focused element already uses that key. The list it holds is also what the
// Keyboard help (keyboard-help.js) shows, so the help cannot drift from what the keys do.
//
// Who keeps a key:
// - text fields, selects and editable text keep every key (typing, type-ahead);
// - buttons, radio buttons, checkboxes, sliders and tabs keep the keys they use natively
//   (Space and Enter press a button, arrows move in a radio group or a slider, …): shortcuts
//   on those keys do not fire there; letter shortcuts and `?` still do;
// - a widget that handles a key itself (the graph's arrow keys) calls preventDefault, and a
//   key already handled is never routed again.

/** Keys a focused control uses natively: shortcuts on them never fire while it has focus. */
const NATIVE_KEYS = new Set([' ', 'Enter', 'ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown',
  'Home', 'End', 'PageUp', 'PageDown', 'Escape']);

const TEXT_TYPES = new Set(['text', 'search', 'number', 'email', 'password', 'tel', 'url', 'date',
  'datetime-local', 'month', 'time', 'week', 'file']);

/** Focus is where typing goes: every key belongs to the field. */
export function isTextEntry(el) {
  if (!el || el.nodeType !== 1) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TEXT_TYPES.has((el.getAttribute('type') || 'text').toLowerCase());
}

/** Focus is on a control that uses Space, Enter, arrows, Home/End itself. */
export function isControl(el) {
  if (!el || el.nodeType !== 1) return false;
  if (isTextEntry(el)) return true;
  const tag = el.tagName;
  if (tag === 'BUTTON' || tag === 'INPUT' || tag === 'SUMMARY' || (tag === 'A' && el.hasAttribute('href'))) return true;
  const role = el.getAttribute('role');
  if (role && /^(button|link|radio|checkbox|switch|tab|slider|spinbutton|option|menuitem|combobox|textbox)$/.test(role)) return true;
  return !!el.closest('[role=radiogroup], [role=listbox], [role=menu], [role=grid], [role=tree], dialog');
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
    if (isTextEntry(target)) return null;
    if (NATIVE_KEYS.has(event.key) && isControl(target)) return null;
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
