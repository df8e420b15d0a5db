import type { FileError, LiveError } from '../capture/errors';
import { ROOT_HINT } from '../capture/live-cap';
import type { ListenErrorCode } from '../server/listen';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the user can act on: one line for stderr (without the `tcpscope: ` prefix) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export const SETCAP_HINT = 'sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"';

/**
 * One line per capture error code of openLive, saying what failed and how to fix it. The capture
 * layer's own messages already name the interface, list the real ones or carry libpcap's words;
 * a fix is added where they lack one.
 */
export function liveErrorMessage(iface: string, err: LiveError, interfaces: () => string[]): string {
  const detail = oneLine(err.message);
  switch (err.code) {
    case 'permission-denied':
      // Root refused means its capabilities were taken away (a container): "run as root" would not help.
      return process.getuid?.() === 0
        ? `cannot capture on ${iface}: permission denied — ${ROOT_HINT}`
        : `cannot capture on ${iface}: permission denied — run as root or grant CAP_NET_RAW: ${SETCAP_HINT}`;
    case 'unknown-interface': {
      if (/available|choose/i.test(detail)) return detail;
      let names: string[] = [];
      try {
        names = interfaces();
      } catch {
        // listing needs libpcap too; the message still says what failed
      }
      return `cannot capture on ${iface}: no such interface — available: ${names.length ? names.join(', ') : 'none found'}`;
    }
    case 'bad-filter':
      return `${detail} — check the BPF syntax (man pcap-filter), e.g. -f 'port 80 or port 443'`;
    case 'libpcap-missing':
      return /install/i.test(detail)
        ? detail
        : `cannot capture: libpcap is not available (${detail}) — install it: apt-get install -y libpcap0.8 libpcap-dev, then npm rebuild cap`;
    default:
      return detail.startsWith('cannot') ? detail : `cannot capture on ${iface}: ${detail}`;
  }
}

/** A capture file that could not be read, or that is damaged part-way. */
export function fileErrorMessage(path: string, err: FileError, framesBefore: number): string {
  const name = path === '-' ? 'standard input' : path;
  const detail = oneLine(err.message);
  switch (err.code) {
    case 'io-error':
      return `${detail.startsWith('cannot') ? detail : `cannot read ${name}: ${detail}`} — check the path and that it is readable`;
    case 'empty-file':
    case 'bad-magic':
    case 'unsupported-version':
      return `cannot read ${name}: ${detail} — tcpscope reads pcap and pcapng files, gzipped or not (made by tcpdump -w or dumpcap -w)`;
    default: {
      const before = framesBefore === 1 ? 'the packet' : `the ${framesBefore} packets`;
      return `${name}: ${detail}${framesBefore > 0 ? ` — ${before} before it were processed` : ''}`;
    }
  }
}

export function listenErrorMessage(host: string, port: number, code: ListenErrorCode, message: string): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'address-in-use':
      return `cannot listen on ${where}: address already in use — stop the other process or choose another port with --listen ${host.includes(':') ? `[${host}]` : host}:PORT (or --no-server)`;
    case 'permission-denied':
      return `cannot listen on ${where}: permission denied — ports below 1024 need root; choose --listen 127.0.0.1:7070`;
    case 'address-not-available':
      return `cannot listen on ${where}: no such address on this machine — use 127.0.0.1 or an address of one of its interfaces`;
    default:
      return `cannot listen on ${where}: ${oneLine(message)}`;
  }
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
