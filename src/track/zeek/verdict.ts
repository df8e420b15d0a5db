import { C, type ConnStore } from '../store';
import type { ZeekEndpoints } from './endpoint';
import type { ZeekLetters } from './letters';
import { CS, Z } from './names';

/**
 * Zeek's conn_state (conn_state() of base/protocols/conn/main.zeek) for slot s, as an index into
 * CONN_STATES: a function of the two endpoints' states alone, with Size() and the history for the
 * REJ and RSTOS0 corner cases, as Zeek's.
 */
export function zeekConnState(st: ConnStore, eps: ZeekEndpoints, letters: ZeekLetters, s: number): number {
  const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
  const r = o ^ 1;
  const os = st.zst[o];
  const rs = st.zst[r];
  const oInactive = os === Z.INACTIVE || os === Z.PARTIAL;
  const rInactive = rs === Z.INACTIVE || rs === Z.PARTIAL;
  if (rs === Z.RESET) {
    if (os === Z.SYN_SENT || os === Z.SYN_ACK_SENT || (os === Z.RESET && eps.size(o) === 0 && eps.size(r) === 0)) {
      return CS.REJ;
    }
    return oInactive ? CS.RSTRH : CS.RSTR;
  }
  if (os === Z.RESET) {
    if (rInactive) return letters.synThenRst(s) ? CS.RSTOS0 : CS.OTH;
    return CS.RSTO;
  }
  if (rs === Z.CLOSED && os === Z.CLOSED) return CS.SF;
  if (os === Z.CLOSED) return rInactive ? CS.SH : CS.S2;
  if (rs === Z.CLOSED) return oInactive ? CS.SHR : CS.S3;
  if (os === Z.SYN_SENT && rs === Z.INACTIVE) return CS.S0;
  if (os === Z.ESTABLISHED && rs === Z.ESTABLISHED) return CS.S1;
  return CS.OTH;
}
