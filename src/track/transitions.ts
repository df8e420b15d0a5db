/**
 * The one RFC 9293 transition table, nf_conntrack style: a segment is reduced to classes and the
 * table [role][class][state] gives each endpoint's next state. The sender's row says what sending
 * the segment does; the receiver's rows are applied ACK part first, then SYN/FIN, then RST. The
 * seq/ack checks that pick a class (ACK_SYN, ACK_FIN, RST in window) and the few exceptions live in
 * tracker.ts; this file holds only the table.
 */

/** Endpoint states, indices into TCP_STATES (src/track/states.ts). */
export const enum S {
  CLOSED = 0,
  LISTEN = 1,
  SYN_SENT = 2,
  SYN_RECEIVED = 3,
  ESTABLISHED = 4,
  FIN_WAIT_1 = 5,
  FIN_WAIT_2 = 6,
  CLOSE_WAIT = 7,
  CLOSING = 8,
  LAST_ACK = 9,
  TIME_WAIT = 10,
}

export const enum ROLE { SENDER = 0, RECEIVER = 1 }

/** Segment classes. */
export const enum CL {
  SYN = 0, // SYN without ACK
  SYNACK = 1, // SYN with ACK
  FIN = 2,
  ACK = 3, // an ACK that acknowledges nothing special
  ACK_SYN = 4, // an acceptable ACK of the receiver's SYN (ISN+1, or more with data on the SYN)
  ACK_FIN = 5, // an ACK covering the receiver's FIN (≥ FIN seq + 1)
  RST = 6, // RST accepted by the receiver (in window; in SYN_SENT: acknowledging the SYN)
  COUNT = 7,
}

const NSTATES = 11;

// Short names keep the rows aligned.
const CD = S.CLOSED, SS = S.SYN_SENT, SR = S.SYN_RECEIVED, ES = S.ESTABLISHED;
const F1 = S.FIN_WAIT_1, F2 = S.FIN_WAIT_2, CW = S.CLOSE_WAIT, CG = S.CLOSING, LA = S.LAST_ACK;
const TW = S.TIME_WAIT;
/** No change. */
export const __ = 0xff;

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
  /* RST    */ [__, CD, CD, CD, CD, CD, CD, CD, CD, CD, CD], // LI→CD: no socket existed after all (refused, see tracker.ts)
  // ---- receiver: what receiving the segment does to its receiver
  //          CD  LI  SS  SR  ES  F1  F2  CW  CG  LA  TW
  /* SYN    */ [__, __, SR, __, __, __, __, __, __, __, __], // LI stays: the SYN+ACK it sends moves it; SS→SR: simultaneous open
  /* SYNACK */ [__, __, __, __, __, __, __, __, __, __, __], // its ACK part (ACK_SYN) does the work
  /* FIN    */ [__, __, __, CW, CW, CG, TW, __, __, __, __], // SR→CW per RFC 9293; F1→CG: own FIN not yet acked (simultaneous close)
  /* ACK    */ [__, __, __, __, __, __, __, __, __, __, __],
  /* ACK_SYN*/ [__, __, ES, ES, __, __, __, __, __, __, __],
  /* ACK_FIN*/ [__, __, __, __, __, F2, __, __, TW, CD, __],
  /* RST    */ [__, __, CD, CD, CD, CD, CD, CD, CD, CD, CD], // LI ignores RST (RFC 9293); TW→CD: Linux honours it (tcp_rfc1337=0)
];

const TABLE = new Uint8Array(2 * CL.COUNT * NSTATES);
ROWS.forEach((row, i) => row.forEach((v, j) => (TABLE[i * NSTATES + j] = v)));

/** Next state of an endpoint in `state` playing `role` for a segment of class `cls`, or __. */
export function nextState(role: number, cls: number, state: number): number {
  return TABLE[(role * CL.COUNT + cls) * NSTATES + state];
}
