import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SocketScanner, type ScanAsk, type ScanResult } from './scan';

export type ScanRequest = { type: 'scan'; ask: ScanAsk } | { type: 'close' };

/** Something that reads the kernel's socket tables, one scan at a time. */
export interface Scanner {
  scan(ask: ScanAsk): Promise<ScanResult>;
  close(): Promise<void>;
  /** 'thread' when scans run off the main thread. */
  readonly mode: 'thread' | 'inline';
}

const WORKER = path.join(__dirname, 'scan-worker.js');

/** The scanning thread's name, as `ps -L`, `top -H` and /proc/PID/task/TID/comm show it. */
export const THREAD_NAME = 'tcpscope-scan';

/**
 * Scans in a worker thread (the compiled script is there when running from dist/, as the CLI
 * does); in the same thread otherwise (TypeScript sources run directly, as in unit tests).
 */
export function openScanner(workerPath = WORKER): Scanner {
  return existsSync(workerPath) ? new ThreadScanner(workerPath) : new InlineScanner();
}

class InlineScanner implements Scanner {
  readonly mode = 'inline';
  private readonly s = new SocketScanner();
  async scan(ask: ScanAsk): Promise<ScanResult> {
    return this.s.scan(ask);
  }
  async close(): Promise<void> {}
}

class ThreadScanner implements Scanner {
  readonly mode = 'thread';
  private readonly w: Worker;
  private waiting: { resolve: (r: ScanResult) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | null = null;

  constructor(file: string) {
    this.w = new Worker(file);
    this.w.unref();
    this.w.on('message', (r: ScanResult | { type: 'closed' }) => {
      if ('type' in r) this.onClosed?.();
      else this.waiting.shift()?.resolve(r);
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const x of this.waiting.splice(0)) x.reject(e);
    };
    this.w.on('error', fail);
    this.w.on('exit', () => fail(new Error('the socket scanner thread stopped')));
  }

  scan(ask: ScanAsk): Promise<ScanResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.w.postMessage({ type: 'scan', ask } satisfies ScanRequest);
    });
  }

  private onClosed: (() => void) | null = null;

  async close(): Promise<void> {
    this.w.removeAllListeners('exit');
    // the thread ends its ss helper first (waited for: no process is left behind), then stops
    if (!this.failed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 10_000);
        this.onClosed = () => {
          clearTimeout(t);
          resolve();
        };
        this.w.postMessage({ type: 'close' } satisfies ScanRequest);
      });
    }
    await this.w.terminate();
  }
}
