// Every run of this workspace, as the server keeps them: status, steps, final test accuracy;
// a checkbox to overlay its curves, its name to focus it (the progress, the blocks and the
// confusion matrix follow the focused run), and Rename, Delete and Export CSV — runs trained
// on the command line (origin "terminal") carry a badge and can only be read. The list is
// rebuilt when runs come, go or change status; the live numbers are refreshed in place.
import { runCsvUrl } from '../shared/api.js';
import { thousands } from '../shared/numbers.js';

export class RunsList {
  /** onFocus(id), onToggle(id, on), onRename(id, name), onDelete(id). */
  constructor(ul, handlers) {
    this.ul = ul;
    this.handlers = handlers;
    this.rows = new Map(); // id → {li, facts, key}
    this.structure = '';
  }

  /** rows: [{meta, data|null, color, drawn, focus}], newest first. */
  render(rows) {
    const structure = JSON.stringify(rows.map((r) => [r.meta.id, r.meta.name, r.meta.status, originOf(r.meta), r.color,
      r.drawn, r.focus]));
    const renaming = document.activeElement && document.activeElement.classList.contains('rename')
      && this.ul.contains(document.activeElement);
    if (structure !== this.structure && !renaming) { // (a name being typed is not thrown away)
      this.structure = structure;
      this.rows.clear();
      this.ul.replaceChildren(...rows.map((r) => this._row(r)));
      if (!rows.length) {
        const empty = document.createElement('li');
        empty.className = 'empty';
        empty.textContent = 'No runs yet.';
        this.ul.append(empty);
      }
    }
    for (const r of rows) this._facts(r);
  }

  _row({ meta, color, drawn, focus }) {
    const li = document.createElement('li');
    li.className = 'run-row';
    li.dataset.run = meta.id;
    li.dataset.status = meta.status;
    li.dataset.origin = originOf(meta);
    if (focus) li.setAttribute('aria-current', 'true');
    const name = button(meta.name, `Show ${meta.name}`, () => this.handlers.onFocus(meta.id));
    name.classList.add('run-name');
    name.title = `${describe(meta.config || {})}\nShow this run: its progress, blocks and confusion matrix`;
    const facts = document.createElement('div');
    facts.className = 'run-facts';
    li.append(this._head(meta, { color, drawn, name }), facts, this._actions(li, name, meta));
    this.rows.set(meta.id, { li, facts, key: '' });
    return li;
  }

  /** Overlay checkbox, colour, name, a "terminal" badge for runs trained on the command line, status. */
  _head(meta, { color, drawn, name }) {
    const check = Object.assign(document.createElement('input'), { type: 'checkbox', checked: drawn });
    check.setAttribute('aria-label', `Overlay ${meta.name}`);
    check.addEventListener('change', () => this.handlers.onToggle(meta.id, check.checked));
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = color;
    const status = document.createElement('span');
    status.className = 'run-status';
    status.textContent = meta.status;
    const head = document.createElement('div');
    head.className = 'run-head';
    head.append(check, swatch, name);
    if (originOf(meta) === 'terminal') {
      const badge = Object.assign(document.createElement('span'), { className: 'run-origin', textContent: 'terminal',
        title: 'trained from the command line with backprop-live train' });
      head.append(badge);
    }
    head.append(status);
    return head;
  }

  /** Rename and Delete (not for terminal runs: the page may only read those), and Export CSV. */
  _actions(li, name, meta) {
    const actions = document.createElement('div');
    actions.className = 'run-actions';
    if (originOf(meta) !== 'terminal') {
      actions.append(button('Rename', `Rename ${meta.name}`, () => this._rename(li, name, meta)),
        this._deleteButton(meta));
    }
    const csv = Object.assign(document.createElement('a'), { href: runCsvUrl(meta.id), textContent: 'CSV',
      className: 'button-link' });
    csv.download = `${meta.name.replace(/[^\w.-]+/g, '_')}.csv`;
    csv.setAttribute('aria-label', `Export CSV of ${meta.name}`);
    actions.append(csv);
    return actions;
  }

  /** Delete asks once more ("Confirm delete", for 4 s) before it deletes. */
  _deleteButton(meta) {
    const remove = button('Delete', `Delete ${meta.name}`, () => {
      if (remove.dataset.confirm) {
        this.handlers.onDelete(meta.id);
        return;
      }
      remove.dataset.confirm = 'true';
      remove.textContent = 'Confirm delete';
      remove.setAttribute('aria-label', `Confirm delete ${meta.name}`);
      setTimeout(() => {
        delete remove.dataset.confirm;
        remove.textContent = 'Delete';
        remove.setAttribute('aria-label', `Delete ${meta.name}`);
      }, 4000);
    });
    return remove;
  }

  /** Steps and accuracy, from the page's copy of the run when it has one, else the list's. */
  _facts({ meta, data }) {
    const row = this.rows.get(meta.id);
    if (!row) return;
    const steps = data ? data.lastStep() : meta.steps || 0;
    const accuracy = data ? data.finalAccuracy()
      : meta.summary && meta.summary.test_accuracy != null ? meta.summary.test_accuracy : null;
    const loss = data && data.n ? data.columns.loss.data[data.n - 1] : null;
    const key = `${steps}|${accuracy}|${loss}`;
    if (key === row.key) return;
    row.key = key;
    const parts = [`${thousands(steps)} steps`];
    if (accuracy != null) parts.push(`test accuracy ${(100 * accuracy).toFixed(1)}%`);
    else if (loss != null) parts.push(`loss ${loss.toPrecision(3)}`);
    row.facts.textContent = parts.join(' · ');
    row.li.dataset.steps = String(steps);
    if (accuracy != null) row.li.dataset.testAccuracy = String(accuracy);
    else delete row.li.dataset.testAccuracy;
  }

  _rename(li, nameButton, meta) {
    const input = Object.assign(document.createElement('input'), { type: 'text', value: meta.name, className: 'rename' });
    input.setAttribute('aria-label', `New name for ${meta.name}`);
    let done = false;
    const finish = (commit) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      input.replaceWith(nameButton);
      if (commit && name && name !== meta.name) this.handlers.onRename(meta.id, name);
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') finish(true);
      else if (event.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    nameButton.replaceWith(input);
    input.focus();
    input.select();
  }
}

/** Where a run was trained: "server" (from the page) or "terminal" (`backprop-live train`, read-only
 * here); runs listed without an origin are the server's. */
function originOf(meta) {
  return meta.origin === 'terminal' ? 'terminal' : 'server';
}

/** "resnet (width 128) · adam · lr 0.003 · batch 16 · 20 epochs · seed 0". */
function describe(cfg) {
  const model = cfg.model === 'network' ? cfg.network_name || 'network spec' : `${cfg.model} (width ${cfg.width})`;
  return `${model} · ${cfg.optimizer} · lr ${cfg.lr} · batch ${cfg.batch_size} · ${cfg.epochs} epochs · seed ${cfg.seed}`;
}

function button(text, label, onClick) {
  const b = Object.assign(document.createElement('button'), { type: 'button', textContent: text });
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}
