// Turns a connection's segments and state events into the steps of a ladder diagram. No DOM here.

/** Data runs longer than this collapse into one summary step... */
export const COLLAPSE_OVER = 6;
/** ...keeping this many real segments at each end of the run in view. */
export const KEEP_EDGE = 1;

const CONTROL = /[SFR]/;

function sameSegment(seg, ev) {
  return seg.ts === ev.ts && seg.seq === ev.cause.seq && seg.ack === ev.cause.ack;
}

/** Index of the last segment at or before ts (-1 when ts comes before them all). */
function lastAtOrBefore(segs, ts) {
  let lo = 0;
  let hi = segs.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].ts <= ts) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

/**
 * Where the server's bounded list dropped segments, as Map(index of the segment before the gap →
 * segments missing there). Exact when segments carry their ordinal (`ord`); otherwise one gap at the
 * first forward jump in a side's sequence or acknowledgement numbers, else at the widest pause.
 */
export function omissions(detail) {
  const segs = detail.segments ?? [];
  const out = new Map();
  if (!detail.segmentsOmitted || segs.length === 0) return out;
  if (segs.every((x) => Number.isInteger(x.ord))) {
    for (let i = 0; i + 1 < segs.length; i++) {
      const missing = segs[i + 1].ord - segs[i].ord - 1;
      if (missing > 0) out.set(i, missing);
    }
    if (out.size) return out;
  }
  if (segs.length < 2) {
    out.set(segs.length - 1, detail.segmentsOmitted);
    return out;
  }
  const next = { client: null, server: null };
  for (let i = 0; i < segs.length; i++) {
    const x = segs[i];
    const exp = next[x.from];
    const peer = next[x.from === 'client' ? 'server' : 'client'];
    // Data this side never showed sending, or an ACK of data the other side never showed sending.
    const seqJump = exp !== null && ((x.relSeq - exp) | 0) > 0;
    const ackJump = x.flags.includes('A') && peer !== null && ((x.relAck - peer) | 0) > 0;
    if (i > 0 && (seqJump || ackJump)) {
      out.set(i - 1, detail.segmentsOmitted);
      return out;
    }
    const end = (x.relSeq + x.len + (x.flags.includes('S') ? 1 : 0) + (x.flags.includes('F') ? 1 : 0)) >>> 0;
    if (exp === null || ((end - exp) | 0) > 0) next[x.from] = end;
  }
  let best = 0;
  let gap = -1;
  for (let i = 0; i + 1 < segs.length; i++) {
    const g = segs[i + 1].ts - segs[i].ts;
    if (g > gap) { gap = g; best = i; }
  }
  out.set(best, detail.segmentsOmitted);
  return out;
}

/**
 * Steps, top to bottom:
 *   { kind: 'seg', seg, index, states: [{ side, from, to, at: 'send'|'recv' }] }
 *   { kind: 'summary', key, count, bytes: { client, server }, packets: { client, server }, t0, t1 }
 *   { kind: 'omitted', count }
 *   { kind: 'note', ts, timer, states: [{ side, from, to }] }   state changes no kept segment explains
 * plus the state each lifeline starts in.
 */
export function buildLadder(detail, { expanded = new Set(), collapseOver = COLLAPSE_OVER, keepEdge = KEEP_EDGE } = {}) {
  const segs = detail.segments ?? [];
  const events = (detail.events ?? []).filter((e) => e.type === 'state');
  const onSeg = segs.map(() => []);
  // Notes keyed by the segment index they follow (-1: before the first segment).
  const notes = new Map();

  let p = 0;
  for (const ev of events) {
    let found = -1;
    if (ev.cause) {
      for (let j = p; j < segs.length; j++) {
        if (sameSegment(segs[j], ev)) { found = j; break; }
        if (segs[j].ts > ev.ts) break;
      }
    }
    if (found >= 0) {
      p = found;
      onSeg[found].push({ side: ev.side, from: ev.from, to: ev.to, at: ev.side === segs[found].from ? 'send' : 'recv' });
      continue;
    }
    const after = lastAtOrBefore(segs, ev.ts);
    let note = notes.get(after);
    if (!note || (ev.cause === null) !== note.timer) {
      note = { kind: 'note', ts: ev.ts, timer: ev.cause === null, states: [] };
      notes.set(after, note);
    }
    note.states.push({ side: ev.side, from: ev.from, to: ev.to });
  }

  const cuts = omissions(detail);
  const pinned = segs.map((x, i) =>
    i === 0 || i === segs.length - 1 || cuts.has(i) || cuts.has(i - 1) || CONTROL.test(x.flags) || onSeg[i].length > 0 || notes.has(i),
  );

  const steps = [];
  const pushNote = (i) => { if (notes.has(i)) steps.push(notes.get(i)); };
  pushNote(-1);
  let i = 0;
  while (i < segs.length) {
    if (pinned[i]) {
      steps.push({ kind: 'seg', seg: segs[i], index: i, states: onSeg[i] });
      if (cuts.has(i)) steps.push({ kind: 'omitted', count: cuts.get(i) });
      pushNote(i);
      i++;
      continue;
    }
    let j = i;
    while (j < segs.length && !pinned[j]) j++;
    // segs[i..j) is a run of plain data and ACK segments.
    const key = `${segs[i].ts}:${segs[i].from}:${segs[i].seq}`;
    if (j - i > collapseOver && !expanded.has(key)) {
      for (let k = i; k < i + keepEdge; k++) steps.push({ kind: 'seg', seg: segs[k], index: k, states: [] });
      const mid = segs.slice(i + keepEdge, j - keepEdge);
      const sum = { kind: 'summary', key, count: mid.length, bytes: { client: 0, server: 0 }, packets: { client: 0, server: 0 }, t0: mid[0].ts, t1: mid[mid.length - 1].ts };
      for (const s of mid) { sum.bytes[s.from] += s.len; sum.packets[s.from]++; }
      steps.push(sum);
      for (let k = j - keepEdge; k < j; k++) steps.push({ kind: 'seg', seg: segs[k], index: k, states: [] });
    } else {
      for (let k = i; k < j; k++) steps.push({ kind: 'seg', seg: segs[k], index: k, states: [], runKey: k === i && j - i > collapseOver ? key : undefined });
    }
    i = j;
  }

  const initial = {};
  for (const side of ['client', 'server']) {
    const first = events.find((e) => e.side === side);
    initial[side] = first ? first.from : detail[side]?.state ?? 'CLOSED';
  }
  return { steps, initial, t0: segs.length ? segs[0].ts : detail.startedAt };
}
