import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIVE_ERROR_CODES } from '../../src/capture/errors';
import { buildFilter, checkFilterOptions } from '../../src/capture/live-filter';
import { needs, root, tool } from '../support/skip';
import { runChild } from '../support/tools';

describe('buildFilter', () => {
  it('is plain tcp without narrowing', () => {
    expect(buildFilter({})).toBe('tcp');
    expect(buildFilter()).toBe('tcp');
    expect(buildFilter({ ports: [], hosts: [], filter: '   ' })).toBe('tcp');
  });

  it('ORs ports and hosts within their group and ANDs the groups and the raw expression', () => {
    expect(buildFilter({ ports: [80] })).toBe('tcp and (port 80)');
    expect(buildFilter({ ports: [80, 443, 80] })).toBe('tcp and (port 80 or port 443)');
    expect(buildFilter({ hosts: ['127.0.0.1', '::1'] })).toBe('tcp and (host 127.0.0.1 or host ::1)');
    expect(buildFilter({ ports: [5432], hosts: ['db.example.org'], filter: ' tcp[tcpflags] & tcp-syn != 0 ' })).toBe(
      'tcp and (port 5432) and (host db.example.org) and (tcp[tcpflags] & tcp-syn != 0)',
    );
  });

  it('throws on what checkFilterOptions rejects', () => {
    expect(() => buildFilter({ ports: [-1] })).toThrow(RangeError);
    expect(() => buildFilter({ hosts: ['1.2.3.4) or (udp'] })).toThrow(/invalid host/);
  });

  // tcpdump compiles for lo only when it may open it.
  it('produces expressions libpcap compiles', needs(root(), tool('tcpdump')), async () => {
    for (const opts of [
      { ports: [0, 1, 65535] },
      { hosts: ['127.0.0.1', '::1', 'fe80::1', '::ffff:10.0.0.1', 'localhost'] },
      { ports: [22], hosts: ['10.1.2.3'], filter: 'tcp[13] & 2 != 0 or (dst portrange 1000-2000)' },
    ]) {
      const f = buildFilter(opts);
      const r = await runChild('tcpdump', ['-i', 'lo', '-d', f]);
      expect(r.stderr, f).toBe('');
      expect(r.code, f).toBe(0);
    }
  });
});

describe('checkFilterOptions', () => {
  it('accepts ports 0..65535, IP literals and host names', () => {
    expect(checkFilterOptions({ ports: [0, 65535], hosts: ['192.0.2.1', '2001:db8::1', 'a-b.example.'] })).toBeNull();
  });

  it.each([
    [{ ports: [65536] }, 'invalid port 65536'],
    [{ ports: [NaN] }, 'invalid port null'],
    [{ ports: ['80' as unknown as number] }, 'invalid port "80"'],
    [{ hosts: [''] }, 'invalid host ""'],
    [{ hosts: ['-bad.example'] }, 'invalid host'],
    [{ hosts: ['host 1.2.3.4'] }, 'invalid host'],
    [{ hosts: ['fe80::1%lo'] }, 'invalid host'],
    [{ filter: '(port 80' }, 'unbalanced parentheses'],
    [{ filter: 'port 80)' }, 'unbalanced parentheses'],
    [{ filter: ') or (' }, 'unbalanced parentheses'],
    [{ filter: 'port 80\u0007' }, 'control characters'],
  ])('rejects %j as bad-filter', (opts, message) => {
    const e = checkFilterOptions(opts);
    expect(e?.code).toBe('bad-filter');
    expect(LIVE_ERROR_CODES).toContain(e?.code);
    expect(e?.message).toContain(message);
  });

  it('nothing accepted can break out of its parentheses or the leading tcp', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 70000 }), { maxLength: 3 }),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (ports, hosts, filter) => {
          const opts = { ports, hosts, filter };
          if (checkFilterOptions(opts)) return;
          const f = buildFilter(opts);
          // The top level is exactly `tcp` followed by ` and (…)` groups, so every packet
          // that passes is TCP whatever the groups hold.
          expect(f.startsWith('tcp')).toBe(true);
          let i = 3;
          while (i < f.length) {
            expect(f.startsWith(' and (', i)).toBe(true);
            i += 6;
            let depth = 1;
            while (depth > 0) {
              expect(i).toBeLessThan(f.length);
              if (f[i] === '(') depth++;
              else if (f[i] === ')') depth--;
              i++;
            }
          }
          for (const h of hosts) expect(h).not.toMatch(/[\s()]/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
