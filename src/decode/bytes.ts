// Big-endian reads by hand: Buffer#readUInt32BE re-checks bounds and throws, and every caller
// here has already checked the range once.

export function u16(d: Buffer, o: number): number {
  return (d[o] << 8) | d[o + 1];
}

export function u32(d: Buffer, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}
