// The learn view's words: each state change of a connection explained by the table cell that made
// it, with the connection's real numbers. The texts come from GET /api/transitions, which the
// server builds from the tracker's own transition table, so they cannot drift from the states shown.
// No DOM here.

/** Numbers grouped by three with no-break spaces: 2 384 117 012. */
export function groupDigits(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
}

const GENERIC = {
  side: 'this endpoint', Side: 'This endpoint', peer: 'the peer', Peer: 'The peer', sideN: 'own', peerN: 'peer',
};

/**
 * Fills a template: {name} takes vars[name]; a [bracketed part] is dropped when any value in it is
 * unknown. Without vars, the general text the state diagram shows.
 */
export function fill(template, vars = {}) {
  const value = (name) => {
    const v = vars[name] ?? GENERIC[name];
    if (v == null) return null;
    return typeof v === 'number' ? groupDigits(v) : String(v);
  };
  const opt = template.replace(/\[([^\]]*)\]/g, (_, inner) => {
    let ok = true;
    const out = inner.replace(/\{(\w+)\}/g, (__, k) => {
      const v = value(k);
      if (v == null) ok = false;
      return v ?? '';
    });
    return ok ? out : '';
  });
  return opt.replace(/\{(\w+)\}/g, (_, k) => value(k) ?? '').replace(/ {2,}/g, ' ').replace(/ ([.,;:)])/g, '$1');
}

const OTHER = { client: 'server', server: 'client' };

/** Facts read once per connection: ISNs, each side's first FIN and where it is in the ladder. */
export function connectionFacts(detail) {
  const segs = detail.segments ?? [];
  const isn = { client: null, server: null };
  const fin = { client: null, server: null };
  segs.forEach((x, i) => {
    if (x.flags.includes('S') && isn[x.from] == null) isn[x.from] = x.seq;
    if (x.flags.includes('F') && fin[x.from] == null) fin[x.from] = { seq: (x.seq + x.len) >>> 0, index: i };
  });
  return { segs, isn, fin, detail };
}

function afterFin(facts, finSide) {
  const f = facts.fin[finSide];
  if (!f) return 0;
  let n = 0;
  for (let i = f.index + 1; i < facts.segs.length; i++) {
    const x = facts.segs[i];
    if (x.from === OTHER[finSide]) n += x.len;
  }
  return n;
}

/** Whether side's FIN (at ladder index i) carried the first acknowledgement of its peer's FIN. */
function finRidesOnAck(facts, side, i) {
  const pf = facts.fin[OTHER[side]];
  if (!pf) return null;
  const want = (pf.seq + 1) >>> 0;
  for (let k = pf.index + 1; k <= i && k < facts.segs.length; k++) {
    const x = facts.segs[k];
    if (x.from === side && x.flags.includes('A') && ((x.ack - want) | 0) >= 0) return k === i;
  }
  return null;
}

/** Whether a segment with these flags can be of the table's segment class. */
function fits(cls, flags) {
  if (flags == null) return true;
  const has = (f) => flags.includes(f);
  switch (cls) {
    case 'SYN': return has('S') && !has('A');
    case 'SYNACK': return has('S') && has('A');
    case 'FIN': return has('F');
    case 'RST': return has('R');
    default: return has('A'); // ACK, ACK_SYN, ACK_FIN
  }
}

function findCell(doc, role, from, to, flags) {
  const found = doc.cells.filter((c) => c.role === role && c.from === from && c.to === to && fits(c.class, flags));
  if (found.length <= 1) return found[0] ?? null;
  const rst = (flags ?? '').includes('R');
  return found.find((c) => (c.class === 'RST') === rst) ?? found[0];
}

/**
 * The table cell (or the named exception) behind one state change.
 * st: { side, from, to, at: 'send'|'recv'|'timer'|null }, seg: the causing segment when kept.
 */
export function transitionOf(doc, st, seg) {
  if (st.at === 'timer') {
    const name = st.from === 'TIME_WAIT' && st.to === 'CLOSED' ? 'time-wait-expired' : 'timed-out';
    return { kind: 'exception', entry: doc.exceptions.find((e) => e.name === name) };
  }
  const roles = st.at === 'send' ? ['sender'] : st.at === 'recv' ? ['receiver'] : ['sender', 'receiver'];
  for (const role of roles) {
    const cell = findCell(doc, role, st.from, st.to, seg?.flags);
    if (cell) return { kind: 'cell', entry: cell };
  }
  if (st.from === 'SYN_SENT' && st.to === 'SYN_RECEIVED') {
    return { kind: 'exception', entry: doc.exceptions.find((e) => e.name === 'simultaneous-open') };
  }
  return null;
}

