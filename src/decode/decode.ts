import { decodeIPv4 } from './ipv4';
import { decodeIPv6 } from './ipv6';
import { decodeLink, Net, type LinkResult } from './link';
import type { DecodeStatus, Segment } from './segment';

export { DecodeCounters } from './counters';

const link: LinkResult = { off: 0, net: 0 };

/**
 * Decodes one captured frame into `out`, which is reused from call to call. `data.length` is the
 * captured length and `origLen` the length on the wire. Never throws and allocates nothing: every
 * read is bounds-checked first, and failures come back as a status code. `out` is only complete
 * when the result is 'ok'.
 */
export function decodeFrame(linkType: number, data: Buffer, origLen: number, out: Segment): DecodeStatus {
  out.reset();
  out.buf = data;
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
  return net === Net.IPV4 ? decodeIPv4(data, off, wireLen, out) : decodeIPv6(data, off, wireLen, out);
}
