import { LinkType } from '../decode/linktype';
import type { CaptureError, Frame } from './frame';
import { type CapHandle, type CapModule, filterError, loadCap, openError, unknownInterface } from './live-cap';
import { stampFrom } from './live-clock';
import { buildFilter, checkFilterOptions } from './live-filter';
import { originalLength } from './live-origlen';

export { buildFilter, checkFilterOptions } from './live-filter';
export { captureClockMs } from './live-clock';

export interface LiveOptions {
  /** Interface to capture on; default 'lo'. */
  iface?: string;
  ports?: number[];
  hosts?: string[];
  /** Raw BPF expression, AND-ed with the rest as `tcp and (EXPR)`. */
  filter?: string;
  /** Kernel capture buffer in bytes; default 32 MiB. */
  bufferSize?: number;
}

export interface LiveStats {
  frames: number;
  /** Bytes on the wire (sum of origLen). */
  bytes: number;
  /** Packets the kernel dropped; null because `cap` does not expose pcap_stats. */
  dropped: number | null;
}

export interface LiveCapture {
  iface: string;
  linkType: number;
  /** The BPF expression in effect. */
  filter: string;
  /** Stops capturing and releases the handle; calling it again does nothing. */
  stop(): void;
  stats(): LiveStats;
}

export type OpenLiveResult = { ok: true; capture: LiveCapture } | { ok: false; error: CaptureError };

export const DEFAULT_BUFFER_SIZE = 32 * 1024 * 1024;
/** cap's fixed snap length, and so the size of the one packet buffer. */
export const SNAPLEN = 65535;
// The trial open that finds permission, interface and filter errors uses a tiny kernel buffer:
// `cap` cannot release a handle whose open failed (see `retired`), so a failure must cost little.
const PROBE_BUFFER_SIZE = 64 * 1024;

// Handles are never released to the garbage collector. `cap` aborts the process when it collects
// a handle whose open() failed part-way (its destructor stops a poll handle it never started),
// and a closed handle's poll watcher stays linked in the event loop after its memory would be
// freed. Keeping them costs a few hundred bytes per open.
const retired: CapHandle[] = [];

/** Names of the interfaces libpcap can capture on; empty when libpcap is unavailable. */
export function listInterfaces(): string[] {
  const lc = loadCap();
  return (lc.ok && deviceNames(lc.cap)) || [];
}

function deviceNames(cap: CapModule): string[] | null {
  try {
    return cap.Cap.deviceList().map((d) => d.name);
  } catch {
    return null;
  }
}

const DLT_ATM_RFC1483 = 11;
const LINKTYPE_ATM_RFC1483 = 100;

/** LINKTYPE_* for cap's link type name, or null when the name is not one cap produces. */
export function linkTypeFromCapName(name: string): number | null {
  switch (name) {
    case 'NULL':
      return LinkType.NULL;
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'IEEE802_11_RADIO':
      return LinkType.IEEE802_11_RADIOTAP;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    case 'RAW':
      return LinkType.RAW;
  }
  // Other link types come as their DLT number. DLT and LINKTYPE numbers agree except for a few
  // old values: DLT_RAW (which cap names itself) and DLT_ATM_RFC1483.
  const m = /^Unknown linktype (\d+)$/.exec(name);
  if (!m) return null;
  const dlt = Number(m[1]);
  return dlt === DLT_ATM_RFC1483 ? LINKTYPE_ATM_RFC1483 : dlt;
}

/**
 * Starts capturing TCP on an interface. Each packet is stamped on arrival and handed to onFrame
 * in one reused Frame whose bytes live in the one capture buffer: valid only during the call.
 */
