// The state diagram's edges explained on hover: a figure edge gives the general words of every table
// cell (or timer) that moves an endpoint along it; the selected connection's own trail gives the
// same explanation with its real numbers. The words are the learn view's (learn.js).
import { h, s } from './dom.js';
import { edgeExplanations } from './learn.js';

function stateOf(node) {
  return node === 'CLOSED_END' ? 'CLOSED' : node;
}

export class DiagramTips {
  /** diagram: a StateDiagram; box: its container (positioned). */
  constructor(diagram, box) {
    this.diagram = diagram;
    this.box = box;
    this.doc = null;
    this.trails = { client: [], server: [] };
    this.tip = h('div', { class: 'sd-tip', id: 'sd-tip', role: 'tooltip', hidden: true });
    box.append(this.tip);
    box.addEventListener('pointerover', (e) => this.over(e));
    box.addEventListener('pointermove', (e) => { if (!this.tip.hidden) this.place(e); });
    box.addEventListener('pointerleave', () => this.hide());
  }

  /** The transitions document from /api/transitions: the figure's edges get their words. */
  setDoc(doc) {
    this.doc = doc;
    for (const [key, { g, d }] of this.diagram.edgeEls) {
      const [from, to] = key.split('>');
      const list = edgeExplanations(doc, from, stateOf(to));
      g.dataset.explained = String(list.length);
      if (!g.querySelector('.edge-hit')) g.prepend(s('path', { class: 'edge-hit', d }));
    }
  }

  /**
   * explained: explainEvents() of the selected connection, or null; called after the diagram drew
   * its trails, which get wider invisible twins to hover.
   */
  setConnection(explained) {
    this.trails = { client: [], server: [] };
    for (const x of explained ?? []) this.trails[x.event.side].push(x.explanation);
    for (const t of [...this.diagram.overlay.querySelectorAll('.trail')]) {
      const side = t.classList.contains('trail-client') ? 'client' : 'server';
      t.after(s('path', {
        class: `trail-hit trail-hit-${side}`, d: t.getAttribute('d'),
        'data-side': side, 'data-from': t.dataset.from, 'data-to': t.dataset.to, 'data-step': t.dataset.step,
      }));
    }
  }

  over(e) {
    const trail = e.target.closest?.('.trail-hit');
    const edge = trail ? null : e.target.closest?.('.edge');
    if (!this.doc || (!trail && !edge)) return this.hide();
    let head;
    let items;
    if (trail) {
      const side = trail.dataset.side;
      const x = this.trails[side][Number(trail.dataset.step) - 1];
      head = `${side}: ${trail.dataset.from} → ${trail.dataset.to}`;
      items = x ? [{ role: null, text: [x.text, ...x.caseTexts].join(' ') }] : [];
    } else {
      const from = edge.dataset.from;
      const to = stateOf(edge.dataset.to);
      head = `${from} → ${to}`;
      items = edgeExplanations(this.doc, from, to).map((x) => ({
        role: x.role === 'sender' ? 'on sending' : x.role === 'receiver' ? 'on receiving' : x.role === 'timer' ? 'by a timer' : null,
        text: x.text,
        key: x.key,
      }));
    }
    if (!items.length) return this.hide();
    this.tip.dataset.for = trail ? 'trail' : 'edge';
    this.tip.replaceChildren(
      h('p', { class: 'tip-head', text: head }),
      ...items.map((x) => h('p', { 'data-key': x.key ?? null }, x.role ? h('span', { class: 'tip-role', text: `${x.role}: ` }) : null, x.text)),
    );
    this.tip.hidden = false;
    this.place(e);
  }

  place(e) {
    const r = this.box.getBoundingClientRect();
    const w = this.tip.offsetWidth;
    let x = e.clientX - r.left + 14;
    if (x + w > r.width) x = Math.max(0, e.clientX - r.left - w - 14);
    this.tip.style.left = `${x}px`;
    this.tip.style.top = `${e.clientY - r.top + 14}px`;
  }

  hide() {
    this.tip.hidden = true;
  }
}
