// The small pure pieces of the server: addresses, cursors, query parameters.
import { describe, expect, it } from 'vitest';
import { isLoopback, parseListen } from '../../src/server/address';
import { canonicalIp, decodeCursor, encodeCursor, parseListQuery } from '../../src/server/query';

describe('--listen', () => {
  it.each([
    ['127.0.0.1:7070', { host: '127.0.0.1', port: 7070 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    [':8080', { host: '127.0.0.1', port: 8080 }],
    ['8080', { host: '127.0.0.1', port: 8080 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('%s', (text, want) => expect(parseListen(text)).toEqual(want));

  it.each(['::1:80', 'host:80', '1.2.3.4:99999', '1.2.3.4:', 'abc'])('refuses %s', (text) => {
    expect(typeof parseListen(text)).toBe('string');
  });

  it('knows loopback', () => {
    expect(['127.0.0.1', '127.0.0.2', '::1', 'localhost', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.1'].some(isLoopback)).toBe(false);
  });
});

describe('cursors', () => {
  it('round-trip and reject what they did not issue', () => {
    for (const n of [0, 1, 99, 2 ** 40]) expect(decodeCursor(encodeCursor(n))).toBe(n);
    expect(decodeCursor('')).toBeNull();
    expect(decodeCursor('not a cursor')).toBeNull();
    expect(decodeCursor(Buffer.from('c2.5').toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from('c1.-5').toString('base64url'))).toBeNull();
  });
});

describe('query parameters', () => {
  it('default to open connections, 100 at a time', () => {
    expect(parseListQuery({})).toEqual({ ok: true, value: { status: 'open', state: null, port: null, host: null, limit: 100, after: 0 } });
  });

  it('canonicalise addresses as the tracker prints them', () => {
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('localhost')).toBeNull();
  });

  it('name the parameter that is wrong', () => {
    const r = parseListQuery({ status: 'all', limit: '5000' });
    expect(r).toMatchObject({ ok: false, parameter: 'limit' });
    expect(parseListQuery({ state: ['A', 'B'] })).toMatchObject({ ok: false, parameter: 'state' });
  });
});
