// Every cell of the transition table, through the only path: real segments bring an endpoint to
// the cell's from-state, then one segment of the cell's class goes to or comes from it, and the
// endpoint must end in the state RFC 9293 names for that cell (RFC below, written from the RFC,
// not from the table), or stay. The cells are enumerated from the table, so a changed cell fails
// its own test; the few no real segment reaches are listed in unreached(), each with the reason,
// and are compared with the RFC directly.
import { describe, expect, it } from 'vitest';
import { Tracker } from '../../src/track/tracker';
import { TCP_STATES, type TcpState } from '../../src/track/states';
import { IGNORE, INVALID, ROLE_NAMES, SEGMENT_CLASSES, nextState } from '../../src/track/transitions';
import { Conversation, feed, type SegSpec } from '../support/segments';
import { CLIENT, SERVER } from './helpers';

type Side = 0 | 1;

/**
 * What each cell does by RFC 9293 §3.3.2 / §3.10 (and Linux where the RFC leaves a choice); a
 * cell not named leaves the state as it is.
 */
const RFC: Record<string, TcpState> = {
  'sender SYN CLOSED': 'SYN_SENT', // active OPEN
  'sender SYN LISTEN': 'SYN_SENT', // SEND in LISTEN
  'sender SYNACK LISTEN': 'SYN_RECEIVED', // a listener answers a SYN
  'sender SYNACK SYN_SENT': 'SYN_RECEIVED', // simultaneous open
  'sender FIN SYN_RECEIVED': 'FIN_WAIT_1', // CLOSE before the handshake's last ACK
  'sender FIN ESTABLISHED': 'FIN_WAIT_1',
  'sender FIN CLOSE_WAIT': 'LAST_ACK',
  'receiver SYN SYN_SENT': 'SYN_RECEIVED', // simultaneous open
  'receiver FIN SYN_RECEIVED': 'CLOSE_WAIT',
  'receiver FIN ESTABLISHED': 'CLOSE_WAIT',
  'receiver FIN FIN_WAIT_1': 'CLOSING', // its own FIN not yet acknowledged
  'receiver FIN FIN_WAIT_2': 'TIME_WAIT',
  'receiver ACK_SYN SYN_SENT': 'ESTABLISHED',
  'receiver ACK_SYN SYN_RECEIVED': 'ESTABLISHED',
  'receiver ACK_FIN FIN_WAIT_1': 'FIN_WAIT_2',
  'receiver ACK_FIN CLOSING': 'TIME_WAIT',
  'receiver ACK_FIN LAST_ACK': 'CLOSED',
};
// A RST closes its sender in any state it can send from, and its receiver in any synchronized or
// SYN state; a listener ignores one (§3.10.7.2); TIME_WAIT honours one (Linux, tcp_rfc1337=0).
for (const st of TCP_STATES) {
  if (st === 'CLOSED') continue;
  RFC[`sender RST ${st}`] = 'CLOSED';
  if (st !== 'LISTEN') RFC[`receiver RST ${st}`] = 'CLOSED';
}
const rfc = (role: string, cls: string, from: TcpState): TcpState => RFC[`${role} ${cls} ${from}`] ?? from;
interface Setup {
  /** the endpoint whose cell is tested (0 client, 1 server) */
  e: Side;
  /** its ISN as the tracker knows it (default: the one the conversation started with) */
  isn?: number;
  steps: (c: Conversation) => SegSpec[];
}

const hs = (c: Conversation): SegSpec[] => [c.c('S'), c.s('SA'), c.c('A')];

