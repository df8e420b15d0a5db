/**
 * A decoded TCP segment. One instance is reused for every packet (decode writes into it), so the
 * hot path allocates nothing; everything here is valid only until the next decode call.
 *
 * Addresses are not copied: `buf` is the frame's bytes and `srcOff`/`dstOff` point at the 4 or 16
 * address bytes. Use `addrString()` when a string is really needed (a new connection, output).
 */
export class Segment {
  family: 4 | 6 = 4;
  buf: Buffer = EMPTY;
  srcOff = 0;
  dstOff = 0;
  srcPort = 0;
  dstPort = 0;
  /** Unsigned 32-bit sequence number. */
  seq = 0;
  /** Unsigned 32-bit acknowledgement number (meaningful when the ACK flag is set). */
  ack = 0;
  /** TCP flag bits, see TcpFlag (bit 8 is AE, formerly NS). */
  flags = 0;
  /** Raw (unscaled) window field. */
  window = 0;
  urgent = 0;
  /** TCP header length in bytes (data offset × 4). */
  headerLen = 0;
  /** Payload bytes as the IP lengths say, even when the snap length cut them off. */
  payloadLen = 0;
  /** Payload bytes actually present in the capture. */
  capturedPayloadLen = 0;
  /** Offset of the TCP header in `buf`. */
  tcpOff = 0;
  /** IP TTL / hop limit. */
  ttl = 0;
  /**
   * How many IP tunnels (GRE, UDP tunnels, IP-in-IP) enclose the packet: the addresses and ports
   * above are the innermost ones. 0 when TCP rides straight on the link's IP, however many link
   * shims (VLAN, MPLS, PPPoE, PBB, ...) lie below it.
   */
  encapDepth = 0;

  // Options; -1 where absent.
  mss = -1;
  wscale = -1;
  sackPermitted = false;
  /** Number of SACK blocks; their bytes start at sackOff (pairs of u32 left, right). */
  sackCount = 0;
  sackOff = 0;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** The option list was malformed (length field running past the header, bad option length). */
  optionsMalformed = false;
  /** The TCP header was complete but its options could not all be read (snap length). */
  optionsTruncated = false;

  reset(): void {
    this.mss = -1;
    this.wscale = -1;
    this.sackPermitted = false;
    this.sackCount = 0;
    this.sackOff = 0;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.optionsMalformed = false;
    this.optionsTruncated = false;
    this.payloadLen = 0;
    this.capturedPayloadLen = 0;
    this.urgent = 0;
    this.ttl = 0;
    this.encapDepth = 0;
  }
}

const EMPTY = Buffer.alloc(0);

export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  AE: 0x100,
} as const;

/**
 * Outcome of decoding one frame. 'ok' or a stable code. Codes in SKIP_CODES are frames that are
 * fine but not TCP segments we track (ARP, UDP, later IP fragments); the rest are damage.
 */
export type DecodeStatus =
  | 'ok'
  // skipped, not errors
  | 'not-ip'
  | 'not-tcp'
  | 'ip-fragment'
  | 'unsupported-link'
  | 'short-first-fragment'
  | 'encap-too-deep'
  // damage
  | 'truncated-link'
  | 'truncated-ip'
  | 'bad-ip-version'
  | 'bad-ip-header-length'
  | 'bad-ip-total-length'
  | 'truncated-ip6-ext'
  | 'bad-ip6-ext'
  | 'truncated-tcp'
  | 'bad-tcp-offset'
  | 'truncated-encap'
  | 'bad-encap';

export const SKIP_CODES: ReadonlySet<DecodeStatus> = new Set<DecodeStatus>([
  'not-ip',
  'not-tcp',
  'ip-fragment',
  'unsupported-link',
  // A first fragment too short to hold the TCP header: tcpscope does not reassemble fragments.
  'short-first-fragment',
  // More encapsulation headers than the decoder unwraps (MAX_ENCAP_LAYERS): valid, but not followed.
  'encap-too-deep',
]);

export function isDecodeError(s: DecodeStatus): boolean {
  return s !== 'ok' && !SKIP_CODES.has(s);
}

/** Text form of an address held in a Buffer (IPv6 in RFC 5952 compressed form). */
export function addrString(buf: Buffer | Uint8Array, off: number, family: 4 | 6): string {
  if (family === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((buf[off + 2 * i] << 8) | buf[off + 2 * i + 1]);
  // longest run of zero words (length >= 2) becomes '::'
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped ::ffff:a.b.c.d
  if (bestStart === 0 && bestLen === 5 && words[5] === 0xffff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Flag letters as tcpdump prints them: S, F, R, P, ., U, E, W (tcpdump's order). */
export function flagString(flags: number): string {
  let s = '';
  if (flags & TcpFlag.SYN) s += 'S';
  if (flags & TcpFlag.FIN) s += 'F';
  if (flags & TcpFlag.RST) s += 'R';
  if (flags & TcpFlag.PSH) s += 'P';
  if (flags & TcpFlag.URG) s += 'U';
  if (flags & TcpFlag.ECE) s += 'E';
  if (flags & TcpFlag.CWR) s += 'W';
  if (flags & TcpFlag.AE) s += 'e';
  if (flags & TcpFlag.ACK) s += '.';
  return s || 'none';
}
