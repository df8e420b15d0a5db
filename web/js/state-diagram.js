// The RFC 9293 state diagram (its Figure 5 layout), with live endpoint counts and the selected
// connection's two paths drawn over it.
import { s, title } from './dom.js';
import { TCP_STATES } from './names.js';

const BW = 124;
const BH = 40;

// Box centres. CLOSED appears twice, as in the RFC figure: top for opening, bottom right for closing.
const NODES = {
  CLOSED: [330, 34],
  LISTEN: [330, 124],
  SYN_RECEIVED: [86, 214],
  SYN_SENT: [574, 214],
  ESTABLISHED: [330, 304],
  FIN_WAIT_1: [86, 394],
  CLOSE_WAIT: [574, 394],
  FIN_WAIT_2: [86, 484],
  CLOSING: [330, 484],
  LAST_ACK: [574, 484],
  TIME_WAIT: [330, 574],
  CLOSED_END: [574, 574],
};

// [from, to, path points, label, label x, label y, label anchor]
const EDGES = [
  ['CLOSED', 'LISTEN', [[316, 54], [316, 104]], 'passive open', 308, 84, 'end'],
  ['CLOSED', 'SYN_SENT', [[392, 28], [556, 28], [556, 194]], 'active open / snd SYN', 400, 20, 'start'],
  ['SYN_SENT', 'CLOSED', [[618, 194], [618, 8], [344, 8], [344, 14]], 'close, rcv RST', 612, 100, 'end'],
  ['LISTEN', 'SYN_RECEIVED', [[290, 144], [148, 200]], 'rcv SYN / snd SYN,ACK', 206, 160, 'end'],
  ['SYN_RECEIVED', 'LISTEN', [[70, 194], [70, 118], [268, 118]], 'rcv RST', 78, 112, 'start'],
  ['LISTEN', 'SYN_SENT', [[370, 144], [512, 200]], 'send / snd SYN', 452, 160, 'start'],
  ['SYN_SENT', 'SYN_RECEIVED', [[512, 222], [148, 222]], 'rcv SYN / snd SYN,ACK', 330, 216, 'middle'],
  ['SYN_RECEIVED', 'ESTABLISHED', [[126, 234], [268, 296]], 'rcv ACK of SYN', 188, 276, 'end'],
  ['SYN_SENT', 'ESTABLISHED', [[534, 234], [392, 296]], 'rcv SYN,ACK / snd ACK', 472, 276, 'start'],
  ['SYN_RECEIVED', 'FIN_WAIT_1', [[40, 234], [40, 374]], 'close', 34, 304, 'end'],
  ['ESTABLISHED', 'FIN_WAIT_1', [[290, 324], [148, 384]], 'close / snd FIN', 206, 344, 'end'],
  ['ESTABLISHED', 'CLOSE_WAIT', [[370, 324], [512, 384]], 'rcv FIN / snd ACK', 452, 344, 'start'],
  ['FIN_WAIT_1', 'FIN_WAIT_2', [[86, 414], [86, 464]], 'rcv ACK of FIN', 92, 444, 'start'],
  ['FIN_WAIT_1', 'CLOSING', [[148, 406], [290, 464]], 'rcv FIN / snd ACK', 222, 424, 'start'],
  ['CLOSE_WAIT', 'LAST_ACK', [[574, 414], [574, 464]], 'close / snd FIN', 568, 444, 'end'],
  ['FIN_WAIT_2', 'TIME_WAIT', [[86, 504], [86, 574], [268, 574]], 'rcv FIN / snd ACK', 94, 566, 'start'],
  ['CLOSING', 'TIME_WAIT', [[330, 504], [330, 554]], 'rcv ACK of FIN', 336, 534, 'start'],
  ['LAST_ACK', 'CLOSED_END', [[574, 504], [574, 554]], 'rcv ACK of FIN', 568, 534, 'end'],
  ['TIME_WAIT', 'CLOSED_END', [[392, 574], [512, 574]], '2×MSL', 452, 568, 'middle'],
];

const WIDTH = 660;
const HEIGHT = 606;

