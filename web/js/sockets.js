// The kernel's view beside the packets: listening sockets with their owners and accept-queue
// gauges, and the diagnoses in plain words. Polls /api/listeners and /api/diagnoses; both say
// `available: false` where there is no machine to read (replay), and then the panels stay hidden.
import { getJson } from './api.js';
import { h } from './dom.js';

const POLL_MS = 2000;

/** "node (4242)", or '' when unknown. */
export function ownerText(p) {
  if (!p) return '';
  return `${p.command} (${p.pid})${p.lastOwner ? ' · last owner' : ''}${p.via === 'listener' ? ' · via listener' : ''}`;
}

/** A tooltip with the whole command line, user, fd. */
export function ownerTitle(p, reason) {
  if (!p) return reason ? `owner unknown: ${reason}` : '';
  return `${p.cmdline || p.command}\npid ${p.pid}${p.user ? ` · user ${p.user}` : ''}${p.fd != null ? ` · fd ${p.fd}` : ''}${p.netns ? ` · netns ${p.netns}` : ''}`;
}

export class SocketsPanels {
  /** els: { listeners, listenersSection, diagnoses }; onSelect(id) opens a connection; onChange() redraws. */
  constructor(els, { onSelect, onChange }) {
    this.els = els;
    this.onSelect = onSelect;
    this.onChange = onChange;
    this.listeners = [];
    this.available = null;
    this.timer = null;
  }

  start() {
    const tick = async () => {
      try {
        await this.poll();
      } catch {
        // the status line reports a lost server; try again on the next tick
      }
      this.timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  async poll() {
    const [l, d] = await Promise.all([getJson('/api/listeners'), getJson('/api/diagnoses')]);
    this.available = l.available;
    this.els.listenersSection.hidden = !l.available;
    this.els.diagnoses.hidden = !d.available;
    if (!l.available) return;
    this.listeners = l.listeners;
    this.renderListeners();
    this.renderDiagnoses(d.diagnoses);
    this.onChange();
  }

  /** Listening sockets: the LISTEN count of the state diagram. */
  get listening() {
    return this.listeners.length;
  }

  renderListeners() {
    const rows = this.listeners.map((l) => {
      const full = l.backlog != null && l.acceptQueue >= l.backlog;
      const owners = l.owners.map((o) => `${o.command} (${o.pid})`).join(', ') || '—';
      return h('tr', { 'data-listener': `${l.ip}:${l.port}`, class: full ? 'full' : '' },
        h('td', { class: 'addr', text: l.ip.includes(':') ? `[${l.ip}]:${l.port}` : `${l.ip}:${l.port}` }),
        h('td', { class: 'owner', text: owners, title: l.owners.map((o) => ownerTitle(o)).join('\n\n') }),
        h('td', { class: 'queue' },
          h('meter', { min: 0, max: Math.max(1, l.backlog ?? 1), value: l.acceptQueue, high: Math.max(1, (l.backlog ?? 1) * 0.8), optimum: 0,
            'aria-label': `accept queue ${l.acceptQueue} of ${l.backlog ?? '?'}` }),
          h('span', { class: 'qtext', text: ` ${l.acceptQueue}/${l.backlog ?? '?'}` })),
      );
    });
    const table = rows.length
      ? h('table', { class: 'listeners-table' },
        h('thead', {}, h('tr', {}, h('th', { text: 'Listening on' }), h('th', { text: 'Process' }), h('th', { text: 'Accept queue' }))),
        h('tbody', {}, ...rows))
      : h('p', { class: 'muted', text: 'Nothing listens on the captured ports.' });
    this.els.listeners.replaceChildren(table);
  }

  renderDiagnoses(list) {
    const items = list.map((d) =>
      h('li', { class: `diag ${d.severity}`, 'data-kind': d.kind },
        h('span', { class: 'dtext', text: d.text }),
        ...(d.connections.length
          ? [h('button', { type: 'button', class: 'btn link', text: 'show', title: `connection ${d.connections[0]}`, onclick: () => this.onSelect(d.connections[0]) })]
          : []),
      ));
    this.els.diagnoses.replaceChildren(
      h('h3', { text: 'Diagnoses' }),
      items.length ? h('ul', { class: 'diag-list' }, ...items) : h('p', { class: 'muted small', text: 'Nothing wrong seen.' }),
    );
  }
}