export function openLive(opts: LiveOptions, onFrame: (f: Frame) => void): OpenLiveResult {
  const iface = opts.iface ?? 'lo';
  const optErr = checkFilterOptions(opts);
  if (optErr) return { ok: false, error: optErr };
  const bufferSize = opts.bufferSize ?? DEFAULT_BUFFER_SIZE;
  if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > 0x7fffffff) {
    const why = 'give a positive number of bytes below 2 GiB';
    return fail('capture-failed', `invalid capture buffer size ${bufferSize}: ${why}`);
  }
  const filter = buildFilter(opts);

  const lc = loadCap();
  if (!lc.ok) return { ok: false, error: lc.error };
  const { Cap } = lc.cap;

  // Checked before any open: libpcap would also print a warning on stderr for a missing device.
  // Should libpcap fail to list devices at all, opening is still tried and reports for itself.
  const interfaces = deviceNames(lc.cap);
  if (typeof iface !== 'string' || (interfaces !== null && !interfaces.includes(iface))) {
    return { ok: false, error: unknownInterface(String(iface), interfaces ?? []) };
  }

  const buffer = Buffer.alloc(SNAPLEN);
  const probeErr = probe(Cap, iface, filter, buffer);
  if (probeErr) return { ok: false, error: probeErr };

  const cap = new Cap();
  retired.push(cap);
  let typeName: string;
  try {
    typeName = cap.open(iface, filter, bufferSize, buffer);
  } catch (e) {
    return { ok: false, error: openError(iface, e, listInterfaces) };
  }
  const linkType = linkTypeFromCapName(typeName);
  if (linkType === null) {
    cap.close();
    return fail('capture-failed', `cannot capture on ${iface}: unsupported link type (${typeName})`);
  }
  // Windows only; elsewhere cap already asks libpcap for immediate delivery.
  if (typeof cap.setMinBytes === 'function') cap.setMinBytes(0);

  const frame: Frame = { tsSec: 0, tsNsec: 0, linkType, data: buffer.subarray(0, 0), capLen: 0, origLen: 0 };
  // One view per captured length, made the first time that length is seen, so that
  // `frame.data.length === capLen` without a new Buffer per packet.
  const views: (Buffer | undefined)[] = new Array(SNAPLEN + 1);
  const counters = { frames: 0, bytes: 0 };
  let stopped = false;

  cap.on('packet', (nbytes: number) => {
    if (stopped) return;
    // Read the clock here, as the first call, rather than inside a helper: V8 then inlines
    // hrtime() into this function before its inlining budget runs out, and the array hrtime()
    // returns never gets allocated. Behind one more call level it often did (measured).
    const t = process.hrtime();
    stampFrom(frame, t[0], t[1]);
    let view = views[nbytes];
    if (view === undefined) view = views[nbytes] = buffer.subarray(0, nbytes);
    frame.data = view;
    frame.capLen = nbytes;
    frame.origLen = originalLength(linkType, buffer, nbytes);
    counters.frames++;
    counters.bytes += frame.origLen;
    onFrame(frame);
  });

  const capture: LiveCapture = {
    iface,
    linkType,
    filter,
    stop() {
      if (stopped) return;
      stopped = true;
      cap.close();
      cap.removeAllListeners('packet');
    },
    stats() {
      return { frames: counters.frames, bytes: counters.bytes, dropped: null };
    },
  };
  return { ok: true, capture };
}

/**
 * Opens and closes the device once with the real filter and a tiny buffer. On failure a second
 * open without a filter tells a device problem (permission, missing interface) from a filter
 * libpcap rejects.
 */
function probe(Cap: new () => CapHandle, iface: string, filter: string, buffer: Buffer): CaptureError | null {
  const trial = new Cap();
  retired.push(trial);
  try {
    trial.open(iface, filter, PROBE_BUFFER_SIZE, buffer);
    trial.close();
    return null;
  } catch (filterOrDeviceErr) {
    const bare = new Cap();
    retired.push(bare);
    try {
      bare.open(iface, '', PROBE_BUFFER_SIZE, buffer);
      bare.close();
    } catch (deviceErr) {
      return openError(iface, deviceErr, listInterfaces);
    }
    return filterError(filter, filterOrDeviceErr);
  }
}

function fail(code: string, message: string): { ok: false; error: CaptureError } {
  return { ok: false, error: { code, message } };
}