function pathD(points) {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`).join(' ');
}

/** Where a line from a box centre towards (tx, ty) leaves the box. */
function boxEdge([cx, cy], tx, ty) {
  const dx = tx - cx;
  const dy = ty - cy;
  const sx = dx === 0 ? Infinity : (BW / 2) / Math.abs(dx);
  const sy = dy === 0 ? Infinity : (BH / 2) / Math.abs(dy);
  const k = Math.min(sx, sy);
  return [cx + dx * k, cy + dy * k];
}

/** A transition the figure has no arrow for (a reset from ESTABLISHED, say): a dashed curve. */
function extraEdgePoints(from, to) {
  const a = NODES[from];
  const b = NODES[to];
  const [x1, y1] = boxEdge(a, b[0], b[1]);
  const [x2, y2] = boxEdge(b, a[0], a[1]);
  const mx = (x1 + x2) / 2 + (y2 - y1) * 0.18;
  const my = (y1 + y2) / 2 - (x2 - x1) * 0.18;
  return `M${x1},${y1} Q${mx},${my} ${x2},${y2}`;
}

/** Which drawn box a transition into `to` lands on. */
function target(from, to) {
  if (to !== 'CLOSED') return to;
  return from === 'SYN_SENT' || from === 'LISTEN' || from === 'CLOSED' ? 'CLOSED' : 'CLOSED_END';
}

export class StateDiagram {
  constructor(container) {
    this.container = container;
    this.countEls = {};
    this.boxes = {};
    this.edgeEls = new Map();
    this.build();
  }

  build() {
    const defs = s('defs', null,
      ['base', 'client', 'server'].map((k) =>
        s('marker', { id: `sd-arrow-${k}`, class: `mk-${k}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
          s('path', { d: 'M0,0 L10,5 L0,10 z' })),
      ));
    const edges = EDGES.map(([from, to, pts, label, lx, ly, anchor]) => {
      const g = s('g', { class: 'edge', 'data-from': from, 'data-to': to },
        s('path', { d: pathD(pts), 'marker-end': 'url(#sd-arrow-base)' }),
        s('text', { x: lx, y: ly, 'text-anchor': anchor, text: label }),
      );
      this.edgeEls.set(`${from}>${to}`, { g, d: pathD(pts) });
      return g;
    });
    const nodes = Object.entries(NODES).map(([key, [cx, cy]]) => {
      const state = key === 'CLOSED_END' ? 'CLOSED' : key;
      const count = s('text', { class: 'cnt', x: cx, y: cy + 14, 'text-anchor': 'middle', text: '' });
      const g = s('g', { class: `node st-${state}`, 'data-state': state, 'data-node': key },
        title(state),
        s('rect', { x: cx - BW / 2, y: cy - BH / 2, width: BW, height: BH, rx: 6 }),
        s('text', { class: 'name', x: cx, y: cy - 2, 'text-anchor': 'middle', text: state }),
        count,
      );
      this.boxes[key] = g;
      (this.countEls[state] ??= []).push(count);
      return g;
    });
    this.overlay = s('g', { class: 'paths' });
    this.svg = s('svg', {
      class: 'state-svg', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img',
      'aria-label': 'TCP endpoint state diagram with the number of endpoints in each state',
    }, defs, edges, this.overlay, nodes);
    this.container.replaceChildren(this.svg);
  }

  /** counts: { client: {STATE: n}, server: {STATE: n} }. */
  setCounts(counts) {
    const parts = [];
    for (const st of TCP_STATES) {
      const c = counts.client?.[st] ?? 0;
      const v = counts.server?.[st] ?? 0;
      const total = c + v;
      const text = total ? `${total}  (c ${c} · s ${v})` : '0';
      for (const el of this.countEls[st]) {
        if (el.textContent !== text) el.textContent = text;
      }
      for (const key of Object.keys(NODES)) {
        if ((key === 'CLOSED_END' ? 'CLOSED' : key) === st) this.boxes[key].classList.toggle('empty', total === 0);
      }
      parts.push(`${st} ${total}`);
    }
    this.svg.setAttribute('aria-label', `TCP endpoint state diagram. Endpoints per state: ${parts.join(', ')}`);
    this.svg.dataset.counts = JSON.stringify(counts);
  }

  /**
   * paths: { client: [{from, to}], server: [...] } in order, or null; current: { client, server }.
   */
  setPaths(paths, current) {
    this.overlay.replaceChildren();
    for (const g of Object.values(this.boxes)) g.classList.remove('cur-client', 'cur-server', 'on-client', 'on-server');
    if (!paths) return;
    for (const side of ['client', 'server']) {
      let at = paths[side].length ? paths[side][0].from : null;
      if (at) this.boxes[at]?.classList.add(`on-${side}`);
      paths[side].forEach((t, i) => {
        const to = target(t.from, t.to);
        const known = this.edgeEls.get(`${t.from}>${to}`);
        const d = known ? known.d : extraEdgePoints(at ?? t.from, to);
        this.overlay.append(s('path', {
          class: `trail trail-${side}${known ? '' : ' extra'}`, d, 'marker-end': `url(#sd-arrow-${side})`,
          'data-from': t.from, 'data-to': t.to, 'data-step': i + 1,
        }, title(`${side}: ${t.from} → ${t.to}`)));
        this.boxes[to]?.classList.add(`on-${side}`);
        at = to;
      });
      const last = paths[side].length ? target(paths[side].at(-1).from, paths[side].at(-1).to) : current?.[side];
      if (last && this.boxes[last]) this.boxes[last].classList.add(`cur-${side}`);
    }
  }
}
