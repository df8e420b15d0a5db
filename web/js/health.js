// The health panel: stuck CLOSE_WAIT sockets, TIME_WAIT and half-open counts, refused and reset
// rates, anomalies, and sparklines of new connections and handshake RTT.
import { captureFault } from './capture-fault.js';
import { h } from './dom.js';
import { duration, endpoint, int, ms, rate } from './format.js';
import { SecondBuckets, count, median, sparkline } from './sparkline.js';

const SETTINGS_KEY = 'tcpscope.health';
const LIST_MAX = 8;

function loadSettings() {
  const d = { closeWaitS: 30, synFlood: 100 };
  try { return { ...d, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') }; } catch { return d; }
}

function card(key, label, hint) {
  const value = h('div', { class: 'value', 'data-value': key, text: '—' });
  const sub = h('div', { class: 'sub muted', text: '' });
  const el = h('div', { class: 'card', 'data-card': key, title: hint }, h('div', { class: 'label', text: label }), value, sub);
  return { el, value, sub };
}

export class HealthPanel {
  /** opts: { onSelect(id) } */
  constructor(container, opts) {
    this.onSelect = opts.onSelect;
    this.settings = loadSettings();
    this.opened = new SecondBuckets(60);
    this.rtt = new SecondBuckets(60);
    this.prev = null;
    this.rates = { refused: 0, resets: 0 };

    this.cards = {
      open: card('open', 'Open', 'Connections not yet closed'),
      timeWait: card('timeWait', 'TIME_WAIT', 'Endpoints waiting out 2×MSL after an orderly close'),
      halfOpen: card('halfOpen', 'Half-open', 'Endpoints in SYN_RECEIVED: a SYN answered, the final ACK not yet seen'),
      closeWait: card('closeWait', 'CLOSE_WAIT', 'Endpoints whose peer closed while the application has not'),
      refused: card('refused', 'Refused', 'SYNs answered by a reset: nothing listening on that port'),
      resets: card('resets', 'Resets', 'Connections aborted by a reset'),
    };
    this.flood = h('p', { class: 'flood', role: 'alert', hidden: true });
    this.captureFault = h('p', { class: 'flood capture-fault', role: 'alert', hidden: true });
    this.sparkNew = h('div', { class: 'spark-box' });
    this.sparkNewVal = h('span', { class: 'spark-val' });
    this.sparkRtt = h('div', { class: 'spark-box' });
    this.sparkRttVal = h('span', { class: 'spark-val' });
    this.cwList = h('ul', { class: 'cw-list', 'aria-live': 'polite' });
    this.anomalies = h('ul', { class: 'anomalies' });
    this.decodeErrors = h('p', { class: 'muted small' });

    const cwInput = h('input', { type: 'number', min: 1, max: 86400, value: this.settings.closeWaitS, id: 'cw-threshold', 'aria-label': 'CLOSE_WAIT age threshold in seconds', size: 4 });
    cwInput.addEventListener('change', () => this.setSetting('closeWaitS', Number(cwInput.value)));
    const floodInput = h('input', { type: 'number', min: 1, max: 1e7, value: this.settings.synFlood, id: 'flood-threshold', 'aria-label': 'Half-open count that raises a SYN flood warning', size: 6 });
    floodInput.addEventListener('change', () => this.setSetting('synFlood', Number(floodInput.value)));
    this.cwList.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-id]');
      if (b) this.onSelect(b.dataset.id);
    });

    container.replaceChildren(
      this.captureFault,
      h('div', { class: 'cards' }, Object.values(this.cards).map((c) => c.el)),
      this.flood,
      h('div', { class: 'spark-row' }, h('div', { class: 'spark-head' }, h('span', { text: 'New connections / s' }), this.sparkNewVal), this.sparkNew),
      h('div', { class: 'spark-row' }, h('div', { class: 'spark-head' }, h('span', { text: 'Handshake RTT' }), this.sparkRttVal), this.sparkRtt),
      h('h3', null, 'CLOSE_WAIT older than ', cwInput, ' s'),
      h('p', { class: 'muted small' }, 'The peer closed; the application never closed its socket.'),
      this.cwList,
      h('h3', { text: 'Anomalies' }),
      this.anomalies,
      this.decodeErrors,
      h('p', { class: 'muted small' }, h('label', { for: 'flood-threshold' }, 'SYN-flood warning above '), floodInput, ' half-open'),
    );
  }

  setSetting(k, v) {
    if (!Number.isFinite(v) || v <= 0) return;
    this.settings[k] = v;
    try { localStorage.setItem(SETTINGS_KEY, JSON.stringify(this.settings)); } catch { /* private mode */ }
  }

  /** Feeds the sparklines from the event stream. */
  onEvent(e) {
    if (e.type === 'connection' && e.phase === 'opened') this.opened.add(e.ts);
    else if (e.type === 'handshake' && e.phase === 'established' && e.rttMs != null) this.rtt.add(e.ts, e.rttMs);
  }

  /** Seeds the sparklines from a first snapshot (call reset() before seeding again). */
  seed(conns) {
    for (const c of conns) {
      this.opened.add(c.startedAt);
      if (c.handshake?.rttMs != null && c.handshake.ackAt != null) this.rtt.add(c.handshake.ackAt, c.handshake.rttMs);
    }
  }

  reset() {
    this.opened = new SecondBuckets(60);
    this.rtt = new SecondBuckets(60);
    this.prev = null;
  }

  /** stats: /api/stats body (or null); rows: the store's rows; now: the source clock in ms. */
  update(stats, rows, now, pageNow) {
    if (stats) this.updateStats(stats, pageNow);
    const endSec = Math.floor(now / 1000);
    const perSec = this.opened.series(endSec, count);
    this.sparkNew.replaceChildren(sparkline(perSec, { zeroFill: true, label: 'New connections per second, last 60 seconds' }));
    this.sparkNewVal.textContent = `${perSec.at(-1) ?? 0}/s now · peak ${Math.max(0, ...perSec.map((v) => v ?? 0))}`;
    const rtts = this.rtt.series(endSec, median);
    this.sparkRtt.replaceChildren(sparkline(rtts, { label: 'Median handshake RTT per second, last 60 seconds' }));
    const p = stats?.handshakes?.rttMs;
    this.sparkRttVal.textContent = p && p.p50 != null ? `p50 ${ms(p.p50)} · p99 ${ms(p.p99)}` : 'no samples yet';
    this.updateCloseWait(rows, now);
  }

  updateStats(st, pageNow) {
    const c = this.cards;
    c.open.value.textContent = int(st.connections?.open);
    c.open.sub.textContent = `${int(st.connections?.total)} seen`;
    c.timeWait.value.textContent = int(st.timeWait);
    c.closeWait.value.textContent = int(st.closeWait);
    c.halfOpen.value.textContent = int(st.halfOpen);
    const fault = captureFault(st);
    this.captureFault.hidden = !fault;
    this.captureFault.textContent = fault?.text ?? '';
    this.captureFault.classList.toggle('past', fault?.level === 'holes');
    const flood = (st.halfOpen ?? 0) > this.settings.synFlood;
    c.halfOpen.el.classList.toggle('warn', flood);
    this.flood.hidden = !flood;
    this.flood.textContent = flood
      ? `Possible SYN flood: ${int(st.halfOpen)} half-open endpoints (over ${int(this.settings.synFlood)}).`
      : '';
    if (this.prev && pageNow > this.prev.at) {
      const dt = (pageNow - this.prev.at) / 1000;
      this.rates.refused = Math.max(0, (st.refused - this.prev.refused) / dt);
      this.rates.resets = Math.max(0, (st.resets - this.prev.resets) / dt);
    }
    this.prev = { at: pageNow, refused: st.refused, resets: st.resets };
    c.refused.value.textContent = rate(this.rates.refused);
    c.refused.sub.textContent = `${int(st.refused)} total`;
    c.resets.value.textContent = rate(this.rates.resets);
    c.resets.sub.textContent = `${int(st.resets)} total`;
    c.refused.el.classList.toggle('hot', this.rates.refused > 0);
    c.resets.el.classList.toggle('hot', this.rates.resets > 0);

    const entries = Object.entries(st.anomalies ?? {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    this.anomalies.replaceChildren(
      ...(entries.length
        ? entries.map(([k, n]) => h('li', { 'data-kind': k }, h('span', { text: k }), h('span', { class: 'n', text: int(n) })))
        : [h('li', { class: 'muted', text: 'none' })]),
    );
    const decErr = st.capture?.decodeErrorsTotal ?? 0;
    const dropped = st.capture?.dropped;
    this.decodeErrors.textContent = `${int(st.capture?.packets)} packets captured · ${int(decErr)} undecodable` +
      (dropped ? ` · ${int(dropped)} dropped by the kernel` : '') +
      (st.capture?.evictions ? ` · ${int(st.capture.evictions)} evicted` : '');
  }

  updateCloseWait(rows, now) {
    const limit = this.settings.closeWaitS * 1000;
    const stuck = [];
    for (const row of rows) {
      const c = row.c;
      for (const side of ['client', 'server']) {
        if (c[side].state !== 'CLOSE_WAIT') continue;
        // Without the state event, the last packet is the latest the endpoint can have entered it.
        const since = row.since[side] ?? c.lastSeenAt ?? c.startedAt;
        const age = now - since;
        if (age >= limit) stuck.push({ c, side, age });
      }
    }
    stuck.sort((a, b) => b.age - a.age);
    const items = stuck.slice(0, LIST_MAX).map(({ c, side, age }) =>
      h('li', null, h('button', { type: 'button', class: 'linkish', 'data-id': c.id, text: `${endpoint(c[side])} (${side})` }),
        h('span', { class: 'muted', text: ` ${duration(age)} · peer ${endpoint(side === 'client' ? c.server : c.client)}` })),
    );
    if (stuck.length > LIST_MAX) items.push(h('li', { class: 'muted', text: `and ${int(stuck.length - LIST_MAX)} more` }));
    if (!items.length) items.push(h('li', { class: 'muted', text: 'none' }));
    this.cwList.replaceChildren(...items);
  }
}
