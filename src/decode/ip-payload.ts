/** Whether the IP packet is a fragment: only a first fragment holds the next header. */
export const IpFrag = {
  NONE: 0,
  FIRST: 1,
  LATER: 2,
} as const;

/**
 * The upper-layer payload of the last IP header decoded, when it is not TCP: the tunnel decoders
 * read it from here. decodeIPv4/decodeIPv6 fill it just before they return 'not-tcp', so plain TCP
 * never pays for it; one module-level instance, valid until the next decode.
 */
export interface IpPayload {
  /** IP protocol number / IPv6 next header. */
  proto: number;
  /** Offset of the payload in the frame. */
  off: number;
  /** End of the payload as the IP length says (may lie past the captured bytes). */
  end: number;
  frag: number;
}

export const ipPayload: IpPayload = { proto: 0, off: 0, end: 0, frag: IpFrag.NONE };
