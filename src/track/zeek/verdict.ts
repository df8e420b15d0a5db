import { C, type ConnStore } from '../store';
import type { ZeekEndpoints } from './endpoint';
import type { ZeekLetters } from './letters';
import { CS, Z, ZEEK_ENDPOINT_STATES } from './names';

/**
 * Zeek's conn_state (conn_state() of base/protocols/conn/main.zeek) for slot s, as an index into
 * CONN_STATES: a function of the two endpoints' states alone, with Size() and the history for the
 * REJ and RSTOS0 corner cases, as Zeek's. The states alone decide it but for those two pairs, so it
 * is looked up in VERDICT (filled from byStates() below) by originator and responder state.
 */
export function zeekConnState(st: ConnStore, eps: ZeekEndpoints, letters: ZeekLetters, s: number): number {
  const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
  const v = VERDICT[st.zst[o] * ZN.COUNT + st.zst[o ^ 1]];
  if (v < ZN.ASK_SIZES) return v;
  // both reset: REJ when neither sent anything
  if (v === ZN.ASK_SIZES) return eps.size(o) === 0 && eps.size(o ^ 1) === 0 ? CS.REJ : CS.RSTR;
  // the originator reset, the responder inactive or partial
  return letters.synThenRst(s) ? CS.RSTOS0 : CS.OTH;
}

const enum ZN { COUNT = 7, ASK_SIZES = 254, ASK_HISTORY = 255 }

/**
 * The verdict for originator state os and responder state rs, or where the sizes (ZN.ASK_SIZES) or
 * the history (ZN.ASK_HISTORY) decide.
 */
function byStates(os: number, rs: number): number {
  const oInactive = os === Z.INACTIVE || os === Z.PARTIAL;
  const rInactive = rs === Z.INACTIVE || rs === Z.PARTIAL;
  if (rs === Z.RESET) {
    if (os === Z.SYN_SENT || os === Z.SYN_ACK_SENT) return CS.REJ;
    if (os === Z.RESET) return ZN.ASK_SIZES; // REJ when neither sent anything, else RSTR
    return oInactive ? CS.RSTRH : CS.RSTR;
  }
  if (os === Z.RESET) return rInactive ? ZN.ASK_HISTORY : CS.RSTO; // RSTOS0 or OTH by the history
  if (rs === Z.CLOSED && os === Z.CLOSED) return CS.SF;
  if (os === Z.CLOSED) return rInactive ? CS.SH : CS.S2;
  if (rs === Z.CLOSED) return oInactive ? CS.SHR : CS.S3;
  if (os === Z.SYN_SENT && rs === Z.INACTIVE) return CS.S0;
  if (os === Z.ESTABLISHED && rs === Z.ESTABLISHED) return CS.S1;
  return CS.OTH;
}

const VERDICT = new Uint8Array(ZN.COUNT * ZN.COUNT);
for (let os = 0; os < ZN.COUNT; os++) for (let rs = 0; rs < ZN.COUNT; rs++) VERDICT[os * ZN.COUNT + rs] = byStates(os, rs);
// (stops compiling if the endpoint states are ever not seven)
const SEVEN: typeof ZEEK_ENDPOINT_STATES.length = ZN.COUNT;
void SEVEN;
