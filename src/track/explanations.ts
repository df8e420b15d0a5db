import { TCP_STATES, type TcpState } from './states';
import { S } from './states';
import { CL, IGNORE, INVALID, nextState, ROLE, ROLE_NAMES, SEGMENT_CLASSES as CLASS_NAMES } from './transitions';

/**
 * What each transition of the table in transitions.ts means, in words a student of TCP can read
 * beside the real segments. Every explanation is keyed by its table cell (role, segment class,
 * from-state) and the target state is read from the table itself, so an explanation can never name
 * a transition the tracker does not make. The few transitions machine.ts, identity.ts and expiry.ts make outside the table
 * (timers, simultaneous open) are explained under their own names.
 *
 * Texts are templates the dashboard fills in with the real connection's numbers:
 *   {side} {Side} {peer} {Peer}  'the client' / 'the server' (or 'this endpoint' / 'the peer')
 *   {sideN} {peerN}              'client' / 'server' (or 'own' / "peer's")
 *   {seq} {ack} {len}            the segment that caused the change
 *   {isn} {peerIsn}              the endpoint's own and its peer's initial sequence numbers
 *   {finSeq} {finAck}            the sequence number the segment's FIN takes, and that plus one
 *   {ownFin}                     the sequence number of the endpoint's own FIN
 *   {after}                      bytes sent in the open direction after the FIN
 *   {port}                       the endpoint's port
 *   {msl2}                       2×MSL in seconds
 * A part in [brackets] is left out when a value in it is unknown (or on the state diagram, which
 * explains the transition in general).
 */

export type RoleName = (typeof ROLE_NAMES)[number];

/** The names of the segment classes (CL in transitions.ts), by their value. */
export const SEGMENT_CLASSES: readonly string[] = CLASS_NAMES;

/** Situations an explanation says more about; the dashboard decides which apply to a connection. */
export const EXPLANATION_CASES = ['three-segment-close', 'four-segment-close', 'half-close'] as const;
export type ExplanationCase = (typeof EXPLANATION_CASES)[number];

export const TEMPLATE_VARS = [
  'side', 'Side', 'peer', 'Peer', 'sideN', 'peerN', 'seq', 'ack', 'len', 'isn', 'peerIsn',
  'finSeq', 'finAck', 'ownFin', 'after', 'port', 'msl2',
] as const;

/** Transitions machine.ts, identity.ts and expiry.ts make outside the table. */
export const EXCEPTION_NAMES = ['time-wait-expired', 'timed-out', 'simultaneous-open'] as const;
export type ExceptionName = (typeof EXCEPTION_NAMES)[number];

interface Text {
  text: string;
  cases?: Partial<Record<ExplanationCase, string>>;
}
/** Explanations by role, class and the from-states they cover. */
interface Entry extends Text {
  role: RoleName;
  cls: string;
  from: readonly TcpState[];
}

const ABORT_FROM: readonly TcpState[] = [
  'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
];

const HALF_CLOSE =
  'Half-close: after this FIN data still flowed the other way[ ({after} bytes)]. A FIN closes only its sender\'s direction; ' +
  'the other side may keep sending until it closes too (what shutdown(SHUT_WR) is for).';

