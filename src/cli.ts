// Composition root: the only place that wires capture → decode → track → events → server.
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine } from './cli/errors';
import {
  collectHost,
  collectPort,
  parseListenOption,
  parseBufferMiB,
  parseSnapLength,
  parseMaxConnections,
  parseMsl,
  parseEvery,
  parseSeconds,
  parseShare,
  parseSynFlood,
  collectPid,
  collectCommand,
  parseSpeed,
  ANALYZE_FORMATS,
  READ_THREAD_MODES,
  WRITE_THREAD_MODES,
  type AnalyzeFormat,
  type ReadThreadMode,
  type WriteThreadMode,
  type Speed,
} from './cli/options';
import { VERSION } from './cli/version';
import { WATCH_SNAPLEN } from './capture/snaplen';
import { DEFAULT_LISTEN, type ListenAddress } from './server/address';

const LISTEN_DEFAULT_TEXT = `${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}`;

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--msl <seconds>', 'maximum segment lifetime; TIME_WAIT lasts 2×MSL (default: 30, as Linux)', parseMsl)
    .option('--max-connections <n>', 'most connections kept in the table; the oldest closed ones go first (default: 100000)', parseMaxConnections);
}

/** Thresholds of the diagnoses (live and analyze). */
function diagnoseOptions(cmd: Command): Command {
  return cmd
    .option('--close-wait-after <seconds>', 'diagnose an endpoint held in CLOSE_WAIT this long (default: 10)', parseSeconds)
    .option('--syn-flood <n>', 'diagnose a SYN flood at this many half-open connections to one port (default: 100)', parseSynFlood)
    .option('--time-wait-pileup <share>', 'diagnose a TIME_WAIT pile-up when this share of the ephemeral port range, from one client address to one server, is in TIME_WAIT (default: 0.5)', parseShare);
}

function diagnoseArgs(opts: Record<string, unknown>) {
  return {
    closeWaitAfter: opts.closeWaitAfter as number | undefined,
    synFlood: opts.synFlood as number | undefined,
    timeWaitPileup: opts.timeWaitPileup as number | undefined,
  };
}

function serveOptions(cmd: Command): Command {
  return cmd
    .option('--listen <host:port>', `serve the dashboard, REST API and WebSocket here (default: ${LISTEN_DEFAULT_TEXT})`, parseListenOption)
    .addOption(
      new Option('--token <token>', 'require this token on every request (needed to listen beyond loopback)').env('TCPSCOPE_TOKEN'),
    );
}

/** What the serving commands (live, replay) take from the options `serveOptions` and `commonOptions` add. */
function servingArgs(opts: Record<string, unknown>) {
  return {
    jsonl: !!opts.jsonl,
    server: opts.server !== false,
    listen: (opts.listen as ListenAddress | undefined) ?? DEFAULT_LISTEN,
    token: opts.token as string | undefined,
    msl: opts.msl as number | undefined,
    maxConnections: opts.maxConnections as number | undefined,
  };
}

