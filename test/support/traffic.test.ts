import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  PATTERNS,
  bulkTransfer,
  clientClosesFirst,
  concurrent,
  halfClose,
  portReuse,
  refused,
  serverClosesFirst,
  type PatternResult,
} from './traffic';

/** `ss` states of one 4-tuple as seen from `local` (both full and timewait sockets). */
function ssStates(local: { ip: string; port: number }, remote: { ip: string; port: number }): string[] {
  const host = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
  const expr = `( src ${host(local.ip)}:${local.port} and dst ${host(remote.ip)}:${remote.port} )`;
  const out = execFileSync('ss', ['-tanH', 'state', 'all', expr]);
  return out
    .toString()
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/)[0]);
}

function wellFormed(r: PatternResult): void {
  expect(r.serverPorts.length).toBeGreaterThan(0);
  for (const c of r.connections) {
    expect(c.client.port).toBeGreaterThan(0);
    expect(r.serverPorts).toContain(c.server.port);
    expect(c.client.ip).toBe(c.server.ip);
  }
}

describe('loopback traffic patterns', () => {
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    it(`${name}: calls onReady with the server port before connecting, reports its 4-tuples`, async () => {
      let readyPorts: number[] = [];
      const r = await pattern({
        onReady: (ports) => {
          readyPorts = ports;
        },
      });
      expect(r.serverPorts).toEqual(readyPorts);
      expect(r.connections.length).toBeGreaterThan(0);
      wellFormed(r);
    });
  }

  it('client closes first: the client 4-tuple is in TIME-WAIT afterwards, the server side gone', async () => {
    const r = await clientClosesFirst();
    const c = r.connections[0];
    expect(ssStates(c.client, c.server)).toEqual(['TIME-WAIT']);
    expect(ssStates(c.server, c.client)).toEqual([]);
  });

  it('server closes first: the TIME-WAIT is on the server side', async () => {
    const r = await serverClosesFirst();
    const c = r.connections[0];
    expect(ssStates(c.server, c.client)).toEqual(['TIME-WAIT']);
    expect(ssStates(c.client, c.server)).toEqual([]);
  });

  it('port reuse: both connections use the same client port', async () => {
    const r = await portReuse();
    expect(r.connections).toHaveLength(2);
    expect(r.connections[0]).toEqual(r.connections[1]);
  });

  it('refused: reports the client port it bound and the port that refused', async () => {
    const r = await refused();
    expect(r.connections).toHaveLength(1);
    expect(r.connections[0].server.port).toBe(r.serverPorts[0]);
  });

  it('half-close: the whole response arrives after the client FIN', async () => {
    const r = await halfClose({ responseBytes: 1 << 20 });
    expect(r.notes[0]).toMatch(/1048576 bytes after/);
  });

  it('concurrent: every connection has its own client port', async () => {
    const r = await concurrent({ count: 100 });
    expect(new Set(r.connections.map((c) => c.client.port)).size).toBe(100);
  });

  it('bulk transfer: checks the byte counts both ways', async () => {
    const r = await bulkTransfer({ bytes: 2 * 1024 * 1024 });
    expect(r.notes).toContain('2097152 bytes each way');
  });

  it('a pattern that cannot finish rejects at its deadline instead of hanging', async () => {
    // the onReady hook outlives the deadline
    await expect(
      clientClosesFirst({ timeoutMs: 200, onReady: () => new Promise((r) => setTimeout(r, 1000)) }),
    ).rejects.toThrow(/timed out/);
  });
});
