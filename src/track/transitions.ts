/**
 * The one RFC 9293 transition table, nf_conntrack style. A segment's flags give its class (the
 * valid-flags table below: combinations no TCP sends are INVALID); the table [role][class][state]
 * gives each endpoint's next state, or IGNORE (no change), or INVALID (the segment moves nothing).
 * The sender's row says what sending the segment does; the receiver's rows are applied ACK part
 * first (ACK_SYN, ACK_FIN: classes picked by the seq/ack checks in machine.ts), then SYN/FIN, then
 * RST. The few exceptions are named in machine.ts and README.md; this file holds only the tables.
 */
import { TcpFlag } from '../decode/segment';
import { AK } from './eventlog';
import { indexOf } from './names';
import { S, TCP_STATES } from './states';

/** The two rows of a segment: what sending it does, what receiving it does. */
export const ROLE_NAMES = ['sender', 'receiver'] as const;
export const ROLE = indexOf(ROLE_NAMES);

/**
 * Segment classes, the table's middle index: SYN without ACK; SYN with ACK; FIN; an ACK that
 * acknowledges nothing special; an acceptable ACK of the receiver's SYN (ISN+1, or more with data
 * on the SYN); an ACK covering the receiver's FIN (≥ FIN seq + 1); a RST accepted by the receiver
 * (in window; in SYN_SENT: acknowledging the SYN); flags no TCP sends together (SYN+FIN, SYN+RST,
 * none of SYN/RST/ACK).
 */
export const SEGMENT_CLASSES = ['SYN', 'SYNACK', 'FIN', 'ACK', 'ACK_SYN', 'ACK_FIN', 'RST', 'INVALID'] as const;
export const CL = indexOf(SEGMENT_CLASSES);
const NCLASSES = SEGMENT_CLASSES.length;

const NSTATES = TCP_STATES.length;

/** Outcome: no change. */
export const IGNORE = 0xff;
/** Outcome: the segment is invalid and moves nothing (its anomaly is raised from FLAG_ANOMALY). */
export const INVALID = 0xfe;

// Short names keep the rows aligned.
const CD = S.CLOSED, SS = S.SYN_SENT, SR = S.SYN_RECEIVED, ES = S.ESTABLISHED;
const F1 = S.FIN_WAIT_1, F2 = S.FIN_WAIT_2, CW = S.CLOSE_WAIT, CG = S.CLOSING, LA = S.LAST_ACK;
const TW = S.TIME_WAIT;
const __ = IGNORE, IV = INVALID;

// prettier-ignore
const ROWS: readonly (readonly number[])[] = [
  // ---- sender: what sending the segment does to its sender
  //          CD  LI  SS  SR  ES  F1  F2  CW  CG  LA  TW
  /* SYN    */ [SS, SS, __, __, __, __, __, __, __, __, __], // LI: active open from a listening socket (RFC 9293 SEND in LISTEN); SS: retransmission
  /* SYNACK */ [__, SR, SR, __, __, __, __, __, __, __, __], // SS→SR: simultaneous open answers with SYN+ACK
  /* FIN    */ [__, __, __, F1, F1, __, __, LA, __, __, __], // SR→F1: CLOSE before the handshake's last ACK (RFC 9293)
  /* ACK    */ [__, __, __, __, __, __, __, __, __, __, __],
  /* ACK_SYN*/ [__, __, __, __, __, __, __, __, __, __, __],
  /* ACK_FIN*/ [__, __, __, __, __, __, __, __, __, __, __],
  /* RST    */ [__, CD, CD, CD, CD, CD, CD, CD, CD, CD, CD], // LI→CD: no socket existed after all (refused, see machine.ts)
  /* INVALID*/ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
  // ---- receiver: what receiving the segment does to its receiver
  //          CD  LI  SS  SR  ES  F1  F2  CW  CG  LA  TW
  /* SYN    */ [__, __, SR, __, __, __, __, __, __, __, __], // LI stays: the SYN+ACK it sends moves it; SS→SR: simultaneous open
  /* SYNACK */ [__, __, __, __, __, __, __, __, __, __, __], // its ACK part (ACK_SYN) does the work
  /* FIN    */ [__, __, __, CW, CW, CG, TW, __, __, __, __], // SR→CW per RFC 9293; F1→CG: own FIN not yet acked (simultaneous close)
  /* ACK    */ [__, __, __, __, __, __, __, __, __, __, __],
  /* ACK_SYN*/ [__, __, ES, ES, __, __, __, __, __, __, __],
  /* ACK_FIN*/ [__, __, __, __, __, F2, __, __, TW, CD, __],
  /* RST    */ [__, __, CD, CD, CD, CD, CD, CD, CD, CD, CD], // LI ignores RST (RFC 9293); TW→CD: Linux honours it (tcp_rfc1337=0)
  /* INVALID*/ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
];

const TABLE = new Uint8Array(2 * NCLASSES * NSTATES);
ROWS.forEach((row, i) => row.forEach((v, j) => (TABLE[i * NSTATES + j] = v)));

/** Next state of an endpoint in `state` playing `role` for a segment of class `cls`, or IGNORE / INVALID. */
export function nextState(role: number, cls: number, state: number): number {
  return TABLE[(role * NCLASSES + cls) * NSTATES + state];
}

// ------------------------------------------------------------------ the valid-flags table
/** The flags that decide a segment's class: FIN, SYN, RST and ACK (an index below 32). */
const CLASS_BITS = TcpFlag.FIN | TcpFlag.SYN | TcpFlag.RST | TcpFlag.ACK;
/** No anomaly for these flags. */
export const NO_ANOMALY = 0xff;

const FLAG_CLASS = new Uint8Array(CLASS_BITS + 1);
const FLAG_ANOMALY = new Uint8Array(CLASS_BITS + 1).fill(NO_ANOMALY);
for (let f = 0; f <= CLASS_BITS; f++) {
  const syn = (f & TcpFlag.SYN) !== 0;
  const fin = (f & TcpFlag.FIN) !== 0;
  const rst = (f & TcpFlag.RST) !== 0;
  const ack = (f & TcpFlag.ACK) !== 0;
  let cls: number = ack ? CL.ACK : CL.INVALID;
  let ak: number = NO_ANOMALY;
  if (syn && fin) (cls = CL.INVALID), (ak = AK.SYN_FIN);
  else if (syn && rst) (cls = CL.INVALID), (ak = AK.SYN_RST);
  else if (!syn && !rst && !ack) (cls = CL.INVALID), (ak = AK.INVALID_FLAGS);
  else if (rst) (cls = CL.RST), (ak = fin ? AK.INVALID_FLAGS : NO_ANOMALY); // FIN+RST: the RST counts
  else if (syn) cls = ack ? CL.SYNACK : CL.SYN;
  else if (fin) cls = CL.FIN;
  FLAG_CLASS[f] = cls;
  FLAG_ANOMALY[f] = ak;
}

/** The class of a segment with these TCP flags, as its sender's row reads it. */
export function segmentClass(flags: number): number {
  return FLAG_CLASS[flags & CLASS_BITS];
}

/** The anomaly these flags are by themselves (AK), or NO_ANOMALY. */
export function flagAnomaly(flags: number): number {
  return FLAG_ANOMALY[flags & CLASS_BITS];
}
