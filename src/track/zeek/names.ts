import type { Mirrors } from '../names';
import type { CONN_STATES } from '../states';

/**
 * The names of Zeek's TCP analyzer, each declared once: its endpoint states (TCP_Endpoint.h), the
 * index of each conn_state value in CONN_STATES, the letters of conn.log's history and Zeek's
 * history masks. The packet path reads them as `const enum`s, which the compiler writes in place (a
 * frozen object costs a property load at each use: about 70 ns a segment on the bench capture); the
 * enums that mirror a string list are checked against it at compile time (`Mirrors`, track/names.ts).
 */

/** Zeek's TCP_ENDPOINT_* states, in Zeek's order (the values Zeek stores). */
export const ZEEK_ENDPOINT_STATES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'] as const;
export type ZeekEndpointState = (typeof ZEEK_ENDPOINT_STATES)[number];

export const enum Z { INACTIVE = 0, SYN_SENT = 1, SYN_ACK_SENT = 2, PARTIAL = 3, ESTABLISHED = 4, CLOSED = 5, RESET = 6 }

/** conn_state values as indices into CONN_STATES (states.ts). */
export const enum CS {
  S0 = 0, S1 = 1, SF = 2, REJ = 3, S2 = 4, S3 = 5, RSTO = 6, RSTR = 7, RSTOS0 = 8, RSTRH = 9, SH = 10, SHR = 11, OTH = 12,
}

// (these two lines stop compiling when an enum and its list drift apart)
export const Z_LINES_UP: Mirrors<typeof Z, typeof ZEEK_ENDPOINT_STATES> = true;
export const CS_LINES_UP: Mirrors<typeof CS, typeof CONN_STATES> = true;

/**
 * The letters of Zeek's history column (the callers of Conn::AddHistory), as character codes: the
 * originator's in upper case, the responder's the same letter in lower case (LOWER added).
 */
export const enum L {
  SYN = 83, // S
  SYN_ACK = 72, // H
  ACK = 65, // A
  DATA = 68, // D
  FIN = 70, // F
  RST = 82, // R
  BAD_CHECKSUM = 67, // C (never written: checksums are not judged)
  CONTENT_GAP = 71, // G
  FIN_RST = 73, // I
  MULTI_FLAG = 81, // Q
  RETRANSMISSION = 84, // T
  ZERO_WINDOW = 87, // W
  FLIPPED = 94, // ^ (originator and responder swapped)
  LOWER = 32, // upper case code + LOWER = the responder's letter
}

/** Zeek's HIST_* masks (Conn.h); the responder's are shifted left by 16. */
export const enum HIST { SYN = 0x1, FIN = 0x2, RST = 0x4, FIN_RST = 0x8, DATA = 0x10, ACK = 0x20, MULTI = 0x40 }
