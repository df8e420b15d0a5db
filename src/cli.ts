// Composition root: the only place that wires capture → decode → track → events → server.
export function main(argv: string[]): void {
  if (argv.includes('--version')) {
    process.stdout.write(require('../package.json').version + '\n');
    return;
  }
  process.stderr.write('tcpscope: no command yet\n');
  process.exitCode = 2;
}
