// docker-compose.yml must be a file Compose accepts, with the services the README promises.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { needs, tool } from '../support/skip';

const REPO = path.resolve(__dirname, '..', '..');

function config(args: string[]): string {
  return execFileSync('docker-compose', [...args, 'config'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, TCPSCOPE_TOKEN: '', CAPTURE: '', TCPSCOPE_IFACE: '', TCPSCOPE_PORT: '' },
  });
}

describe('docker-compose.yml', needs(tool('docker-compose')), () => {
  it('validates, with the live service on the host network and raw-socket capabilities', () => {
    const out = config([]);
    expect(out).toMatch(/network_mode: host/);
    expect(out).toMatch(/- NET_RAW/);
    expect(out).toMatch(/- NET_ADMIN/);
    expect(out).toMatch(/\/api\/health/);
    expect(out).toMatch(/- live/);
  });

  it('validates with the replay profile: a read-only captures folder and a published port', () => {
    const out = config(['--profile', 'replay']);
    expect(out).toMatch(/replay:/);
    expect(out).toMatch(/\/captures:ro/);
    expect(out).toMatch(/127\.0\.0\.1:7071:7070/);
  });
});
