// The inline field that edits one edge's weight in the network diagram: it opens over the edge
// (clicked, or Enter on the focused edge); Enter sends the number, Escape closes it
// unchanged. A number that is not finite is refused here with a message; the server
// checks again (PLAYGROUND_MAX_WEIGHT) and its refusal shows in the same place.
export class WeightEditor {
  constructor(root, { onCommit }) {
    this.root = root;
    this.onCommit = onCommit;
    this.form = null;
  }

  /** Opens the field for `edge` ({position, label, value}) at (x, y) of the diagram. */
  open(edge, x, y) {
    this.close();
    const form = document.createElement('form');
    form.className = 'pg-weight-editor';
    form.noValidate = true; // our own message, the same for every bad entry
    form.style.left = `${Math.max(0, x - 70)}px`;
    form.style.top = `${Math.max(0, y - 18)}px`;
    const label = document.createElement('label');
    const input = Object.assign(document.createElement('input'), {
      type: 'number', step: 'any', value: edge.value.toFixed(4), required: true,
    });
    input.setAttribute('aria-label', `Edge weight ${edge.label}`);
    const text = document.createElement('span');
    text.textContent = `Weight ${edge.label}`;
    label.append(text, input);
    const error = document.createElement('span');
    error.className = 'pg-weight-error';
    error.setAttribute('role', 'alert');
    form.append(label, error);
    let sent = false;
    const commit = async () => {
      if (sent) return;
      const value = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(value)) {
        error.textContent = 'a weight must be a finite number';
        return;
      }
      sent = true;
      try {
        await this.onCommit(edge.position, value);
        this.close();
      } catch (problem) {
        sent = false;
        error.textContent = problem.message;
      }
    };
    form.addEventListener('submit', (event) => { event.preventDefault(); commit(); });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); this.close(); edge.returnFocus?.(); }
    });
    this.root.append(form);
    this.form = form;
    this.edge = edge;
    edge.onOpen?.();
    input.focus();
    input.select();
  }

  close() {
    this.form?.remove();
    this.form = null;
    this.edge?.onClose?.();
    this.edge = null;
  }
}
