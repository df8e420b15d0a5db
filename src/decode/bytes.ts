// Big-endian reads by hand: Buffer#readUInt32BE re-checks bounds and throws, and every caller
// here has already checked the range once.

export function u16(d: Buffer, o: number): number {
  return (d[o] << 8) | d[o + 1];
}

export function u32(d: Buffer, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}

/**
 * Whether this machine stores numbers little-endian: an Int32Array over little-endian bytes (a
 * file's words, four address bytes) then reads them as written.
 */
export const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
