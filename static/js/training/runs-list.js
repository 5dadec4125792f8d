// Every run of this workspace, as the server keeps them: status, steps, final test accuracy;
// a checkbox to overlay its curves, its name to focus it (the progress, the blocks and the
// confusion matrix follow the focused run), and Rename, Delete, Share (a read-only link, and
// Stop sharing to revoke it) and Export CSV — runs trained on the command line (origin
// "terminal") carry a badge and can only be read, and so can a run opened from someone's share
// link ("shared with you"). The list is rebuilt when runs come, go or change status or link;
// the live numbers are refreshed in place.
import { runCsvUrl } from '../shared/api.js';
import { absoluteLink } from '../shared/url-state.js';
import { serverPath } from '../shared/base.js';
import { thousands } from '../shared/numbers.js';
import { ADVICE, divergence } from './divergence.js';

export class RunsList {
  /** onFocus(id), onToggle(id, on), onRename(id, name), onDelete(id); onShare(id) and
   * onUnshare(id) return promises (the row says what came of them). */
  constructor(ul, handlers) {
    this.ul = ul;
    this.handlers = handlers;
    this.status = Object.assign(document.createElement('p'), { className: 'runs-status' });
    this.status.setAttribute('role', 'status');
    ul.after(this.status);
    this.selectLinkOf = null; // the run whose new link is selected once its row is drawn
    this.rows = new Map(); // id → {li, facts, key}
    this.structure = '';
  }

  /** rows: [{meta, data|null, color, drawn, focus}], newest first. */
  render(rows) {
    const structure = JSON.stringify(rows.map((r) => [r.meta.id, r.meta.name, r.meta.status, originOf(r.meta), r.color,
      r.drawn, r.focus, r.meta.share_token || null]));
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
      this._selectNewLink();
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
    const origin = originOf(meta);
    if (origin !== 'server') {
      const badge = Object.assign(document.createElement('span'), { className: 'run-origin', textContent: BADGES[origin][0],
        title: BADGES[origin][1] });
      head.append(badge);
    }
    head.append(status);
    return head;
  }

  /** Rename, Delete and Share (only for this workspace's own runs: the page may only read a
   * terminal's or a shared one), and Export CSV. */
  _actions(li, name, meta) {
    const actions = document.createElement('div');
    actions.className = 'run-actions';
    const origin = originOf(meta);
    if (origin === 'server') {
      actions.append(button('Rename', `Rename ${meta.name}`, () => this._rename(li, name, meta)),
        this._deleteButton(meta), button('Share', `Share ${meta.name}`, () => this._share(meta)));
    }
    if (origin === 'visiting') return actions; // its CSV is its owner's to export
    const csv = Object.assign(document.createElement('a'), { href: runCsvUrl(meta.id), textContent: 'CSV',
      className: 'button-link' });
    csv.download = `${meta.name}.csv`; // a hint: the server's Content-Disposition names it the same
    csv.setAttribute('aria-label', `Export CSV of ${meta.name}`);
    actions.append(csv);
    if (meta.share_token) actions.append(this._link(meta));
    return actions;
  }

  /** A shared run's link, read-only, and Stop sharing. */
  _link(meta) {
    const link = document.createElement('div');
    link.className = 'run-link';
    const field = Object.assign(document.createElement('input'), { type: 'text', readOnly: true,
      className: 'share-link', value: absoluteLink(serverPath(`?shared=${meta.share_token}`)) });
    field.setAttribute('aria-label', `Read-only link to ${meta.name}`);
    field.addEventListener('focus', () => field.select());
    link.append(field, button('Stop sharing', `Stop sharing ${meta.name}`, () => this._unshare(meta)));
    return link;
  }

  _share(meta) {
    this.say('');
    this.selectLinkOf = meta.id;
    this.handlers.onShare(meta.id).catch((error) => this.say(`Could not share ${meta.name}: ${error.message}`));
  }

  _unshare(meta) {
    this.handlers.onUnshare(meta.id)
      .then(() => this.say(`The link to ${meta.name} no longer works.`))
      .catch((error) => this.say(`Could not stop sharing ${meta.name}: ${error.message}`));
  }

  /** After Share, the new link is selected, ready to copy. */
  _selectNewLink() {
    const row = this.selectLinkOf && this.rows.get(this.selectLinkOf);
    const field = row && row.li.querySelector('.share-link');
    if (!field) return;
    this.selectLinkOf = null;
    field.focus();
    field.select();
  }

  say(text) {
    this.status.textContent = text;
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
    const verdict = data ? divergence(data) : null;
    const key = `${steps}|${accuracy}|${loss}|${verdict && verdict.step}`;
    if (key === row.key) return;
    row.key = key;
    const parts = [`${thousands(steps)} steps`];
    if (accuracy != null) parts.push(`test accuracy ${(100 * accuracy).toFixed(1)}%`);
    else if (loss != null) parts.push(`loss ${loss.toPrecision(3)}`);
    row.facts.textContent = parts.join(' · ');
    if (verdict) {
      const hint = Object.assign(document.createElement('span'), { className: 'run-hint',
        textContent: `diverging at ${verdict.reason === 'rising' ? `epoch ${verdict.epoch}` : `step ${verdict.step}`} — ${ADVICE}`,
        title: verdict.text });
      row.facts.append(document.createElement('br'), hint);
      row.li.dataset.diverged = String(verdict.step);
    } else delete row.li.dataset.diverged;
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

const BADGES = {
  terminal: ['terminal', 'trained from the command line with backprop-live train'],
  visiting: ['shared with you', 'opened from a share link: you can look at it, not change it'],
};

/** Where a run comes from: "server" (trained from a page of this workspace), "terminal"
 * (`backprop-live train`, read-only here) or "visiting" (opened from someone's share link,
 * read-only); runs listed without an origin are the server's. */
function originOf(meta) {
  if (meta.visiting) return 'visiting';
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