// prettier-ignore
const ENTRIES: readonly Entry[] = [
  // ---- what sending a segment does to its sender
  { role: 'sender', cls: 'SYN', from: ['CLOSED'],
    text: '{Side} opens the connection: it sends a SYN carrying its initial sequence number[ (ISN {seq})], picked at random so that segments of an older connection on the same ports cannot pass for this one\'s. {Side} is now SYN_SENT, waiting for the answer.' },
  { role: 'sender', cls: 'SYN', from: ['LISTEN'],
    text: '{Side}, a listening socket, opens a connection itself by sending a SYN[ (ISN {seq})], which RFC 9293 allows; it is now SYN_SENT.' },
  { role: 'sender', cls: 'SYNACK', from: ['LISTEN'],
    text: '{Side} answers with a SYN of its own[, ISN {seq},] and acknowledges {peer}\'s SYN: ack = {peerN} ISN[ {peerIsn}] + 1. A SYN takes up one sequence number, so its acknowledgement is the ISN plus one. {Side} is now SYN_RECEIVED, waiting for the handshake\'s last ACK.' },
  { role: 'sender', cls: 'SYNACK', from: ['SYN_SENT'],
    text: '{Side} had sent its SYN and received {peer}\'s SYN instead of an answer: both opened at once (simultaneous open). It answers with SYN+ACK[, ack = {peerN} ISN {peerIsn} + 1,] and is now SYN_RECEIVED.' },
  { role: 'sender', cls: 'FIN', from: ['SYN_RECEIVED'],
    text: '{Side} closes before the handshake\'s last ACK arrived: it sends a FIN[ (seq {finSeq})] and is now FIN_WAIT_1.' },
  { role: 'sender', cls: 'FIN', from: ['ESTABLISHED'],
    text: '{Side} closes first (its application called close() or shutdown()): the FIN[ at seq {finSeq}] says it will send nothing more, and takes up one sequence number. {Side} is now FIN_WAIT_1, waiting for the FIN to be acknowledged; {peer} may still send, since each direction closes on its own.',
    cases: { 'half-close': HALF_CLOSE } },
  { role: 'sender', cls: 'FIN', from: ['CLOSE_WAIT'],
    text: '{Side} closes its direction too: its FIN[ (seq {finSeq})] answers {peer}\'s, and {side} is now LAST_ACK, waiting only for the ACK of this FIN.',
    cases: {
      'three-segment-close': 'The FIN rides on the ACK of {peer}\'s FIN (the application closed at once), so this close takes three segments — FIN, FIN+ACK, ACK — instead of four.',
      'four-segment-close': 'The ACK of {peer}\'s FIN went out on its own before this FIN, so this close takes four segments — FIN, ACK, FIN, ACK: each direction is closed and acknowledged separately.',
    } },
  { role: 'sender', cls: 'RST', from: ['LISTEN'],
    text: 'Nothing listens on port[ {port}]: the kernel answers the SYN with a RST that acknowledges it, and the connection is refused. No socket ever existed on this side, so tcpscope shows it CLOSED all along.' },
  { role: 'sender', cls: 'RST', from: ['SYN_SENT'],
    text: '{Side} gives up its own connection attempt with a RST and is CLOSED.' },
  { role: 'sender', cls: 'RST', from: ABORT_FROM,
    text: '{Side} aborts the connection with a RST[ (seq {seq})]: unlike a FIN nothing is acknowledged and nothing waits; data not yet delivered is thrown away and {side} goes straight to CLOSED. An application that closes with unread data, or with SO_LINGER set to zero, does this.' },
  // ---- what receiving a segment does to its receiver
  { role: 'receiver', cls: 'SYN', from: ['SYN_SENT'],
    text: '{Side} waits for a SYN+ACK but receives a plain SYN: {peer} opened at the same time (simultaneous open). {Side} answers with SYN+ACK and is SYN_RECEIVED.' },
  { role: 'receiver', cls: 'FIN', from: ['SYN_RECEIVED'],
    text: '{Side} receives a FIN before the handshake completed: {peer} has nothing more to send. {Side} is CLOSE_WAIT.' },
  { role: 'receiver', cls: 'FIN', from: ['ESTABLISHED'],
    text: '{Side} receives {peer}\'s FIN[ (seq {finSeq})] and acknowledges it with ack = FIN seq + 1[ = {finAck}], since a FIN takes up one sequence number like a SYN. {Side} is CLOSE_WAIT: {peer} will send nothing more, but {side} may still send until its application closes too.',
    cases: { 'half-close': HALF_CLOSE } },
  { role: 'receiver', cls: 'FIN', from: ['FIN_WAIT_1'],
    text: 'Simultaneous close: {side} sent its FIN and, before it was acknowledged, receives {peer}\'s FIN[ (seq {finSeq})]. Both closed at once; {side} acknowledges it and is CLOSING, waiting for the ACK of its own FIN.' },
  { role: 'receiver', cls: 'FIN', from: ['FIN_WAIT_2'],
    text: '{Peer}\'s FIN[ (seq {finSeq})] arrives after {side}\'s own FIN was acknowledged: both directions are closed. {Side} sends the last ACK[ (ack {finAck})] and waits in TIME_WAIT for 2×MSL[ ({msl2} s)]: it closed first, so it is the side that waits. TIME_WAIT keeps the 4-tuple reserved so that a delayed segment of this connection cannot be taken for part of a new one on the same ports, and lets {side} send the last ACK again should {peer}\'s FIN come again because that ACK was lost.' },
  { role: 'receiver', cls: 'ACK_SYN', from: ['SYN_SENT'],
    text: '{Side} receives the SYN+ACK: {peer} acknowledges {side}\'s SYN with ack = {sideN} ISN[ {isn}] + 1[ = {ack}], and its own SYN carries its ISN[ {seq}]. {Side} is ESTABLISHED; its ACK of that SYN completes the three-way handshake.' },
  { role: 'receiver', cls: 'ACK_SYN', from: ['SYN_RECEIVED'],
    text: 'The handshake\'s last ACK arrives: ack = {sideN} ISN[ {isn}] + 1[ = {ack}]. Each side now knows the other\'s initial sequence number and that its own was received; {side} is ESTABLISHED and data can flow both ways.' },
  { role: 'receiver', cls: 'ACK_FIN', from: ['FIN_WAIT_1'],
    text: '{Peer} acknowledges {side}\'s FIN: ack = FIN seq[ {ownFin}] + 1. {Side} is FIN_WAIT_2: its own direction is closed and it waits for {peer}\'s FIN; {peer} may still send data until then.' },
  { role: 'receiver', cls: 'ACK_FIN', from: ['CLOSING'],
    text: 'The ACK of {side}\'s FIN[ (ack {ack})] arrives after the simultaneous close: {side} waits in TIME_WAIT for 2×MSL[ ({msl2} s)]. Both sides closed first, so both wait, each keeping the 4-tuple from being reused while old segments may still be in flight.' },
  { role: 'receiver', cls: 'ACK_FIN', from: ['LAST_ACK'],
    text: '{Peer} acknowledges {side}\'s FIN[ (ack = {ownFin} + 1)]: the connection is closed for {side}, which goes straight to CLOSED. It closed second, so it does not wait in TIME_WAIT; {peer} does.' },
  { role: 'receiver', cls: 'RST', from: ['SYN_SENT'],
    text: 'Connection refused: {side}\'s SYN is answered with a RST that acknowledges it[ (ack = ISN {isn} + 1)], which is how a kernel says that nothing listens on that port. {Side} is CLOSED at once and connect() fails with ECONNREFUSED.' },
  { role: 'receiver', cls: 'RST', from: ABORT_FROM,
    text: '{Peer} reset the connection: a RST[ (seq {seq})] inside {side}\'s receive window is accepted at once. {Side} goes straight to CLOSED, with no FIN exchange and no TIME_WAIT; the next read or write on the socket fails with ECONNRESET.' },
];

