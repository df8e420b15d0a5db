// The capture's snap lengths, in a module of their own without imports: the CLI's help names the
// default without loading the capture code.

/** The largest snap length, and openLive's default: whole packets. */
export const SNAPLEN = 65535;
/**
 * The snap length when only watching connections: headers are all tcpscope reads (payload is
 * counted from the IP lengths), and 512 bytes hold the deepest header stack the decoder reads
 * (Ethernet, tags, an outer IPv6 with extension headers, a tunnel, the inner IP and a TCP header
 * with 40 bytes of options).
 */
export const WATCH_SNAPLEN = 512;
