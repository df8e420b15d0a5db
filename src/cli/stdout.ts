let stdoutGuarded = false;
/** A reader that goes away (`| head`) ends the program quietly instead of with an EPIPE trace. */
export function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`tcpscope: cannot write output: ${err.message}\n`);
    process.exit(1);
  });
}

/**
 * Reading pauses while `wait` is a promise (the file drivers look at it after each packet). Each
 * part of the output that is behind (a pipe not drained, every record batch out) holds it, and it
 * opens when the last of them releases it.
 */
export class OutputGate {
  wait: Promise<void> | null = null;
  private holds = 0;
  private open: () => void = () => {};

  hold(): void {
    if (this.holds++ === 0) this.wait = new Promise<void>((resolve) => (this.open = resolve));
  }

  release(): void {
    if (this.holds === 0 || --this.holds > 0) return;
    this.wait = null;
    this.open();
  }
}
