import type { DecodeStatus } from './segment';

/**
 * Every DecodeStatus, in a fixed order: the index of a code here is its slot in DecodeCounters.
 * The mapped type below makes the compiler reject a list that misses a code of the union.
 */
const ALL = {
  ok: 0,
  'not-ip': 1,
  'not-tcp': 2,
  'ip-fragment': 3,
  'unsupported-link': 4,
  'truncated-link': 5,
  'truncated-ip': 6,
  'bad-ip-version': 7,
  'bad-ip-header-length': 8,
  'bad-ip-total-length': 9,
  'truncated-ip6-ext': 10,
  'bad-ip6-ext': 11,
  'truncated-tcp': 12,
  'bad-tcp-offset': 13,
  'short-first-fragment': 14,
  'encap-too-deep': 15,
  'truncated-encap': 16,
  'bad-encap': 17,
} as const satisfies { [K in DecodeStatus]: number };

export const STATUS_INDEX: Readonly<Record<DecodeStatus, number>> = ALL;

export const DECODE_STATUSES: readonly DecodeStatus[] = (Object.keys(ALL) as DecodeStatus[]).sort(
  (a, b) => ALL[a] - ALL[b],
);
