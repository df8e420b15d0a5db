// The connection table: an ARIA grid that renders only the rows in view (fixed row height).
import { h } from './dom.js';
import { COLUMNS } from './columns.js';
import { rowOpacity } from './filter.js';

const ROW_H = 28;
const OVERSCAN = 6;

function domId(id) {
  return 'row-' + String(id).replace(/[^A-Za-z0-9_-]/g, (ch) => '_' + ch.charCodeAt(0).toString(16));
}

export class ConnTable {
  /**
   * opts: { grid, head, body, empty, onSelect(id), onSort(key, dir) }
   */
  constructor(opts) {
    this.grid = opts.grid;
    this.head = opts.head;
    this.body = opts.body;
    this.empty = opts.empty;
    this.onSelect = opts.onSelect;
    this.onSort = opts.onSort;
    this.rows = [];
    this.pool = [];
    this.activeId = null;
    this.selectedId = null;
    this.sortKey = 'age';
    this.sortDir = 'asc';
    this.ctx = { now: Date.now(), pageNow: performance.now(), showClosed: false };
    this.buildHead();
    this.grid.addEventListener('scroll', () => this.paint(), { passive: true });
    this.grid.addEventListener('keydown', (e) => this.onKey(e));
    this.grid.addEventListener('focus', () => {
      if (this.activeId == null && this.rows.length) this.setActive(0);
      else this.paint();
    });
    this.body.addEventListener('click', (e) => {
      const el = e.target.closest('.vrow');
      if (!el || !el.dataset.id) return;
      this.activeId = el.dataset.id;
      this.select(el.dataset.id);
      this.grid.focus({ preventScroll: true });
    });
    new ResizeObserver(() => this.paint()).observe(this.grid);
  }

  buildHead() {
    this.headCells = COLUMNS.map((col, i) => {
      const btn = h('button', { type: 'button', text: col.label, 'aria-label': col.aria ? `${col.aria}, sort` : undefined });
      btn.addEventListener('click', () => {
        const dir = this.sortKey === col.key && this.sortDir === 'asc' ? 'desc' : 'asc';
        this.setSort(col.key, dir);
        this.onSort(col.key, dir);
      });
      return h('div', { role: 'columnheader', 'aria-colindex': i + 1, class: col.num ? 'num' : null, 'data-col': col.key }, btn);
    });
    this.head.replaceChildren(...this.headCells);
    this.setSort(this.sortKey, this.sortDir);
  }

  setSort(key, dir) {
    this.sortKey = key;
    this.sortDir = dir;
    COLUMNS.forEach((col, i) => {
      this.headCells[i].setAttribute('aria-sort', col.key === key ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
    });
  }

  /** rows: filtered and sorted; ctx: { now (source clock, ms), pageNow, showClosed, recentMs }. */
  setRows(rows, ctx) {
    this.rows = rows;
    this.ctx = ctx;
    this.index = new Map();
    for (let i = 0; i < rows.length; i++) this.index.set(rows[i].c.id, i);
    this.body.style.height = `${rows.length * ROW_H}px`;
    this.grid.setAttribute('aria-rowcount', String(rows.length + 1));
    this.empty.hidden = rows.length > 0;
    this.paint();
  }

  paint() {
    const top = this.grid.scrollTop;
    const height = this.grid.clientHeight;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    const need = last - first;
    while (this.pool.length < need) this.pool.push(this.makeRow());
    for (let k = 0; k < this.pool.length; k++) {
      const el = this.pool[k];
      if (k >= need) {
        if (el.isConnected) el.remove();
        continue;
      }
      this.fillRow(el, first + k);
      if (!el.isConnected) this.body.append(el);
    }
    const activeIdx = this.activeId != null ? this.index?.get(this.activeId) : undefined;
    if (activeIdx !== undefined && activeIdx >= first && activeIdx < last) {
      this.grid.setAttribute('aria-activedescendant', domId(this.activeId));
    } else {
      this.grid.removeAttribute('aria-activedescendant');
    }
  }

  makeRow() {
    const cells = COLUMNS.map((col, i) =>
      h('div', { role: 'gridcell', 'aria-colindex': i + 1, class: [col.num ? 'num' : '', col.cls ?? ''].join(' ').trim() || null, 'data-col': col.key }),
    );
    const el = h('div', { role: 'row', class: 'vrow' }, cells);
    el.cells = cells;
    return el;
  }

  fillRow(el, i) {
    const row = this.rows[i];
    const c = row.c;
    const { now, showClosed, recentMs } = this.ctx;
    el.id = domId(c.id);
    el.dataset.id = c.id;
    el.style.top = `${i * ROW_H}px`;
    el.setAttribute('aria-rowindex', String(i + 2));
    el.setAttribute('aria-selected', c.id === this.selectedId ? 'true' : 'false');
    el.classList.toggle('active', c.id === this.activeId);
    el.classList.toggle('closed', c.status === 'closed');
    el.dataset.status = c.status;
    const op = rowOpacity(row, now, showClosed, recentMs);
    el.style.opacity = op === 1 ? '' : op.toFixed(2);
    COLUMNS.forEach((col, k) => {
      const cell = el.cells[k];
      if (col.state) {
        const st = c[col.state].state;
        if (cell.dataset.state !== st || !cell.firstChild) {
          cell.dataset.state = st;
          cell.replaceChildren(h('span', { class: `badge st-${st}`, text: st }));
        }
      } else {
        const t = col.text(row, now);
        if (cell.textContent !== t) cell.textContent = t;
      }
      if (col.title) cell.title = col.title(row);
    });
  }

  onKey(e) {
    const n = this.rows.length;
    if (!n) return;
    const cur = this.activeId != null ? this.index.get(this.activeId) ?? -1 : -1;
    const page = Math.max(1, Math.floor(this.grid.clientHeight / ROW_H) - 2);
    let next = null;
    switch (e.key) {
      case 'ArrowDown': next = cur + 1; break;
      case 'ArrowUp': next = cur - 1; break;
      case 'PageDown': next = cur + page; break;
      case 'PageUp': next = cur - page; break;
      case 'Home': next = 0; break;
      case 'End': next = n - 1; break;
      case 'Enter':
      case ' ':
        if (cur >= 0) this.select(this.activeId);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setActive(Math.max(0, Math.min(n - 1, next)));
  }

  setActive(i) {
    this.activeId = this.rows[i].c.id;
    this.scrollToIndex(i);
    this.paint();
  }

  scrollToIndex(i) {
    const headH = this.head.offsetHeight;
    const y = i * ROW_H;
    const viewTop = this.grid.scrollTop;
    const viewH = this.grid.clientHeight - headH;
    if (y < viewTop) this.grid.scrollTop = y;
    else if (y + ROW_H > viewTop + viewH) this.grid.scrollTop = y + ROW_H - viewH;
  }

  select(id) {
    this.selectedId = id;
    this.activeId = id;
    this.paint();
    this.onSelect(id);
  }

  /** Marks a row selected from elsewhere (the URL, the health panel) without calling back. */
  markSelected(id) {
    this.selectedId = id;
    this.activeId = id;
    const i = this.index?.get(id);
    if (i !== undefined) this.scrollToIndex(i);
    this.paint();
  }
}
