import { describe, expect, it } from 'vitest';
import { connectionIdNumber } from '../../src/track/record';

describe('connectionIdNumber', () => {
  it('reads a positive integer written in its decimal form', () => {
    expect(connectionIdNumber('1')).toBe(1);
    expect(connectionIdNumber('4294967296')).toBe(4294967296);
  });

  it('gives -1 for any other text, so no two texts share one number', () => {
    for (const t of ['', ' ', '0', '-3', '07', '0x10', '1e3', '1.5', '16 ', 'NaN', 'Infinity', 'abc', '9007199254740993']) {
      expect(connectionIdNumber(t), JSON.stringify(t)).toBe(-1);
    }
  });
});
