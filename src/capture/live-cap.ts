import type { LiveError } from './errors';

/** libpcap's counters (pcap_stats(3pcap)); on Linux `ps_recv` includes what was dropped. */
export interface CapStats {
  ps_recv: number;
  /** Packets the kernel dropped because the ring was full. */
  ps_drop: number;
  ps_ifdrop: number;
}

/**
 * The part of the `cap` binding live capture uses (the package ships no types). `snaplen` and
 * `stats()` come from patches/cap+0.2.1.patch, applied on install.
 */
export interface CapHandle {
  /**
   * Returns cap's name for the link type ('ETHERNET', 'LINKTYPE_LINUX_SLL', 'Unknown linktype N', …).
   * libpcap keeps at most `snaplen` bytes of each packet (default 65535).
   */
  open(device: string, filter: string, bufSize: number, buffer: Buffer, snaplen?: number): string;
  close(): boolean;
  stats(): CapStats;
  /** Only on Windows builds. */
  setMinBytes?(nBytes: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  /** cap delivers each packet as emit('packet', nbytes, truncated), the handle being an EventEmitter. */
  emit(event: string, ...args: unknown[]): boolean;
}

export interface CapDevice {
  name: string;
  description?: string;
  flags?: string;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

export const SETCAP_HINT =
  'run as root or grant CAP_NET_RAW: sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"';

// Root is refused only when its capabilities were taken away, typically by a container runtime.
export const ROOT_HINT =
  'running as root without CAP_NET_RAW/CAP_NET_ADMIN: give them to the container or session ' +
  '(e.g. docker run --cap-add NET_RAW --cap-add NET_ADMIN)';

const INSTALL_HINT =
  'install libpcap (apt-get install libpcap0.8, or libpcap-dev to build) and run npm rebuild cap';

let loaded: { ok: true; cap: CapModule } | { ok: false; error: LiveError } | undefined;

/**
 * Loads `cap` on first use, so that a machine without libpcap can still replay and analyze files;
 * only live capture needs the shared library. A failure is kept: the dynamic loader would fail
 * the same way again.
 */
export function loadCap(): { ok: true; cap: CapModule } | { ok: false; error: LiveError } {
  if (loaded) return loaded;
  try {
    loaded = { ok: true, cap: require('cap') as CapModule };
  } catch (e) {
    loaded = { ok: false, error: capLoadError(e) };
  }
  return loaded;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function capLoadError(e: unknown): LiveError {
  const err = e as NodeJS.ErrnoException;
  const detail = oneLine(String(err?.message ?? e).split('\n')[0]);
  if (err?.code === 'MODULE_NOT_FOUND') {
    return {
      code: 'libpcap-missing',
      message: `live capture is unavailable: the capture module (cap) is not installed or not built (${detail}) — ${INSTALL_HINT}`,
    };
  }
  return {
    code: 'libpcap-missing',
    message: `live capture is unavailable: cannot load libpcap (${detail}) — ${INSTALL_HINT}`,
  };
}

const PERMISSION = /not permitted|permission denied|don't have permission/i;
const NO_DEVICE = /no such device|doesn't exist|no such interface/i;

/**
 * Maps a failure of cap's open() with an empty filter, i.e. of opening and activating the
 * device, to a stable code. libpcap only gives us its text, so the code comes from the text.
 */
export function openError(iface: string, e: unknown, interfaces: () => string[]): LiveError {
  const detail = oneLine(String((e as Error)?.message ?? e));
  if (PERMISSION.test(detail)) {
    return {
      code: 'permission-denied',
      message: `cannot capture on ${iface}: permission denied (${detail}) — ${process.getuid?.() === 0 ? ROOT_HINT : SETCAP_HINT}`,
    };
  }
  if (NO_DEVICE.test(detail)) return unknownInterface(iface, interfaces());
  return { code: 'capture-failed', message: `cannot capture on ${iface}: ${detail}` };
}

export function unknownInterface(iface: string, interfaces: string[]): LiveError {
  const list = interfaces.length > 0 ? interfaces.join(', ') : 'none found';
  return {
    code: 'unknown-interface',
    message: `cannot capture on ${iface}: no such interface — available: ${list}`,
  };
}

export function filterError(filter: string, e: unknown): LiveError {
  const detail = oneLine(String((e as Error)?.message ?? e));
  return { code: 'bad-filter', message: `invalid capture filter "${filter}": ${detail}` };
}
