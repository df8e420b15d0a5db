// Draws ladder steps as SVG: client lifeline left, server right, one arrow per segment.
import { h, s, title } from './dom.js';
import { bytes, endpoint, flagNames, int, isoTime } from './format.js';
import { ownerTitle } from './sockets.js';

/** A lifeline's heading: its role and, when known, the process on that end. */
function who(role, ep) {
  const p = ep.process;
  return p ? `${role} · ${p.command} (${p.pid})${p.lastOwner ? ' · last owner' : ''}` : role;
}

const TIME_W = 78;
const LABEL_W = 116;
const HEAD_H = 74;
const SEG_H = 50;
const SLANT = 18;
const PILL_H = 17;
const PILL_GAP = 19;
// Pills use the monospace face, so their width follows from the character count.
const CHAR_W = 6.7;

function arrowKind(seg) {
  if (seg.flags.includes('R')) return 'rst';
  if (seg.flags.includes('S')) return 'syn';
  if (seg.flags.includes('F')) return 'fin';
  if (seg.len > 0) return 'data';
  return 'ack';
}

/**
 * The window as sent, and scaled when both sides agreed on window scaling (RFC 7323): it applies
 * to every segment after the SYNs.
 */
function windowText(seg, conn) {
  const shift = conn.options?.[seg.from]?.wscale;
  const other = conn.options?.[seg.from === 'client' ? 'server' : 'client']?.wscale;
  if (seg.flags.includes('S') || shift == null || other == null || shift === 0) return `win ${seg.win}`;
  return `win ${seg.win} (×${2 ** shift} = ${int(seg.win * 2 ** shift)})`;
}

function relTime(dt) {
  if (dt < 1000) return `+${dt.toFixed(3)} ms`;
  return `+${(dt / 1000).toFixed(3)} s`;
}

function pill(x, y, state, side, anchor, extra) {
  const w = state.length * CHAR_W + 10;
  const left = anchor === 'end' ? x - w : anchor === 'middle' ? x - w / 2 : x;
  return s('g', { class: `lstate st-${state}`, 'data-side': side, 'data-state': state, ...extra },
    s('rect', { x: left, y: y - PILL_H / 2, width: w, height: PILL_H, rx: 4 }),
    s('text', { x: left + w / 2, y: y + 4, 'text-anchor': 'middle', text: state }),
  );
}

/**
 * Learn mode: the explanations of one step's state changes, as HTML in the SVG between the
 * lifelines, measured off-screen so the steps below make room for it.
 */
function learnBlock(list, x, y, width) {
  const div = h('div', { class: 'learn-note' }, list.map((e) =>
    h('p', { 'data-key': e.key, 'data-side': e.side, 'data-from': e.from, 'data-to': e.to, 'data-cases': e.cases.join(' ') || null },
      h('span', { class: `learn-what learn-${e.side}`, text: `${e.side} ${e.from} → ${e.to}` }), ' ', e.text,
      e.caseTexts.map((t) => [' ', h('span', { class: 'learn-case', text: t })]),
    )));
  const probe = h('div', { class: 'learn-probe', style: `width:${width}px` }, div);
  document.body.append(probe);
  const height = Math.ceil(div.getBoundingClientRect().height) + 2;
  probe.remove();
  div.remove();
  return { el: s('foreignObject', { class: 'learn', x, y, width, height }, div), height };
}

