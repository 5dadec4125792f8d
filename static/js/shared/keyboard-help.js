// The "Keyboard" help: a modal dialog listing every shortcut the router (keyboard.js) holds,
// opened by its button or `?`, closed by Escape, its Close button or `?` again; the focus goes
// back where it was. A native <dialog>: the browser keeps the focus inside while it is open.

export class KeyboardHelp {
  constructor(button, shortcuts) {
    this.button = button;
    this.shortcuts = shortcuts;
    this.returnTo = null;
    const dialog = document.createElement('dialog');
    dialog.className = 'keyboard-help';
    dialog.id = 'keyboard-help-dialog';
    dialog.setAttribute('aria-labelledby', 'keyboard-help-title');
    const head = document.createElement('div');
    head.className = 'keyboard-help-head';
    const title = Object.assign(document.createElement('h2'), { id: 'keyboard-help-title', textContent: 'Keyboard' });
    this.closeButton = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Close' });
    this.closeButton.addEventListener('click', () => this.close());
    head.append(title, this.closeButton);
    this.body = document.createElement('div');
    const note = Object.assign(document.createElement('p'), {
      className: 'hint',
      textContent: 'Tab moves between controls; the graph is one stop. Shortcuts wait while you type in '
        + 'a field or choose in a menu, and a focused control keeps its own keys: Space and Enter '
        + 'press a button, the arrows move a radio button or a slider.',
    });
    dialog.append(head, this.body, note);
    dialog.addEventListener('close', () => this._restoreFocus());
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener('click', (event) => { if (event.target === dialog) this.close(); });
    document.body.append(dialog);
    this.dialog = dialog;
    button.setAttribute('aria-haspopup', 'dialog');
    button.setAttribute('aria-controls', dialog.id);
    button.addEventListener('click', () => this.open());
    shortcuts.add({ keys: ['?'], label: 'Show or hide this help', group: 'Anywhere', run: () => this.toggle() });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    if (this.isOpen) return;
    this.returnTo = document.activeElement;
    this.body.replaceChildren(...this.shortcuts.groups().map(({ group, items }) => section(group, items)));
    this.dialog.showModal();
    this.closeButton.focus();
  }

  close() {
    if (this.isOpen) this.dialog.close();
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  _restoreFocus() {
    const back = this.returnTo;
    this.returnTo = null;
    if (back && back !== document.body && back.isConnected && typeof back.focus === 'function') {
      back.focus({ preventScroll: true });
    }
  }
}

function section(group, items) {
  const part = document.createElement('section');
  const heading = Object.assign(document.createElement('h3'), { textContent: group });
  const list = document.createElement('dl');
  for (const { keys, label } of items) {
    const dt = document.createElement('dt');
    keys.forEach((k, i) => {
      if (i) dt.append(' ');
      dt.append(Object.assign(document.createElement('kbd'), { textContent: k }));
    });
    list.append(dt, Object.assign(document.createElement('dd'), { textContent: label }));
  }
  part.append(heading, list);
  return part;
}
