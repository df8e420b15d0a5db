import { writeSync } from 'node:fs';
import type net from 'node:net';

/**
 * The capture process's writes to the hand-over pipe: `put(bytes)` writes straight to the
 * descriptor `fd` while `socket` (the same descriptor, which it has made non-blocking) holds nothing
 * queued, and what the pipe did not take, copied, through the socket, which keeps it in order and
 * counts it (`writableLength`). `bytes` may be reused once `put` returns. A write that fails for
 * any reason but a full pipe (the reader is gone) calls `gone`. The socket's stream machinery per
 * batch was a large share of a drain's cost at moderate rates, run by code V8 had not yet optimised.
 */
export function handoverOut(fd: number, socket: net.Socket, gone: () => void): (bytes: Buffer) => void {
  return (bytes) => {
    let rest = bytes;
    if (socket.writableLength === 0) {
      try {
        const n = writeSync(fd, bytes);
        if (n === bytes.length) return;
        rest = bytes.subarray(n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return gone();
      }
    }
    socket.write(Buffer.from(rest));
  };
}