function markers() {
  return s('defs', null, ['syn', 'fin', 'rst', 'data', 'ack'].map((k) =>
    s('marker', { id: `lad-arrow-${k}`, class: `mk-${k}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z' })),
  ));
}

/**
 * model: buildLadder() output; conn: the Connection; opts: { absolute, width, onToggleRun(key) }.
 * Returns the SVG element.
 */
export function renderLadder(model, conn, opts) {
  const width = Math.max(600, opts.width);
  const xC = TIME_W + LABEL_W;
  const xS = width - LABEL_W;
  const mid = (xC + xS) / 2;
  const parts = [];
  const pills = [];
  let y = HEAD_H;

  const stateAt = (side, list, yAt, at) => {
    list.forEach((st, k) => {
      const yy = yAt + k * PILL_GAP;
      const x = side === 'client' ? xC - 8 : xS + 8;
      pills.push(s('circle', { class: 'ldot', cx: side === 'client' ? xC : xS, cy: yy, r: 3.5 }));
      pills.push(pill(x, yy, st.to, side, side === 'client' ? 'end' : 'start', { 'data-at': at, 'data-from': st.from }));
    });
    return list.length ? yAt + (list.length - 1) * PILL_GAP : yAt;
  };

  const addLearn = (step, yAt) => {
    const list = opts.learn?.(step);
    if (!list?.length) return yAt;
    const block = learnBlock(list, xC + 14, yAt - 4, xS - xC - 28);
    parts.push(block.el);
    return yAt + block.height + 6;
  };

  for (const step of model.steps) {
    if (step.kind === 'seg') {
      const seg = step.seg;
      const fromX = seg.from === 'client' ? xC : xS;
      const toX = seg.from === 'client' ? xS : xC;
      const y0 = y + 16;
      const y1 = y0 + SLANT;
      const kind = arrowKind(seg);
      const hasAck = seg.flags.includes('A');
      const seqShown = opts.absolute ? seg.seq : seg.relSeq;
      const ackShown = opts.absolute ? seg.ack : seg.relAck;
      const name = flagNames(seg.flags);
      let label = `${name} seq=${seqShown}`;
      if (hasAck) label += ` ack=${ackShown}`;
      if (seg.len > 0) label += ` len=${seg.len}`;
      const tip = [
        `${name} from ${seg.from}`,
        `seq ${seg.seq} (relative ${seg.relSeq})`,
        hasAck ? `ack ${seg.ack} (relative ${seg.relAck})` : 'no ACK flag',
        `len ${seg.len}, window ${seg.win}`,
        isoTime(seg.ts),
      ].join('\n');
      const my = (y0 + y1) / 2;
      const sendStates = step.states.filter((st) => st.at === 'send');
      const recvStates = step.states.filter((st) => st.at === 'recv');
      const clientStates = seg.from === 'client' ? sendStates : recvStates;
      const serverStates = seg.from === 'client' ? recvStates : sendStates;
      const lastC = stateAt('client', clientStates, seg.from === 'client' ? y0 : y1, seg.from === 'client' ? 'send' : 'recv');
      const lastS = stateAt('server', serverStates, seg.from === 'server' ? y0 : y1, seg.from === 'server' ? 'send' : 'recv');
      parts.push(s('g', {
        class: `seg k-${kind}`, 'data-from': seg.from, 'data-flags': seg.flags, 'data-seq': seg.seq, 'data-ack': seg.ack,
        'data-rel-seq': seg.relSeq, 'data-rel-ack': seg.relAck, 'data-len': seg.len, 'data-index': step.index,
      },
        title(tip),
        s('text', { class: 'ltime', x: 6, y: y0 + 4, text: relTime(seg.ts - model.t0) }),
        s('line', { class: 'hit', x1: fromX, y1: y0, x2: toX, y2: y1 }),
        s('line', { class: 'arrow', x1: fromX, y1: y0, x2: toX, y2: y1, 'marker-end': `url(#lad-arrow-${kind})` }),
        s('text', { class: 'lbl', x: mid, y: my - 7, 'text-anchor': 'middle', text: label }),
        s('text', { class: 'sub', x: mid, y: my + 15, 'text-anchor': 'middle', text: windowText(seg, conn) }),
      ));
      if (step.runKey) {
        parts.push(s('text', {
          class: 'run-toggle', x: 6, y: y0 + 18, tabindex: 0, role: 'button', 'aria-label': 'Collapse this data run',
          'data-run': step.runKey, text: '▴ collapse',
        }));
      }
      y = Math.max(y + SEG_H, Math.max(lastC, lastS) + 16);
      y = addLearn(step, y);
    } else if (step.kind === 'summary') {
      const h = 40;
      const side = (who, arrow) => {
        const n = step.packets[who];
        if (!n) return null;
        return `${int(n)} ${arrow} ${step.bytes[who] ? bytes(step.bytes[who]) : 'ACKs'}`;
      };
      const text = `… ${[`${int(step.count)} data segments`, side('client', '→'), side('server', '←')].filter(Boolean).join(' · ')} …`;
      parts.push(s('g', { class: 'summary', tabindex: 0, role: 'button', 'data-run': step.key, 'aria-label': `${text} Expand.` },
        title(`${int(step.packets.client)} from client, ${int(step.packets.server)} from server over ${((step.t1 - step.t0)).toFixed(3)} ms — click to expand`),
        s('rect', { x: xC + 14, y: y + 6, width: xS - xC - 28, height: h - 12, rx: 6 }),
        s('text', { x: mid, y: y + h / 2 + 4, 'text-anchor': 'middle', text }),
        s('text', { class: 'ltime', x: 6, y: y + h / 2 + 4, text: relTime(step.t0 - model.t0) }),
      ));
      y += h;
    } else if (step.kind === 'omitted') {
      const h = 36;
      const zig = (x) => `M${x - 8},${y + 8} l16,6 l-16,6 l16,6`;
      parts.push(s('g', { class: 'omitted' },
        s('rect', { class: 'gap', x: xC - 12, y: y + 6, width: xS - xC + 24, height: h - 12 }),
        s('path', { d: zig(xC) }), s('path', { d: zig(xS) }),
        s('text', { x: mid, y: y + h / 2 + 4, 'text-anchor': 'middle', text: `⋯ ${int(step.count)} segments not kept by the server ⋯` }),
      ));
      y += h;
    } else if (step.kind === 'note') {
      const yy = y + 16;
      const c = step.states.filter((st) => st.side === 'client');
      const sv = step.states.filter((st) => st.side === 'server');
      const lastC = stateAt('client', c, yy, 'timer');
      const lastS = stateAt('server', sv, yy, 'timer');
      const dt = step.ts - model.t0;
      parts.push(s('g', { class: 'note' },
        s('line', { x1: xC, y1: yy, x2: xS, y2: yy }),
        s('text', { x: mid, y: yy - 5, 'text-anchor': 'middle', text: step.timer ? 'timer (no packet)' : 'segment not kept' }),
        s('text', { class: 'ltime', x: 6, y: yy + 4, text: relTime(dt) }),
      ));
      y = Math.max(y + 34, Math.max(lastC, lastS) + 16);
      y = addLearn(step, y);
    }
  }
  const height = y + 16;

  const head = s('g', { class: 'lhead' },
    s('text', { class: 'who', x: xC, y: 16, 'text-anchor': 'middle', text: who('client', conn.client) }, title(ownerTitle(conn.client.process, conn.client.processReason) || 'owner not known')),
    s('text', { class: 'addr', x: xC, y: 32, 'text-anchor': 'middle', text: endpoint(conn.client) }),
    s('text', { class: 'who', x: xS, y: 16, 'text-anchor': 'middle', text: who('server', conn.server) }, title(ownerTitle(conn.server.process, conn.server.processReason) || 'owner not known')),
    s('text', { class: 'addr', x: xS, y: 32, 'text-anchor': 'middle', text: endpoint(conn.server) }),
    s('text', { class: 'ltime head', x: 6, y: 32, text: 'time' }),
    pill(xC, 52, model.initial.client, 'client', 'middle', { 'data-at': 'initial' }),
    pill(xS, 52, model.initial.server, 'server', 'middle', { 'data-at': 'initial' }),
  );

  const svg = s('svg', {
    // A group, not an image: the summary steps inside are buttons.
    class: 'ladder-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-roledescription': 'ladder diagram',
    'aria-label': `Ladder diagram of ${endpoint(conn.client)} to ${endpoint(conn.server)}`,
  },
    markers(),
    s('line', { class: 'lifeline', x1: xC, y1: 62, x2: xC, y2: height - 6 }),
    s('line', { class: 'lifeline', x1: xS, y1: 62, x2: xS, y2: height - 6 }),
    head, parts, pills,
  );
  const toggle = (el) => el && opts.onToggleRun(el.dataset.run);
  svg.addEventListener('click', (e) => toggle(e.target.closest('[data-run]')));
  svg.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const el = e.target.closest('[data-run]');
    if (el) { e.preventDefault(); toggle(el); }
  });
  return svg;
}
