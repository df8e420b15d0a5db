import type { Mirrors } from './names';

/** RFC 9293 endpoint states, by the names users see. */
export const TCP_STATES = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
] as const;
export type TcpState = (typeof TCP_STATES)[number];
/** Endpoint states by name: S.ESTABLISHED is the index of 'ESTABLISHED' in TCP_STATES. */
export const enum S {
  CLOSED = 0, LISTEN = 1, SYN_SENT = 2, SYN_RECEIVED = 3, ESTABLISHED = 4, FIN_WAIT_1 = 5, FIN_WAIT_2 = 6,
  CLOSE_WAIT = 7, CLOSING = 8, LAST_ACK = 9, TIME_WAIT = 10,
}
// (stops compiling when S and TCP_STATES drift apart; so does each such line beside its enum)
export const S_LINES_UP: Mirrors<typeof S, typeof TCP_STATES> = true;
/** How many states there are. */
export const enum STATES { COUNT = S.TIME_WAIT + 1 }
export const STATES_LINES_UP: `${STATES.COUNT}` extends `${(typeof TCP_STATES)['length']}` ? true : false = true;

/** Zeek's conn_state values. */
export const CONN_STATES = [
  'S0',
  'S1',
  'SF',
  'REJ',
  'S2',
  'S3',
  'RSTO',
  'RSTR',
  'RSTOS0',
  'RSTRH',
  'SH',
  'SHR',
  'OTH',
] as const;
export type ConnState = (typeof CONN_STATES)[number];

export type Side = 'client' | 'server';
