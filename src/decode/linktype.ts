/** LINKTYPE_* values as pcap and pcapng files carry them (tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0, // BSD loopback, host-order u32 family
  ETHERNET: 1,
  FDDI: 10, // frame control, two MACs (bit-swapped on some systems), then 802.2 LLC
  RAW_OPENBSD: 12, // DLT_RAW on OpenBSD
  RAW_BSD: 14, // DLT_RAW on BSD/OS
  LOOP: 108, // OpenBSD loopback, network-order u32 family
  RAW: 101, // LINKTYPE_RAW
  IEEE802_11_RADIOTAP: 127, // 802.11 monitor mode with a radiotap header
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
