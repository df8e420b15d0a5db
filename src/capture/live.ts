import { execFileSync } from 'node:child_process';
import { LinkType } from '../decode/linktype';
import type { LiveError, LiveErrorCode } from './errors';
import type { Frame } from './frame';
import { type CapDevice, type CapHandle, type CapModule, filterError, loadCap, openError, unknownInterface } from './live-cap';
import { stampFrom } from './live-clock';
import { buildFilter, checkFilterOptions } from './live-filter';
import { originalLength } from './live-origlen';
import { SNAPLEN } from './snaplen';

export { buildFilter, checkFilterOptions } from './live-filter';
export { captureClockMs } from './live-clock';
export { SNAPLEN, WATCH_SNAPLEN } from './snaplen';

export interface LiveOptions {
  /** Interface to capture on; default 'lo'. */
  iface?: string;
  ports?: number[];
  hosts?: string[];
  /** Raw BPF expression, AND-ed with the rest as `tcp and (EXPR)`. */
  filter?: string;
  /** Kernel capture buffer in bytes; default 64 MiB (DEFAULT_BUFFER_SIZE). */
  bufferSize?: number;
  /**
   * Leave frames stamped with the raw process.hrtime() reading (tsSec, tsNsec = its two numbers)
   * for another process on the same machine to turn into epoch time (the capture process does).
   */
  hrtimeStamps?: boolean;
  /**
   * The snap length: bytes of each packet the kernel keeps in its ring, at most (default SNAPLEN,
   * all of it). It also sizes the ring's slots: with the immediate mode `cap` turns on, libpcap
   * gives every packet a slot of the snap length (on lo, 64 KiB for SNAPLEN), so a small one makes
   * the same buffer hold far more packets (WATCH_SNAPLEN). The wire length still comes from the IP
   * header.
   */
  snapLength?: number;
}

export interface LiveStats {
  frames: number;
  /** Bytes on the wire (sum of origLen). */
  bytes: number;
  /** Packets the kernel dropped because its ring was full (libpcap's ps_drop); null when unknown. */
  dropped: number | null;
}

export interface LiveCapture {
  iface: string;
  linkType: number;
  /** The BPF expression in effect, as the user's options give it. */
  filter: string;
  /** What the kernel is asked to filter: `filter`, or on lo loopbackFilter(filter). */
  kernelFilter: string;
  /** Kernel capture buffer requested, in bytes. */
  bufferSize: number;
  /** Bytes of each packet kept, at most. */
  snapLength: number;
  /** Stops capturing and releases the handle; calling it again does nothing. */
  stop(): void;
  stats(): LiveStats;
}

export type OpenLiveResult = { ok: true; capture: LiveCapture } | { ok: false; error: LiveError };

/**
 * With the immediate mode `cap` turns on, libpcap's ring has fixed slots sized by the snap length:
 * at WATCH_SNAPLEN 64 MiB holds some 110 000 packets; at SNAPLEN, on lo, 64 KiB slots (each in a
 * 128 KiB block, so the ring takes twice this in memory) and 1023 packets, about 40 ms of a busy
 * loopback (BENCHMARKS.md, Live load).
 */
export const DEFAULT_BUFFER_SIZE = 64 * 1024 * 1024;
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
  return (lc.ok && deviceList(lc.cap)?.map((d) => d.name)) || [];
}

function deviceList(cap: CapModule): CapDevice[] | null {
  try {
    return cap.Cap.deviceList();
  } catch {
    return null;
  }
}

/**
 * The kernel filter for lo. Linux hands every loopback packet to packet sockets twice, once
 * leaving and once arriving, and with the immediate mode `cap` turns on, libpcap uses a TPACKET_V2
 * ring of fixed slots sized for lo's 64 KiB MTU. Each copy takes a slot before libpcap throws the
 * outgoing one away, so a 32 MiB buffer (511 slots) held only 255 packets. `inbound` drops the
 * outgoing copy in the kernel filter instead, which doubles what the ring holds through a burst
 * and changes nothing that is delivered (measured: BENCHMARKS.md, Live load).
 *
 * One catch, seen with tcpdump --immediate-mode too: when the filter is set, libpcap runs the filter
 * in userland on the frames already in the ring and on one or two frames more, and there `inbound`
 * (a Linux socket-filter extension) cannot be read, so those frames are dropped. The frames already
 * in the ring arrived before the filter (anyone's loopback traffic); libpcap's count of them walks
 * the ring from two slots back and keeps one slot for a race, so it ends one past the last of
 * them, or two past when there were any (pcap-linux.c, pcap_setfilter_linux; measured: on a busy
 * lo the second of five datagrams sent after opening was the first one delivered, 1 time in 20).
 * So PRIMERS UDP datagrams to the discard port are sent right after opening to be those frames
 * (PRIMER_PORT); the packet handler drops any UDP frame that still gets through. With a single one,
 * a connection's SYN was sometimes lost on a busy host.
 */
export function loopbackFilter(filter: string): string {
  return `inbound and ((udp and dst port ${PRIMER_PORT}) or (${filter}))`;
}

/** The discard port (RFC 863): the primer datagrams are sent there, to nobody. */
const PRIMER_PORT = 9;
/** As many frames as libpcap may filter in userland past those already in the ring. */
const PRIMERS = 2;

/** An Ethernet frame (lo's link type) carrying UDP over IPv4 or IPv6: only the primer can be one. */
function isUdpOnEthernet(b: Buffer, n: number): boolean {
  if (n < 24 || b[12] !== 0x08 && b[12] !== 0x86) return false;
  return b[12] === 0x08 ? b[13] === 0x00 && b[23] === 17 : b[13] === 0xdd && b[20] === 17;
}