const EXCEPTION_TEXT: Record<ExceptionName, { from: TcpState | '*'; to: TcpState; cause: 'timer' | 'segment'; text: string }> = {
  'time-wait-expired': {
    from: 'TIME_WAIT', to: 'CLOSED', cause: 'timer',
    text: '2×MSL[ ({msl2} s)] passed in TIME_WAIT: no old segment of this connection can still be in flight, so the 4-tuple is free again and {side} is CLOSED. A new SYN on the same ports ends TIME_WAIT early, as Linux allows.',
  },
  'timed-out': {
    from: '*', to: 'CLOSED', cause: 'timer',
    text: 'No segment came for this state\'s idle timeout (as Linux conntrack counts them), or a new connection took over the same ports: {side} is taken as CLOSED.',
  },
  'simultaneous-open': {
    from: 'SYN_SENT', to: 'SYN_RECEIVED', cause: 'segment',
    text: '{Side} sent its own SYN with {peer}\'s SYN already in flight: both opened at once (simultaneous open). Receiving that SYN, {side} is SYN_RECEIVED and answers with SYN+ACK.',
  },
};

export interface TransitionCell extends Text {
  role: RoleName;
  class: string;
  from: TcpState;
  to: TcpState;
}
export interface TransitionException extends Text {
  name: ExceptionName;
  from: TcpState | '*';
  to: TcpState;
  cause: 'timer' | 'segment';
}
export interface TransitionsDoc {
  states: readonly TcpState[];
  roles: readonly RoleName[];
  classes: readonly string[];
  cases: readonly ExplanationCase[];
  vars: readonly string[];
  cells: TransitionCell[];
  exceptions: TransitionException[];
  mslS: number;
}

/** Every cell of the table that changes a state, in table order: role, class, from-state. */
export function changingCells(): { role: RoleName; class: string; from: TcpState; to: TcpState }[] {
  const out: { role: RoleName; class: string; from: TcpState; to: TcpState }[] = [];
  for (const role of [ROLE.SENDER, ROLE.RECEIVER]) {
    for (let cls = 0; cls < SEGMENT_CLASSES.length; cls++) {
      for (let st = S.CLOSED; st <= S.TIME_WAIT; st++) {
        const to = nextState(role, cls, st);
        if (to === IGNORE || to === INVALID || to === st) continue;
        out.push({ role: ROLE_NAMES[role], class: SEGMENT_CLASSES[cls], from: TCP_STATES[st], to: TCP_STATES[to] });
      }
    }
  }
  return out;
}

export function cellKey(role: string, cls: string, from: string): string {
  return `${role} ${cls} ${from}`;
}

/** The explanation entries as (role, class, from) keys; a key may appear once only. */
export function explanationKeys(): string[] {
  return ENTRIES.flatMap((e) => e.from.map((f) => cellKey(e.role, e.cls, f)));
}

/**
 * The table's changing cells with their explanations, and the exceptions; built from the tracker's
 * own table, so the two cannot disagree. A cell with no explanation gets an empty text (the test
 * of this module forbids it).
 */
export function transitionsDoc(mslMs: number): TransitionsDoc {
  const byKey = new Map<string, Entry>();
  for (const e of ENTRIES) for (const f of e.from) byKey.set(cellKey(e.role, e.cls, f), e);
  const cells = changingCells().map((c): TransitionCell => {
    const e = byKey.get(cellKey(c.role, c.class, c.from));
    return { ...c, text: e?.text ?? '', ...(e?.cases ? { cases: e.cases } : {}) };
  });
  const exceptions = EXCEPTION_NAMES.map((name): TransitionException => ({ name, ...EXCEPTION_TEXT[name] }));
  return {
    states: TCP_STATES,
    roles: ROLE_NAMES,
    classes: SEGMENT_CLASSES,
    cases: EXPLANATION_CASES,
    vars: TEMPLATE_VARS,
    cells,
    exceptions,
    mslS: mslMs / 1000,
  };
}

/** Every text of an explanation entry, for checks. */
export function allTexts(doc: TransitionsDoc): string[] {
  return [...doc.cells, ...doc.exceptions].flatMap((t) => [t.text, ...Object.values(t.cases ?? {})]);
}
