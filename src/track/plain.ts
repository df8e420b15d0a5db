/**
 * The plain segment, derived from the transition table: an ACK without SYN, FIN or RST (PSH, URG,
 * ECE and CWR aside) between two endpoints whose states the table leaves where they are. For such a
 * segment the one path (machine.ts) reads three rows of the table and gets IGNORE from each: the
 * sender's ACK row and the receiver's ACK_SYN and ACK_FIN rows (which the machine consults when the
 * ACK acknowledges a SYN or a FIN), the only ones transitions() reads for it. Which pairs of
 * states those are is computed here from the table itself when the module loads, so the short
 * path Machine.plain() takes for them cannot disagree with it: a change to the table changes the
 * pairs.
 */
import { STATES } from './states';
import { CL, F, IGNORE, NO_ANOMALY, ROLE, flagAnomaly, nextState, segmentClass } from './transitions';

/** The flag bits the table reads (the valid-flags table's four), and their value on a plain segment. */
export const enum PLAIN { MASK = F.FIN | F.SYN | F.RST | F.ACK, FLAGS = F.ACK }

/** The class the table gives a plain segment's flags. */
export const PLAIN_CLASS = segmentClass(PLAIN.FLAGS);

/**
 * Whether a receiver in `state` moves on an acceptable ACK of its SYN (the table's ACK_SYN row):
 * then the machine checks the ACK against the SYN, and raises bad-handshake-ack when it fails.
 */
export function awaitsSynAck(state: number): boolean {
  return AWAITS_SYN_ACK[state] === 1;
}
const AWAITS_SYN_ACK = Uint8Array.from({ length: STATES.COUNT }, (_, r) =>
  nextState(ROLE.RECEIVER, CL.ACK_SYN, r) !== IGNORE ? 1 : 0,
);

/** True when the table moves neither endpoint for a plain segment from `sender` to `receiver`. */
function plainStill(sender: number, receiver: number): boolean {
  if (flagAnomaly(PLAIN.FLAGS) !== NO_ANOMALY) return false;
  return (
    nextState(ROLE.SENDER, PLAIN_CLASS, sender) === IGNORE &&
    nextState(ROLE.RECEIVER, CL.ACK_SYN, receiver) === IGNORE &&
    nextState(ROLE.RECEIVER, CL.ACK_FIN, receiver) === IGNORE
  );
}

/** plainStill() for every pair, indexed `sender * STATES.COUNT + receiver`: 1 where it holds. */
export const PLAIN_PAIRS = Uint8Array.from({ length: STATES.COUNT * STATES.COUNT }, (_, i) =>
  plainStill(Math.floor(i / STATES.COUNT), i % STATES.COUNT) ? 1 : 0,
);

/** No pair: the plain path never taken (to measure it, and to show that the output is the same). */
export const NO_PLAIN_PAIRS = new Uint8Array(STATES.COUNT * STATES.COUNT);

