/**
 * The plain segment, derived from the transition table: an ACK without SYN or RST (PSH, URG, ECE
 * and CWR aside). Without a FIN, between two endpoints whose rows of its class the table leaves at
 * IGNORE, the one path (machine.ts) looks the class up, finds the sender's row IGNORE, and then runs
 * the receiver's ACK part (ACK_SYN, ACK_FIN); the short path Machine.plain() runs the same ACK part
 * without the rest. Which pairs of states that holds for is computed here from the table itself
 * when the module loads, so it cannot disagree with the table: a change to the table changes the
 * pairs. With a FIN, the plain path hands the class FIN to the one path's transitions.
 */
import { STATES } from './states';
import { CL, F, IGNORE, NO_ANOMALY, ROLE, flagAnomaly, nextState, segmentClass } from './transitions';

/**
 * The flag bits the table reads but FIN (three of the valid-flags table's four), and their value on
 * a plain segment: an ACK, or an ACK with a FIN.
 */
export const enum PLAIN { MASK = F.SYN | F.RST | F.ACK, FLAGS = F.ACK }

/** The class the table gives a plain segment's flags: ACK without a FIN; with one, FIN. */
export const PLAIN_CLASS = segmentClass(PLAIN.FLAGS);
export const PLAIN_FIN_CLASS = segmentClass(PLAIN.FLAGS | F.FIN);

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

/**
 * True when the table's rows of the plain class move neither a `sender` nor a `receiver` (then the
 * plain path runs only the receiver's ACK part; a FIN it hands to the table as the one path does).
 */
export function plainStill(sender: number, receiver: number): boolean {
  if (flagAnomaly(PLAIN.FLAGS) !== NO_ANOMALY) return false;
  return nextState(ROLE.SENDER, PLAIN_CLASS, sender) === IGNORE && nextState(ROLE.RECEIVER, PLAIN_CLASS, receiver) === IGNORE;
}

/** plainStill() for every pair, indexed `sender * STATES.COUNT + receiver`: 1 where it holds. */
export const PLAIN_PAIRS = Uint8Array.from({ length: STATES.COUNT * STATES.COUNT }, (_, i) =>
  plainStill(Math.floor(i / STATES.COUNT), i % STATES.COUNT) ? 1 : 0,
);