/** Commander's usage errors as one line, pointing at the help of the command concerned. */
function usageLine(cmd: string): (str: string, write: (s: string) => void) => void {
  return (str, write) => {
    const msg = oneLine(str.replace(/^error:\s*/i, '')).replace(/ is invalid\. /, ' is invalid: ').replace(/\.$/, '');
    write(`tcpscope: ${msg} — see ${cmd} --help\n`);
  };
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => (l ? `  ${l}` : '')).join('\n')}\n`;
}

export function buildProgram(onDone: (code: number) => void): Command {
  const program = new Command('tcpscope');
  program
    .description('Watch TCP connections live: handshakes, teardowns and each endpoint\'s RFC 9293 state, from real packets.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: usageLine('tcpscope') })
    .addHelpText(
      'after',
      examples([
        'sudo npx tcpscope live -p 3000            # watch connections to a local server on port 3000',
        'npx tcpscope replay capture.pcap          # replay a capture and explore it on the dashboard',
        'npx tcpscope analyze capture.pcap --format zeek > conn.log',
        'sudo npx tcpscope demo                    # loopback traffic of every kind, live',
      ]),
    );

  const live = program
    .command('live')
    .description('capture on an interface (default lo) and serve the dashboard, REST API and WebSocket stream')
    .option('-i, --interface <name>', 'interface to capture on', 'lo')
    .option('-p, --port <port>', 'only connections on this port (repeatable)', collectPort, [] as number[])
    .option('--host <addr>', 'only connections with this address (repeatable)', collectHost, [] as string[])
    .option('-f, --filter <bpf>', "extra BPF expression, combined as 'tcp and (BPF)'")
    .option('--pid <pid>', "only the ports of this process's sockets, listening and connected, following new listening ports (repeatable)", collectPid, [] as number[])
    .option('--command <name>', 'only the ports of the sockets of processes with this command name (repeatable)', collectCommand, [] as string[])
    .option('--buffer <MiB>', 'kernel capture buffer: packets wait here while tcpscope is busy, each in a slot sized by the snap length (default: 64, some 110 000 packets at the default snap length)', parseBufferMiB)
    .option('-s, --snaplen <bytes>', `bytes of each packet kept, as tcpdump -s: headers are all tcpscope reads, and a larger snap length makes the kernel buffer hold fewer packets (default: ${WATCH_SNAPLEN}; 0: whole packets)`, parseSnapLength)
    .option('--no-server', 'serve nothing (with --jsonl: a plain event stream)')
    .option('--jsonl', 'also print every event as one JSON line on stdout')
    .option('--no-sockets', "do not read this machine's socket tables (owners, listeners, kernel cross-check)")
    .option('-w, --write <file>', 'also write what is captured to this pcapng file, each packet with its process in a comment (as ptcpdump writes them)');
  diagnoseOptions(live);
  serveOptions(live);
  commonOptions(live);
  live
    .configureOutput({ outputError: usageLine('tcpscope live') })
    .addHelpText(
      'after',
      examples([
        'sudo tcpscope live -p 3000                       # a local server on port 3000; open http://127.0.0.1:7070/',
        'sudo tcpscope live -i eth0 --host 10.0.0.5 -p 443',
        'sudo tcpscope live -p 3000 -w owners.pcapng          # keep the capture, with each packet\'s process; tcpscope replay owners.pcapng',
        "sudo tcpscope live -f 'portrange 8000-8100' --no-server --jsonl | jq .",
        'TCPSCOPE_TOKEN=secret sudo -E tcpscope live --listen 0.0.0.0:7070',
        '',
        'Capture needs root or CAP_NET_RAW: sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"',
      ]),
    )
    .action(async (opts) => {
      onDone(
        await (await import('./cli/live')).runLive({
          iface: opts.interface,
          ports: opts.port,
          hosts: opts.host,
          filter: opts.filter,
          bufferSize: opts.buffer,
          snapLength: opts.snaplen,
          sockets: opts.sockets !== false,
          ...diagnoseArgs(opts),
          pids: opts.pid,
          commands: opts.command,
          write: opts.write,
          ...servingArgs(opts),
        }),
      );
    });

  const replay = program
    .command('replay')
    .description('feed a capture file (pcap, pcapng, gzipped or not; - for stdin) through the engine and serve the same API')
    .argument('<file>', "capture file, or '-' to read standard input")
    .addOption(
      new Option('--speed <speed>', "'max', 'realtime' or a factor such as 10 (ten times real time)")
        .argParser(parseSpeed)
        .default({ kind: 'factor', factor: 1 } as Speed, 'realtime'),
    )
    .option('--exit', 'quit when the file ends instead of serving the result')
    .addOption(
      new Option('--read-thread <mode>', "at --speed max, read and decode the file in a second thread while this one tracks (auto: files of 4 MiB or more but uncompressed pcapng, with a second core)")
        .choices(READ_THREAD_MODES)
        .default('auto'),
    )
    .option('--no-server', 'serve nothing (with --jsonl: print the events)')
    .option('--jsonl', 'also print every event as one JSON line on stdout');
  serveOptions(replay);
  commonOptions(replay);
  replay
    .configureOutput({ outputError: usageLine('tcpscope replay') })
    .addHelpText(
      'after',
      examples([
        'tcpscope replay capture.pcap                     # at capture speed; query http://127.0.0.1:7070/api/connections',
        'tcpscope replay capture.pcapng.gz --speed max    # as fast as possible, then keep serving',
        'tcpscope replay capture.pcap --speed 10 --exit',
        'sudo tcpdump -i lo -w - port 3000 | tcpscope replay -',
      ]),
    )
    .action(async (file: string, opts) => {
      onDone(
        await (await import('./cli/replay')).runReplay({
          file,
          speed: opts.speed,
          exit: !!opts.exit,
          readThread: opts.readThread as ReadThreadMode,
          ...servingArgs(opts),
        }),
      );
    });

  const analyze = program
    .command('analyze')
    .description('read a capture file offline and print one record per connection')
    .argument('<file>', "capture file, or '-' to read standard input")
    .addOption(new Option('--format <format>', 'output format').choices(ANALYZE_FORMATS).default('table'))
    .addOption(
      new Option('--read-thread <mode>', 'read and decode the file in a second thread while this one tracks (auto: files of 4 MiB or more but uncompressed pcapng, with a second core)')
        .choices(READ_THREAD_MODES)
        .default('auto'),
    )
    .addOption(
      new Option('--write-thread <mode>', 'format and encode the records in a second thread while this one tracks (auto: table and jsonl of files of 4 MiB or more and of standard input, with three cores or more)')
        .choices(WRITE_THREAD_MODES)
        .default('auto'),
    );
  diagnoseOptions(analyze);
  commonOptions(analyze);
  analyze
    .configureOutput({ outputError: usageLine('tcpscope analyze') })
    .addHelpText(
      'after',
      examples([
        'tcpscope analyze capture.pcap                    # a table and a summary by conn_state',
        "tcpscope analyze capture.pcap --format jsonl | jq 'select(.connState == \"REJ\")'",
        'tcpscope analyze capture.pcap --format zeek > conn.log && zeek-cut id.orig_h id.resp_p conn_state < conn.log',
        'tcpdump -r big.pcap -w - "port 443" | tcpscope analyze -',
      ]),
    )
    .action(async (file: string, opts) => {
      onDone(
        await (await import('./cli/analyze')).runAnalyze({
          file,
          format: opts.format as AnalyzeFormat,
          readThread: opts.readThread as ReadThreadMode,
          writeThread: opts.writeThread as WriteThreadMode,
          msl: opts.msl,
          maxConnections: opts.maxConnections,
          ...diagnoseArgs(opts),
        }),
      );
    });

  const demo = program
    .command('demo')
    .description('start a small server and clients on loopback, capture them live and serve the dashboard')
    .option('--every <seconds>', 'seconds between rounds of demo traffic', parseEvery, 3);
  serveOptions(demo);
  commonOptions(demo);
  demo
    .configureOutput({ outputError: usageLine('tcpscope demo') })
    .addHelpText('after', examples(['sudo tcpscope demo', 'sudo tcpscope demo --listen 127.0.0.1:8080 --msl 5']))
    .action(async (opts) => {
      onDone(
        await (await import('./cli/demo')).runDemo({
          every: opts.every,
          server: true,
          listen: (opts.listen as ListenAddress | undefined) ?? DEFAULT_LISTEN,
          token: opts.token,
          msl: opts.msl,
          maxConnections: opts.maxConnections,
        }),
      );
    });

  return program;
}

function fail(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`tcpscope: ${oneLine(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    // `tcpscope help CMD` asked for help (0); a bare `tcpscope` got it for want of a command (2).
    if (err.code === 'commander.help' && err.exitCode === 0) return EXIT_OK;
    return EXIT_USAGE; // commander already printed the one-line message (or the help, for a bare `tcpscope`)
  }
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tcpscope: internal error: ${oneLine(msg)} — set TCPSCOPE_DEBUG=1 for details and please report it\n`);
  if (process.env.TCPSCOPE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT_FAILURE;
}

/**
 * Entry point of bin/tcpscope.js. Runs asynchronously; the exit code is set when the command ends,
 * and the process is ended then so no stray handle (a capture, a server) can keep it alive.
 */
export function main(argv: string[]): void {
  const finish = (code: number) => {
    process.exitCode = code;
    // Let stdout drain (analyze output into a pipe) before leaving.
    if (process.stdout.writableLength > 0) process.stdout.once('drain', () => process.exit(code));
    else process.exit(code);
  };
  process.on('uncaughtException', (err) => finish(fail(err)));
  process.on('unhandledRejection', (err) => finish(fail(err)));
  let done = false;
  const program = buildProgram((code) => {
    done = true;
    finish(code);
  });
  program.parseAsync(argv, { from: 'user' }).then(
    () => {
      if (!done) finish(EXIT_OK);
    },
    (err) => finish(fail(err)),
  );
}
