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
