// `tcpscope demo` runs each case on a server port of its own: a strip of buttons above the table picks
// a case out (the port filter) and opens its newest connection's ladder.
import { h } from './dom.js';

export class DemoCases {
  /** el: the strip's container; onPick(case) when a case is chosen. */
  constructor(el, onPick) {
    this.el = el;
    this.onPick = onPick;
    this.key = '';
  }

  /** cases: source.demoCases from the server, or nothing when this is not the demo. */
  set(cases) {
    const key = JSON.stringify(cases ?? null);
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = !cases?.length;
    if (!cases?.length) return this.el.replaceChildren();
    this.says = h('p', { class: 'demo-says muted', id: 'demo-says' });
    this.buttons = cases.map((c) => h('button', {
      type: 'button', class: 'btn demo-case', 'data-case': c.name, 'data-port': c.port, title: c.says,
      'aria-pressed': 'false', text: c.title,
      onclick: () => this.pick(c),
    }));
    this.el.replaceChildren(h('span', { class: 'demo-label', text: 'Demo cases' }), ...this.buttons, this.says);
  }

  pick(c) {
    for (const b of this.buttons) b.setAttribute('aria-pressed', b.dataset.case === c.name ? 'true' : 'false');
    this.says.textContent = `${c.title} (server port ${c.port}): ${c.says}.`;
    this.onPick(c);
  }

  /** The port filter changed by hand: no case is picked any more unless it names one's port. */
  portChanged(port) {
    if (!this.buttons) return;
    let any = false;
    for (const b of this.buttons) {
      const on = b.dataset.port === String(port).trim() && b.getAttribute('aria-pressed') === 'true';
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      any ||= on;
    }
    if (!any) this.says.textContent = '';
  }
}