/**
 * Sends the primers before openLive returns, so that no packet of ours (nor, most likely, of anyone
 * else) reaches the ring first: Node has no synchronous datagram send, a short-lived shell does.
 */
function sendPrimer(): void {
  const one = `printf x > /dev/udp/127.0.0.1/${PRIMER_PORT}`;
  try {
    execFileSync('/bin/bash', ['-c', Array(PRIMERS).fill(one).join('; ')], { stdio: 'ignore', timeout: 2000 });
  } catch {
    // no bash: the first frame may be lost, as without the primer
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
  const devices = deviceList(lc.cap);
  const interfaces = devices?.map((d) => d.name) ?? null;
  if (typeof iface !== 'string' || (interfaces !== null && !interfaces.includes(iface))) {
    return { ok: false, error: unknownInterface(String(iface), interfaces ?? []) };
  }
  // lo only: the primer below travels over 127.0.0.1.
  const loopback = iface === 'lo' && devices?.find((d) => d.name === iface)?.flags?.includes('PCAP_IF_LOOPBACK') !== false;

  const snapLength = opts.snapLength ?? SNAPLEN;
  if (!Number.isInteger(snapLength) || snapLength < 64 || snapLength > SNAPLEN) {
    return fail('capture-failed', `invalid snap length ${snapLength}: give a whole number of bytes from 64 to ${SNAPLEN}`);
  }
  // cap copies each packet into this buffer, cut to its length
  const buffer = Buffer.alloc(snapLength);
  const probeErr = probe(Cap, iface, filter, buffer);
  if (probeErr) return { ok: false, error: probeErr };
  // A libpcap that cannot filter on direction here keeps the plain filter.
  const primed = loopback && probe(Cap, iface, loopbackFilter(filter), buffer) === null;
  const kernelFilter = primed ? loopbackFilter(filter) : filter;

  const cap = new (packetCapClass(Cap))();
  retired.push(cap);
  let typeName: string;
  try {
    typeName = cap.open(iface, kernelFilter, bufferSize, buffer, snapLength);
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
  const views: (Buffer | undefined)[] = new Array(snapLength + 1);
  const counters = { frames: 0, bytes: 0 };
  let stopped = false;
  let lastDropped: number | null = 0;
  const hrtimeStamps = opts.hrtimeStamps === true;

  cap.onPacket = (nbytes: number) => {
    if (stopped) return;
    if (primed && isUdpOnEthernet(buffer, nbytes)) return;
    // Read the clock here, as the first call, rather than inside a helper: V8 then inlines
    // hrtime() into this function before its inlining budget runs out, and the array hrtime()
    // returns never gets allocated. Behind one more call level it often did (measured).
    const t = process.hrtime();
    if (hrtimeStamps) {
      frame.tsSec = t[0];
      frame.tsNsec = t[1];
    } else stampFrom(frame, t[0], t[1]);
    let view = views[nbytes];
    if (view === undefined) view = views[nbytes] = buffer.subarray(0, nbytes);
    frame.data = view;
    frame.capLen = nbytes;
    frame.origLen = originalLength(linkType, buffer, nbytes);
    counters.frames++;
    counters.bytes += frame.origLen;
    onFrame(frame);
  };

  if (primed) sendPrimer();

  const capture: LiveCapture = {
    iface,
    linkType,
    filter,
    kernelFilter,
    bufferSize,
    snapLength,
    stop() {
      if (stopped) return;
      lastDropped = kernelDropped(cap);
      stopped = true;
      cap.close();
      cap.onPacket = ignorePacket;
    },
    stats() {
      return { frames: counters.frames, bytes: counters.bytes, dropped: stopped ? lastDropped : (lastDropped = kernelDropped(cap)) };
    },
  };
  return { ok: true, capture };
}

/** A cap handle that hands each packet straight to `onPacket`. */
type PacketCap = CapHandle & { onPacket: (nbytes: number) => void };

function ignorePacket(): void {}

let PacketCapClass: (new () => PacketCap) | null = null;
let PacketCapBase: (new () => CapHandle) | null = null;

/**
 * cap's handle, with its per-packet call made to `onPacket` directly. cap calls the handle's
 * `emit` (read once, when the handle is made) for every packet: EventEmitter's emit looked up the
 * listeners and applied them to the arguments gathered in an array, once a packet, in the capture
 * process's hottest loop. Any other event still goes to EventEmitter's emit.
 */
function packetCapClass(Cap: new () => CapHandle): new () => PacketCap {
  if (PacketCapClass !== null && PacketCapBase === Cap) return PacketCapClass;
  PacketCapBase = Cap;
  PacketCapClass = class extends Cap {
    onPacket: (nbytes: number) => void = ignorePacket;
    // cap passes (event, nbytes, truncated): named, not gathered into an array per call
    override emit(event: string, nbytes?: unknown, truncated?: unknown): boolean {
      if (event !== 'packet') return super.emit(event, nbytes, truncated);
      this.onPacket(nbytes as number);
      return true;
    }
  };
  return PacketCapClass;
}

/** libpcap's count of packets the kernel dropped, or null when it cannot say. */
function kernelDropped(cap: CapHandle): number | null {
  try {
    return cap.stats().ps_drop;
  } catch {
    return null;
  }
}

/**
 * Opens and closes the device once with the real filter and a tiny buffer. On failure a second
 * open without a filter tells a device problem (permission, missing interface) from a filter
 * libpcap rejects.
 */
function probe(Cap: new () => CapHandle, iface: string, filter: string, buffer: Buffer): LiveError | null {
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

function fail(code: LiveErrorCode, message: string): { ok: false; error: LiveError } {
  return { ok: false, error: { code, message } };
}