/** Segments that bring endpoint `e` to each state, with no FIN of the peer waiting to be received by it. */
const SETUPS: Record<TcpState, Setup> = {
  CLOSED: { e: 1, steps: (c) => [...hs(c), c.c('RA')] },
  LISTEN: { e: 1, steps: (c) => [c.c('S')] },
  SYN_SENT: { e: 0, steps: (c) => [c.c('S')] },
  SYN_RECEIVED: { e: 1, steps: (c) => [c.c('S'), c.s('SA')] },
  ESTABLISHED: { e: 1, steps: (c) => hs(c) },
  FIN_WAIT_1: { e: 1, steps: (c) => [...hs(c), c.s('FA')] },
  FIN_WAIT_2: { e: 1, steps: (c) => [...hs(c), c.s('FA'), c.c('A')] },
  CLOSE_WAIT: { e: 1, steps: (c) => [...hs(c), c.c('FA'), c.s('A')] },
  // the server sends its FIN before the client's reaches it (its ACK does not cover it)
  CLOSING: { e: 1, steps: (c) => [...hs(c), c.c('FA'), c.s('FA', { ack: c.next[0] - 1 })] },
  LAST_ACK: { e: 1, steps: (c) => [...hs(c), c.c('FA'), c.s('A'), c.s('FA')] },
  TIME_WAIT: { e: 1, steps: (c) => [...hs(c), c.s('FA'), c.c('A'), c.c('FA'), c.s('A')] },
};

/**
 * A listener that sends a plain SYN opens actively (RFC 9293: SEND in LISTEN), unless its peer is
 * in SYN_SENT (then it is a simultaneous open, an exception): here the client gave up with a RST,
 * which numbered the server from its ACK (ISN 4999).
 */
const LISTEN_PEER_CLOSED: Setup = { e: 1, isn: 4999, steps: (c) => [c.c('S'), c.c('RA')] };

function setupFor(role: string, cls: string, from: TcpState): Setup {
  return role === 'sender' && cls === 'SYN' && from === 'LISTEN' ? LISTEN_PEER_CLOSED : SETUPS[from];
}

/**
 * The segment of a class: sent by the endpoint (sender) or by its peer (receiver). A receiver's
 * segment acknowledges one byte less than the endpoint sent, so that its ACK part moves nothing
 * (neither the endpoint's SYN nor its FIN is covered), except for the classes that are that ACK.
 */
function trigger(c: Conversation, setup: Setup, role: string, cls: string): SegSpec {
  const e = setup.e;
  const send = (side: Side, flags: string, o: { seq?: number; ack?: number } = {}): SegSpec =>
    side === 0 ? c.c(flags, o) : c.s(flags, o);
  const p: Side = e === 0 ? 1 : 0;
  const ownIsn = setup.isn ?? (e === 0 ? 1000 : 5000);
  const eNext = c.next[e];
  if (role === 'sender') {
    switch (cls) {
      case 'SYN': return send(e, 'S', { seq: ownIsn }); // its own ISN: the same connection
      case 'SYNACK': return send(e, 'SA', { seq: ownIsn });
      case 'FIN': return send(e, 'FA');
      case 'ACK': return send(e, 'A');
      case 'RST': return send(e, 'RA');
      case 'INVALID': return { ...send(e, 'A'), flags: 'P' };
      default: return send(e, 'A'); // ACK_SYN and ACK_FIN are receiver classes: an ACK
    }
  }
  const isnP = p === 0 ? 1000 : 5000;
  switch (cls) {
    case 'SYN': return send(p, 'S', { seq: isnP });
    case 'SYNACK': return send(p, 'SA', { seq: isnP, ack: eNext - 1 });
    case 'FIN': return send(p, 'FA', { ack: eNext - 1 });
    case 'ACK': return send(p, 'A', { ack: eNext - 1 });
    case 'ACK_SYN':
    case 'ACK_FIN': return send(p, 'A', { ack: eNext });
    case 'RST': return send(p, 'RA', { ack: eNext });
    default: return { ...send(p, 'A', { ack: eNext - 1 }), flags: 'P' };
  }
}

/**
 * Cells no segment reaches, and why: the class is not what a segment in that from-state is (the
 * ACK classes are picked by what the ACK covers), or a named exception answers first.
 */
