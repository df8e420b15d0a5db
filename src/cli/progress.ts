import { SingleBar } from 'cli-progress';

export interface Progress {
  update(bytesRead: number, totalBytes: number | null): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

/** A progress bar on stderr, only when stderr is a terminal (never in pipes, logs or CI). */
export function fileProgress(label: string): Progress {
  if (!process.stderr.isTTY) return NONE;
  let bar: SingleBar | null = null;
  let known = false;
  return {
    update(bytesRead, totalBytes) {
      if (!bar) {
        known = totalBytes !== null && totalBytes > 0;
        bar = new SingleBar({
          stream: process.stderr,
          format: known
            ? `${label} [{bar}] {percentage}% | {done} of {size} | {eta_formatted}`
            : `${label} {done} read`,
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
          etaBuffer: 50,
        });
        bar.start(known ? totalBytes! : 1, 0, { done: mib(0), size: mib(totalBytes ?? 0) });
      }
      bar.update(known ? Math.min(bytesRead, bar.getTotal()) : 0, { done: mib(bytesRead), size: mib(totalBytes ?? 0) });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function mib(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}
