// The ladder panel: fetches the selected connection's detail, refetches (throttled) while its
// events arrive, and redraws.
import { getDetail, getTransitions } from './api.js';
import { h } from './dom.js';
import { bytes, endpoint, int, ms } from './format.js';
import { explainLadder } from './learn.js';
import { buildLadder } from './ladder-model.js';
import { renderLadder } from './ladder-view.js';

const REFETCH_MS = 300;
const LEARN_KEY = 'tcpscope.learn';

export class LadderPanel {
  /** els: { box, meta, sub, abs, learn }; onDetail(detail | null) tells the state diagram. */
  constructor(els, onDetail) {
    this.els = els;
    this.onDetail = onDetail;
    this.id = null;
    this.detail = null;
    this.expanded = new Set();
    this.inFlight = false;
    this.again = false;
    this.timer = null;
    this.lastFetch = 0;
    els.abs.addEventListener('change', () => this.draw());
    // Learn mode: each state change explained beside its segment (remembered in this browser).
    this.doc = null;
    try { els.learn.checked = localStorage.getItem(LEARN_KEY) === '1'; } catch { /* storage may be off */ }
    els.learn.addEventListener('change', () => {
      try {
        if (els.learn.checked) localStorage.setItem(LEARN_KEY, '1'); else localStorage.removeItem(LEARN_KEY);
      } catch { /* the choice lasts for this page */ }
      this.draw();
    });
    this.loadDoc();
    let w = 0;
    new ResizeObserver(() => {
      if (Math.abs(els.box.clientWidth - w) > 8) { w = els.box.clientWidth; this.draw(); }
    }).observe(els.box);
  }

  show(id) {
    if (id === this.id) return this.fetchSoon(true);
    this.id = id;
    this.detail = null;
    this.expanded.clear();
    this.els.box.scrollTop = 0;
    if (id == null) {
      this.els.sub.textContent = '— select a connection';
      this.els.meta.replaceChildren();
      this.els.box.replaceChildren();
      this.onDetail(null);
      return;
    }
    this.els.sub.textContent = '— loading…';
    this.fetchSoon(true);
  }

  /** An event for the shown connection: its ladder has grown. */
  onEvent(e) {
    if (this.id != null && e.connectionId === this.id) this.fetchSoon(false);
  }

  fetchSoon(now) {
    if (this.id == null) return;
    if (this.inFlight) { this.again = true; return; }
    if (this.timer) return;
    const wait = now ? 0 : Math.max(0, this.lastFetch + REFETCH_MS - performance.now());
    this.timer = setTimeout(() => { this.timer = null; this.fetch(); }, wait);
  }

  async fetch() {
    const id = this.id;
    this.inFlight = true;
    this.lastFetch = performance.now();
    try {
      const d = await getDetail(id);
      if (id === this.id) { this.detail = d; this.draw(); }
    } catch (err) {
      if (id === this.id) {
        if (err.status === 404) this.gone();
        else this.els.sub.textContent = `— could not load (${err.message})`;
      }
    } finally {
      this.inFlight = false;
      if (this.again) { this.again = false; this.fetchSoon(false); }
    }
  }

  gone() {
    this.detail = null;
    this.els.sub.textContent = '— no longer tracked';
    this.els.meta.replaceChildren(h('p', { class: 'muted', text: 'The server has dropped this connection (closed connections are kept for a while, then forgotten).' }));
    this.els.box.replaceChildren();
    this.onDetail(null);
  }

  /** The explanations, fetched once; asked for again while Learn is on and they are missing. */
  loadDoc() {
    if (this.doc || this.docLoading) return;
    this.docLoading = true;
    getTransitions().then(
      (doc) => { this.doc = doc; this.docLoading = false; this.draw(); },
      () => { this.docLoading = false; },
    );
  }

  draw() {
    if (this.els.learn.checked && !this.doc) this.loadDoc();
    const d = this.detail;
    if (!d) return;
    const model = buildLadder(d, { expanded: this.expanded });
    this.els.sub.textContent = `— ${endpoint(d.client)} → ${endpoint(d.server)}`;
    this.els.meta.replaceChildren(...metaItems(d));
    const keep = this.els.box.scrollTop;
    const learn = this.els.learn.checked && this.doc ? explainLadder(this.doc, d, model) : null;
    const svg = renderLadder(model, d, {
      learn: learn && ((step) => learn.get(step)),
      absolute: this.els.abs.checked,
      width: this.els.box.clientWidth - 2,
      onToggleRun: (key) => {
        if (this.expanded.has(key)) this.expanded.delete(key); else this.expanded.add(key);
        this.draw();
      },
    });
    this.els.box.replaceChildren(svg);
    this.els.box.scrollTop = keep;
    this.onDetail(d);
  }
}

function item(label, value, attrs) {
  return h('span', { class: 'mi', ...attrs }, h('span', { class: 'muted', text: `${label} ` }), value);
}

function metaItems(d) {
  const out = [
    item('status', d.status, { 'data-meta': 'status' }),
    item('conn', h('code', { text: d.connState }), { 'data-meta': 'connState', title: 'Zeek conn_state' }),
    item('history', h('code', { text: d.history || '—' }), { 'data-meta': 'history', title: 'Zeek history letters' }),
    item('RTT', ms(d.handshake?.rttMs), { 'data-meta': 'rtt' }),
    item('bytes', `${bytes(d.counts.client.bytes)} → · ← ${bytes(d.counts.server.bytes)}`),
  ];
  if (d.closeKind) out.push(item('closed', `${d.closeKind}${d.closedBy ? ` by ${d.closedBy}` : ''}`, { 'data-meta': 'close' }));
  if (d.partial) out.push(item('partial', d.rolesGuessed ? 'roles guessed' : 'yes'));
  if (d.anomalies) out.push(item('anomalies', int(d.anomalies)));
  out.push(item('segments', `${int(d.segments.length)}${d.segmentsOmitted ? ` shown, ${int(d.segmentsOmitted)} not kept` : ''}`, { 'data-meta': 'segments' }));
  return out;
}