function unreached(role: string, cls: string, from: TcpState): string | null {
  const sentFin = ['FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'].includes(from);
  if (role === 'receiver') {
    if (cls === 'ACK_SYN' && from !== 'SYN_SENT' && from !== 'SYN_RECEIVED') return 'an ACK is ACK_SYN only while its receiver waits for its SYN to be acknowledged';
    if (cls === 'ACK_FIN' && !sentFin) return 'an ACK is ACK_FIN only when its receiver sent a FIN';
    if (cls === 'FIN' && ['CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'].includes(from)) return 'its receiver got a FIN before, so a FIN is a retransmission (exception)';
    if (cls === 'SYN' && from !== 'SYN_SENT') return "a plain SYN from a peer that sent its SYN already is a retransmission (exception), with another ISN a new connection";
    return null;
  }
  if (cls === 'ACK_SYN' || cls === 'ACK_FIN') return 'a receiver class';
  if (cls === 'SYN' && from === 'SYN_SENT') return 'exception: a retransmitted SYN moves nothing';
  if (cls === 'FIN' && sentFin) return 'exception: a retransmitted FIN moves nothing';
  if (cls === 'RST' && from === 'LISTEN') return 'exception: refused (no socket ever listened)';
  return null;
}

/** The endpoint's state after its setup and the trigger (pending FIN receptions settled). */
function stateAfter(setup: Setup, role: string, cls: string): { before: string; after: string; connections: number } {
  const t = new Tracker();
  const c = new Conversation(CLIENT, SERVER, 1000, 5000);
  const last = feed(t, setup.steps(c));
  const side = setup.e === 0 ? 'client' : 'server';
  const before = t.list()[0][side].state;
  const end = feed(t, [trigger(c, setup, role, cls)], last + 1);
  t.expire(end);
  return { before, after: t.list()[0][side].state, connections: t.list().length };
}

const CELLS = ROLE_NAMES.flatMap((role, r) =>
  SEGMENT_CLASSES.flatMap((cls, k) => TCP_STATES.map((from, s) => ({ role, cls, from, next: nextState(r, k, s) }))),
);

describe('each cell of the table, through the only path', () => {
  const reached = CELLS.filter((x) => unreached(x.role, x.cls, x.from) === null);

  it.each(reached)('$role $cls in $from', ({ role, cls, from }) => {
    const r = stateAfter(setupFor(role, cls, from), role, cls);
    expect(r.before).toBe(from);
    expect(r.connections).toBe(1);
    expect(r.after).toBe(rfc(role, cls, from));
  });

  it('says what the RFC says in the cells no segment reaches', () => {
    for (const x of CELLS.filter((c) => unreached(c.role, c.cls, c.from) !== null)) {
      const to = x.next === IGNORE || x.next === INVALID ? x.from : TCP_STATES[x.next];
      expect(to, `${x.role} ${x.cls} ${x.from}`).toBe(rfc(x.role, x.cls, x.from));
    }
  });

  it('reaches every cell that changes a state, except the one an exception answers', () => {
    const changing = CELLS.filter((x) => x.next !== IGNORE && x.next !== INVALID && TCP_STATES[x.next] !== x.from);
    const missed = changing.filter((x) => unreached(x.role, x.cls, x.from) !== null).map((x) => `${x.role} ${x.cls} ${x.from}`);
    // (the sender's LISTEN → CLOSED on a RST says what the refused exception does, without an event)
    expect(missed).toEqual(['sender RST LISTEN']);
    expect(stateAfter(SETUPS.LISTEN, 'sender', 'RST').after).toBe('CLOSED');
  });

  it('holds an INVALID row for each role and nothing else INVALID', () => {
    for (const x of CELLS) expect(x.next === INVALID, `${x.role} ${x.cls} ${x.from}`).toBe(x.cls === 'INVALID');
  });

  it('answers IGNORE and INVALID with values above every state (Conns.apply tells them from states by that alone)', () => {
    expect(Math.min(IGNORE, INVALID)).toBeGreaterThanOrEqual(TCP_STATES.length);
    for (const x of CELLS) if (x.next !== IGNORE && x.next !== INVALID) expect(x.next).toBeLessThan(TCP_STATES.length);
  });
});
