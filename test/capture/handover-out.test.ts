// The capture process's writes to the hand-over pipe, on a real Unix socket whose reader is
// paused: straight to the descriptor while the pipe takes them, through the socket once it is full,
// back to the descriptor once the socket has drained, the bytes in order; a broken pipe reported.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { handoverOut } from '../../src/capture/handover-out';
import { waitFor } from '../support/wait';

interface Pair {
  writer: net.Socket;
  fd: number;
  reader: net.Socket;
  close(): void;
}

async function pair(): Promise<Pair> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-handover-'));
  const file = path.join(dir, 's');
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(file, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const writer = net.connect(file);
  await new Promise<void>((r) => writer.once('connect', r));
  const reader = await accepted;
  // the descriptor libuv made non-blocking, as the capture process's fd 3 is
  const fd = (writer as unknown as { _handle: { fd: number } })._handle.fd;
  expect(fd).toBeGreaterThan(2);
  return {
    writer,
    fd,
    reader,
    close() {
      writer.destroy();
      reader.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let open: Pair | null = null;
afterEach(() => {
  open?.close();
  open = null;
});

describe('hand-over pipe writes', () => {
  it('keeps every byte in order when the pipe fills, and writes straight again once it drains', async () => {
    const p = (open = await pair());
    let gone = 0;
    const put = handoverOut(p.fd, p.writer, () => gone++);
    // one reused buffer, as the batch writer's: what the socket keeps must be a copy
    const batch = Buffer.alloc(64 * 1024);
    const sent: Buffer[] = [];
    let n = 0;
    const next = () => {
      for (let i = 0; i < batch.length; i += 4) batch.writeUInt32LE(n++, i);
      sent.push(Buffer.from(batch));
      put(batch);
    };
    // far more than a Unix socket's buffers hold while nothing reads
    for (let i = 0; i < 64; i++) next();
    expect(p.writer.writableLength).toBeGreaterThan(0);
    batch.fill(0xff);

    const got: Buffer[] = [];
    let bytes = 0;
    p.reader.on('data', (d: Buffer) => {
      got.push(d);
      bytes += d.length;
    });
    p.reader.resume();
    // more while the socket still holds some and the pipe has room again: they queue behind it
    let behind = 0;
    while (p.writer.writableLength > 0 && behind < 64) {
      await new Promise((r) => setImmediate(r));
      next();
      behind++;
    }
    expect(behind).toBeGreaterThan(1);
    await waitFor('the socket to drain', () => p.writer.writableLength === 0, 10_000);
    // drained: straight to the descriptor again, nothing queued
    next();
    expect(p.writer.writableLength).toBe(0);
    const total = sent.reduce((s, b) => s + b.length, 0);
    await waitFor('every byte', () => bytes >= total, 10_000);
    expect(bytes).toBe(total);
    expect(Buffer.concat(got).equals(Buffer.concat(sent))).toBe(true);
    expect(gone).toBe(0);
  });

  it('reports a reader that is gone', async () => {
    const p = (open = await pair());
    let gone = 0;
    p.writer.on('error', () => {});
    const put = handoverOut(p.fd, p.writer, () => gone++);
    // closed at once (the descriptor goes with it): the next write finds the pipe broken
    p.reader.destroy();
    put(Buffer.alloc(1024));
    expect(gone).toBe(1);
    expect(p.writer.writableLength).toBe(0);
  });
});
