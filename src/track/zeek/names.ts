import { CONN_STATES, type ConnState } from '../states';

/**
 * The names of Zeek's TCP analyzer, each declared once: its endpoint states (TCP_Endpoint.h), the
 * index of each conn_state value in CONN_STATES, and the letters of conn.log's history.
 */

/** Zeek's TCP_ENDPOINT_* states, in Zeek's order (the values Zeek stores). */
export const ZEEK_ENDPOINT_STATES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'] as const;
export type ZeekEndpointState = (typeof ZEEK_ENDPOINT_STATES)[number];

function indexOf<T extends string>(list: readonly T[]): { readonly [K in T]: number } {
  const out = {} as { [K in T]: number };
  list.forEach((name, i) => (out[name] = i));
  return Object.freeze(out);
}

/** Zeek's endpoint states by name: Z.ESTABLISHED is ZEEK_ENDPOINT_STATES.indexOf('ESTABLISHED'). */
export const Z = indexOf(ZEEK_ENDPOINT_STATES);

/** conn_state values by name, as indices into CONN_STATES (states.ts). */
export const CS: { readonly [K in ConnState]: number } = indexOf(CONN_STATES);

/**
 * The letters of Zeek's history column (Conn::AddHistory callers), the originator's in upper case;
 * the responder's are the same letters in lower case. '^' marks a flip of originator and responder.
 */
export const HISTORY_LETTERS = {
  SYN: 'S',
  SYN_ACK: 'H',
  ACK: 'A',
  DATA: 'D',
  FIN: 'F',
  RST: 'R',
  BAD_CHECKSUM: 'C',
  CONTENT_GAP: 'G',
  FIN_RST: 'I',
  MULTI_FLAG: 'Q',
  RETRANSMISSION: 'T',
  ZERO_WINDOW: 'W',
  FLIPPED: '^',
} as const;
export type HistoryLetterName = keyof typeof HISTORY_LETTERS;
export type HistoryLetter = (typeof HISTORY_LETTERS)[HistoryLetterName];

/** The character codes of HISTORY_LETTERS, for the packet path (no strings built there). */
export const L: { readonly [K in HistoryLetterName]: number } = (() => {
  const out = {} as { [K in HistoryLetterName]: number };
  for (const k of Object.keys(HISTORY_LETTERS) as HistoryLetterName[]) out[k] = HISTORY_LETTERS[k].charCodeAt(0);
  return Object.freeze(out);
})();

/** Upper case code → lower case code (the responder's letter). */
export const LOWER = 32;

/** Zeek's HIST_* masks (Conn.h); the responder's are shifted left by 16. */
export const HIST = Object.freeze({ SYN: 0x1, FIN: 0x2, RST: 0x4, FIN_RST: 0x8, DATA: 0x10, ACK: 0x20, MULTI: 0x40 } as const);
