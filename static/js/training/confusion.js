// The test set's confusion matrix after one epoch, as a table: rows are the true digit, columns
// the predicted one (the protocol's confusion[true][predicted]); each cell is shaded by its share
// of the row, so a row reads as "where the 7s went". The diagonal is what was right. The table is
// built once and its cells refilled at each epoch (no new DOM while a run streams in).
import * as d3 from 'd3';
import { wantsWhiteText } from '../shared/colors.js';

const shade = d3.scaleSequential(d3.interpolateBlues).domain([0, 1]);
const percent = d3.format('.1%');

export class ConfusionMatrix {
  /** `onCell(true, predicted)`: a cell was clicked (or chosen with Enter / Space). */
  constructor(container, caption, { onCell = null } = {}) {
    this.container = container;
    this.caption = caption;
    this.onCell = onCell;
    this.shown = undefined;
    this.table = null;
  }

  /** Show `epoch` (an epoch record) of run `runName`, or say why there is none. */
  show(epoch, { runName = '', waiting = 'No epoch has ended yet.' } = {}) {
    const shown = [epoch, runName, waiting];
    if (this.shown && shown.every((v, k) => v === this.shown[k])) return;
    this.shown = shown;
    if (!epoch || !epoch.confusion) {
      this.container.hidden = true;
      this.container.removeAttribute('data-epoch');
      this.caption.textContent = waiting;
      return;
    }
    const matrix = epoch.confusion;
    const total = d3.sum(matrix, (row) => d3.sum(row));
    const right = d3.sum(matrix, (row, k) => row[k]);
    this.caption.textContent = `Test set after epoch ${epoch.epoch} (step ${epoch.step})${runName ? ` of ${runName}` : ''}: `
      + `${right} of ${total} right (${percent(right / total)}). Rows: true digit; columns: predicted.`;
    if (!this.table || this.table.classes !== matrix.length) this._build(matrix.length);
    this._fill(matrix);
    this.table.el.setAttribute('aria-label', `Confusion matrix after epoch ${epoch.epoch}`);
    this.container.hidden = false;
    this.container.dataset.epoch = String(epoch.epoch);
  }

  _build(classes) {
    const table = document.createElement('table');
    table.className = 'confusion-table';
    const head = table.createTHead().insertRow();
    head.append(cell('th', 'true ╲ predicted', { scope: 'col', className: 'corner' }));
    for (let p = 0; p < classes; p++) head.append(cell('th', String(p), { scope: 'col' }));
    head.append(cell('th', 'right', { scope: 'col', className: 'recall' }));
    const body = table.createTBody();
    const cells = [];
    const recalls = [];
    for (let t = 0; t < classes; t++) {
      const tr = body.insertRow();
      tr.append(cell('th', String(t), { scope: 'row' }));
      cells.push([]);
      for (let p = 0; p < classes; p++) {
        const td = cell('td', '', { className: t === p ? 'diagonal' : '' });
        td.dataset.true = String(t);
        td.dataset.predicted = String(p);
        if (this.onCell) {
          td.tabIndex = 0;
          td.addEventListener('click', () => this.onCell(t, p));
          td.addEventListener('keydown', (event) => {
            if (event.key !== 'Enter' && event.key !== ' ') return;
            event.preventDefault();
            this.onCell(t, p);
          });
        }
        cells[t].push(td);
        tr.append(td);
      }
      recalls.push(cell('td', '', { className: 'recall' }));
      tr.append(recalls[t]);
    }
    this.container.replaceChildren(table);
    this.table = { el: table, classes, cells, recalls };
  }

  _fill(matrix) {
    const { cells, recalls } = this.table;
    matrix.forEach((row, t) => {
      const n = d3.sum(row);
      row.forEach((count, p) => {
        const td = cells[t][p];
        const share = n ? count / n : 0;
        td.textContent = count ? String(count) : '';
        td.dataset.count = String(count);
        td.style.background = count ? shade(0.08 + 0.92 * share) : '';
        td.classList.toggle('dark', count > 0 && wantsWhiteText(shade(0.08 + 0.92 * share)));
        td.title = `true ${t}, predicted ${p}: ${count} of ${n}${this.onCell ? ' (click: its images)' : ''}`;
      });
      recalls[t].textContent = n ? d3.format('.0%')(row[t] / n) : '–';
    });
  }
}

function cell(tag, text, props = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [key, value] of Object.entries(props)) {
    if (key === 'scope') el.setAttribute('scope', value);
    else if (value) el[key] = value;
  }
  return el;
}
