/** What the link layer says comes next. */
export const Net = {
  /** Raw IP: the version nibble decides. */
  ANY: 0,
  IPV4: 4,
  IPV6: 6,
} as const;

/**
 * Where the network layer starts and what it should be; one module-level instance, reused.
 * `layers` counts the encapsulation headers unwrapped so far in this frame (VLAN tags excluded).
 */
export interface LinkResult {
  off: number;
  net: number;
  layers: number;
}

/**
 * Encapsulation headers (an MPLS stack, PBB, PPPoE, an LLC header, GRE, a UDP tunnel, an inner
 * Ethernet header, IP-in-IP, ...) one frame may hold before the decoder stops following them.
 * Real traffic rarely has more than three; the bound keeps a crafted frame from costing more.
 */
export const MAX_ENCAP_LAYERS = 8;
