import { DecodeCounters as Counters } from './counters';
import { followEtherType } from './encap';
import { IpFrag, ipPayload } from './ip-payload';
import { decodeIPv4 } from './ipv4';
import { decodeIPv6 } from './ipv6';
import { MAX_ENCAP_LAYERS, Net, type LinkResult } from './layer';
import { decodeLink } from './link';
import type { DecodeStatus, Segment } from './segment';
import { unwrapIpPayload, type Tunnelled } from './tunnel';

// Not `export { DecodeCounters } from './counters'`: CommonJS output makes a re-export a getter on
// this module's exports, and callers that reach decodeFrame through that object (`decode_1.
// decodeFrame(...)`, as the compiled engine does per frame) then pay about 7 ns a call for it.
export const DecodeCounters = Counters;
export type DecodeCounters = Counters;

const link: LinkResult = { off: 0, net: 0, layers: 0 };
const inner: Tunnelled = { off: 0, type: 0, end: 0 };

/**
 * Decodes one captured frame into `out`, which is reused from call to call. `data.length` is the
 * captured length and `origLen` the length on the wire. Never throws and allocates nothing: every
 * read is bounds-checked first, and failures come back as a status code. `out` is only complete
 * when the result is 'ok'. TCP inside tunnels is decoded too: `out` then holds the innermost
 * packet's addresses and ports, and `out.encapDepth` says how many tunnels were around it.
 */
export function decodeFrame(linkType: number, data: Buffer, origLen: number, out: Segment): DecodeStatus {
  out.reset();
  out.buf = data;
  link.layers = 0;
  const st = decodeLink(linkType, data, link);
  if (st !== 'ok') return st;
  // A record claiming fewer bytes on the wire than it holds is the file's mistake; trust the bytes.
  const wireLen = origLen > data.length ? origLen : data.length;
  const off = link.off;
  let net = link.net;
  if (net === Net.ANY) {
    if (data.length <= off) return 'truncated-ip';
    net = data[off] >>> 4;
    if (net !== Net.IPV4 && net !== Net.IPV6) return 'bad-ip-version';
  }
  const s = net === Net.IPV4 ? decodeIPv4(data, off, wireLen, out) : decodeIPv6(data, off, wireLen, out);
  // Only frames without TCP straight over IP go looking for a tunnel.
  return s === 'not-tcp' ? decodeTunnelled(data, out) : s;
}

/** Unwraps tunnel after tunnel from the IP payload the last decode left, down to TCP. */
function decodeTunnelled(d: Buffer, out: Segment): DecodeStatus {
  // Where the first fragment that holds a tunnel ends (-1: no fragment so far).
  let fragmentEnd = -1;
  for (let depth = 1; ; depth++) {
    if (ipPayload.frag === IpFrag.FIRST && (fragmentEnd < 0 || ipPayload.end < fragmentEnd)) fragmentEnd = ipPayload.end;
    let st = unwrapIpPayload(d, ipPayload, inner);
    if (st !== 'ok') return st;
    if (++link.layers > MAX_ENCAP_LAYERS) return 'encap-too-deep';
    st = followEtherType(d, inner.off, inner.type, link);
    if (st === 'ok') {
      out.encapDepth = depth;
      st = link.net === Net.IPV4 ? decodeIPv4(d, link.off, inner.end, out) : decodeIPv6(d, link.off, inner.end, out);
      if (st === 'not-tcp') continue;
    }
    return fragmentEnd < 0 ? st : withinFragment(st, d, fragmentEnd, out);
  }
}

/**
 * A tunnelled segment read from a first fragment: its TCP header must lie inside the fragment
 * (the rest of the datagram is in later frames), and only the fragment's bytes count as captured.
 * A header the fragment boundary cuts is a short first fragment, not a snap-length cut.
 */
function withinFragment(st: DecodeStatus, d: Buffer, end: number, out: Segment): DecodeStatus {
  const captured = end < d.length ? end : d.length;
  if (st === 'ok') {
    const payloadAt = out.tcpOff + out.headerLen;
    if (payloadAt > captured) return captured === end ? 'short-first-fragment' : 'truncated-tcp';
    if (out.capturedPayloadLen > captured - payloadAt) out.capturedPayloadLen = captured - payloadAt;
    return st;
  }
  const cut = st === 'truncated-link' || st === 'truncated-encap' || st === 'truncated-ip' || st === 'truncated-ip6-ext' || st === 'truncated-tcp';
  return cut && captured === end ? 'short-first-fragment' : st;
}