/** A stable name for what explained a change: 'receiver ACK_SYN SYN_SENT' or 'time-wait-expired'. */
export function transitionKey(t) {
  return t.kind === 'cell' ? `${t.entry.role} ${t.entry.class} ${t.entry.from}` : t.entry.name;
}

/**
 * One state change explained with the connection's numbers:
 * { key, side, from, to, text, cases: [name], caseTexts: [text] } or null when nothing explains it.
 * index: the causing segment's place in detail.segments (-1 when not kept).
 */
export function explainChange(doc, facts, st, seg, index) {
  const t = transitionOf(doc, st, seg);
  if (!t || !t.entry) return null;
  const side = st.side;
  const peer = OTHER[side];
  const e = t.entry;
  const vars = {
    side: `the ${side}`, Side: `The ${side}`, peer: `the ${peer}`, Peer: `The ${peer}`, sideN: side, peerN: peer,
    isn: facts.isn[side], peerIsn: facts.isn[peer], ownFin: facts.fin[side]?.seq,
    port: facts.detail[side]?.port, msl2: doc.mslS != null ? doc.mslS * 2 : null,
  };
  if (seg) {
    vars.seq = seg.seq;
    vars.ack = seg.flags.includes('A') ? seg.ack : null;
    vars.len = seg.len;
    if (seg.flags.includes('F')) {
      vars.finSeq = (seg.seq + seg.len) >>> 0;
      vars.finAck = (vars.finSeq + 1) >>> 0;
    }
  }
  const cases = [];
  if (t.kind === 'cell' && e.cases) {
    const finSide = e.role === 'sender' ? side : peer;
    if (e.cases['half-close'] && afterFin(facts, finSide) > 0) {
      vars.after = afterFin(facts, finSide);
      cases.push('half-close');
    }
    if (e.cases['three-segment-close'] && seg && index >= 0) {
      const rides = finRidesOnAck(facts, side, index);
      if (rides === true) cases.push('three-segment-close');
      else if (rides === false) cases.push('four-segment-close');
    }
  }
  return {
    key: transitionKey(t), side, from: st.from, to: st.to,
    text: fill(e.text, vars),
    cases,
    caseTexts: cases.map((c) => fill(e.cases[c], vars)),
  };
}

/**
 * Explanations for a ladder model's steps (ladder-model.js), as Map(step → [explanation]).
 */
export function explainLadder(doc, detail, model) {
  const facts = connectionFacts(detail);
  const out = new Map();
  for (const step of model.steps) {
    if (step.kind !== 'seg' && step.kind !== 'note') continue;
    const list = [];
    for (const st of step.states) {
      const at = step.kind === 'seg' ? st.at : step.timer ? 'timer' : null;
      const x = explainChange(doc, facts, { ...st, at }, step.kind === 'seg' ? step.seg : null, step.kind === 'seg' ? step.index : -1);
      if (x) list.push(x);
    }
    if (list.length) out.set(step, list);
  }
  return out;
}

function sameSegment(seg, ev) {
  return seg.ts === ev.ts && seg.seq === ev.cause.seq && seg.ack === ev.cause.ack;
}

/** Each state event of a connection with its explanation (for the state diagram's trails). */
export function explainEvents(doc, detail) {
  const facts = connectionFacts(detail);
  const out = [];
  for (const ev of detail.events ?? []) {
    if (ev.type !== 'state') continue;
    let index = -1;
    if (ev.cause) index = facts.segs.findIndex((x) => sameSegment(x, ev));
    const seg = index >= 0 ? facts.segs[index] : null;
    const at = ev.cause == null ? 'timer' : seg ? (seg.from === ev.side ? 'send' : 'recv') : null;
    out.push({ event: ev, explanation: explainChange(doc, facts, { side: ev.side, from: ev.from, to: ev.to, at }, seg, index) });
  }
  return out;
}

/** The general explanations of a state diagram edge: every cell and exception from → to. */
export function edgeExplanations(doc, from, to) {
  const out = [];
  const vars = { msl2: doc.mslS != null ? doc.mslS * 2 : null };
  for (const c of doc.cells) {
    if (c.from === from && c.to === to) out.push({ key: `${c.role} ${c.class} ${c.from}`, role: c.role, text: fill(c.text, vars) });
  }
  for (const e of doc.exceptions) {
    if (e.from === from && e.to === to) {
      out.push({ key: e.name, role: e.cause, text: fill(e.text, vars) });
    }
  }
  return out;
}
