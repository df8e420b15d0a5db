/**
 * The one RFC 9293 transition table, nf_conntrack style. A segment's flags give its class (the
 * valid-flags table below: combinations no TCP sends are INVALID); the table [role][class][state]
 * gives each endpoint's next state, or IGNORE (no change), or INVALID (the segment moves nothing).
 * The sender's row says what sending the segment does; the receiver's rows are applied ACK part
 * first (ACK_SYN, ACK_FIN: classes picked by the seq/ack checks in machine.ts), then SYN/FIN, then
 * RST. The few exceptions are named in machine.ts and README.md; this file holds only the tables.
 */
import type { TcpFlag } from '../decode/segment';
import { AK } from './eventlog';
import type { Mirrors } from './names';
import { S, STATES } from './states';

/**
 * The TCP flag bits the tracker reads (decode's TcpFlag), as constants the compiler writes in place:
 * a module constant costs a context load at each use, a property of TcpFlag a load and a map check.
 */
export const enum F { FIN = 0x001, SYN = 0x002, RST = 0x004, ACK = 0x010 }
// (stops compiling when these are no longer TcpFlag's bits)
export const F_LINES_UP: [F.FIN, F.SYN, F.RST, F.ACK] extends
  [typeof TcpFlag.FIN, typeof TcpFlag.SYN, typeof TcpFlag.RST, typeof TcpFlag.ACK] ? true : false = true;

/** The two rows of a segment: what sending it does, what receiving it does. */
export const ROLE_NAMES = ['sender', 'receiver'] as const;
export const enum ROLE { SENDER = 0, RECEIVER = 1 }
export const ROLE_LINES_UP: Mirrors<typeof ROLE, typeof ROLE_NAMES> = true;

/**
 * Segment classes, the table's middle index: SYN without ACK; SYN with ACK; FIN; an ACK that
 * acknowledges nothing special; an acceptable ACK of the receiver's SYN (ISN+1, or more with data
 * on the SYN); an ACK covering the receiver's FIN (≥ FIN seq + 1); a RST accepted by the receiver
 * (in window; in SYN_SENT: acknowledging the SYN); flags no TCP sends together (SYN+FIN, SYN+RST,
 * none of SYN/RST/ACK).
 */
export const SEGMENT_CLASSES = ['SYN', 'SYNACK', 'FIN', 'ACK', 'ACK_SYN', 'ACK_FIN', 'RST', 'INVALID'] as const;
export const enum CL { SYN = 0, SYNACK = 1, FIN = 2, ACK = 3, ACK_SYN = 4, ACK_FIN = 5, RST = 6, INVALID = 7 }
export const CL_LINES_UP: Mirrors<typeof CL, typeof SEGMENT_CLASSES> = true;
const enum N { CLASSES = CL.INVALID + 1 }
export const N_LINES_UP: `${N.CLASSES}` extends `${(typeof SEGMENT_CLASSES)['length']}` ? true : false = true;

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

if (ROWS.length !== 2 * N.CLASSES || ROWS.some((r) => r.length !== STATES.COUNT)) throw new Error('the transition table is not [role][class][state]');
const TABLE = new Uint8Array(2 * N.CLASSES * STATES.COUNT);
ROWS.forEach((row, i) => row.forEach((v, j) => (TABLE[i * STATES.COUNT + j] = v)));

/** Next state of an endpoint in `state` playing `role` for a segment of class `cls`, or IGNORE / INVALID. */
export function nextState(role: number, cls: number, state: number): number {
  return TABLE[(role * N.CLASSES + cls) * STATES.COUNT + state];
}

// ------------------------------------------------------------------ the valid-flags table
/** No anomaly for these flags. */
export const NO_ANOMALY = 0xff;
const OK = NO_ANOMALY;

/**
 * Each combination of FIN, SYN, RST and ACK (in that bit order: F = 1, S = 2, R = 4, A = 8): the
 * class its sender's row reads, and the anomaly the flags are by themselves. As in conntrack's
 * tcp_valid_flags, the combinations no TCP sends are INVALID; a RST with a FIN is still a RST.
 */
// prettier-ignore
const VALID_FLAGS: readonly (readonly [flags: string, cls: number, anomaly: number])[] = [
  ['----', CL.INVALID, AK.INVALID_FLAGS], // none of SYN, RST, ACK
  ['F---', CL.INVALID, AK.INVALID_FLAGS],
  ['-S--', CL.SYN, OK],
  ['FS--', CL.INVALID, AK.SYN_FIN],
  ['--R-', CL.RST, OK],
  ['F-R-', CL.RST, AK.INVALID_FLAGS],
  ['-SR-', CL.INVALID, AK.SYN_RST],
  ['FSR-', CL.INVALID, AK.SYN_FIN],
  ['---A', CL.ACK, OK],
  ['F--A', CL.FIN, OK],
  ['-S-A', CL.SYNACK, OK],
  ['FS-A', CL.INVALID, AK.SYN_FIN],
  ['--RA', CL.RST, OK],
  ['F-RA', CL.RST, AK.INVALID_FLAGS],
  ['-SRA', CL.INVALID, AK.SYN_RST],
  ['FSRA', CL.INVALID, AK.SYN_FIN],
];
const FLAG_CLASS = Uint8Array.from(VALID_FLAGS, (r) => r[1]);
const FLAG_ANOMALY = Uint8Array.from(VALID_FLAGS, (r) => r[2]);
VALID_FLAGS.forEach(([name], i) => {
  // the rows in index order, each named by its own bits
  if (name !== ['F', 'S', 'R', 'A'].map((ch, b) => ((i >> b) & 1 ? ch : '-')).join('')) throw new Error(`VALID_FLAGS row ${i} is ${name}`);
});

/** The row of VALID_FLAGS for these TCP flags (FIN, SYN and RST are bits 0-2 of both; ACK is bit 4 of the flags). */
function flagRow(flags: number): number {
  return (flags & (F.FIN | F.SYN | F.RST)) | ((flags & F.ACK) >> 1);
}

/** The class of a segment with these TCP flags, as its sender's row reads it. */
export function segmentClass(flags: number): number {
  return FLAG_CLASS[flagRow(flags)];
}

/** The anomaly these flags are by themselves (AK), or NO_ANOMALY. */
export function flagAnomaly(flags: number): number {
  return FLAG_ANOMALY[flagRow(flags)];
}
