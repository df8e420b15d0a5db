import type { Frame } from '../capture/frame';
import { openLive, type LiveCapture, type LiveOptions, type LiveStats, type OpenLiveResult } from '../capture/live';
import type { SocketIndex } from '../sockets/attribute';
import { portsOf, type ProcessSelector } from '../sockets/process-ports';
import { SocketScanner } from '../sockets/scan';

/**
 * `--pid` / `--command`: the ports of the chosen processes' sockets (listening and connected)
 * join the capture filter's ports. Returns a one-line reason when no chosen process holds a
 * TCP socket.
 */
export function resolveProcessPorts(sel: ProcessSelector): { ok: true; ports: number[]; names: string } | { ok: false; message: string } {
  const scan = new SocketScanner().scan({ tcpInfo: false, ports: null });
  const found = portsOf(scan, sel);
  const asked = [...sel.pids.map((p) => `pid ${p}`), ...sel.commands.map((c) => `command ${c}`)].join(', ');
  if (found.processes.length === 0) {
    const why = scan.unreadable > 0 ? ` (${scan.unreadable} processes could not be read: run as root)` : '';
    return { ok: false, message: `no process matching ${asked} holds a TCP socket${why} — check with: ss -tanp` };
  }
  if (found.ports.length === 0) return { ok: false, message: `${asked} holds no TCP socket with a port yet — start it first, or give -p PORT` };
  return { ok: true, ports: found.ports, names: found.processes.map((p) => `${p.command} (pid ${p.pid})`).join(', ') };
}

/**
 * A live capture whose port list grows: a new listening port of a chosen process re-opens the
 * capture with it added (libpcap cannot change a filter in place through cap), the new handle
 * opened before the old one is stopped, in one turn of the event loop.
 */
export class FollowingCapture implements LiveCapture {
  private cur: LiveCapture;
  private readonly ports: Set<number>;
  private done = { frames: 0, bytes: 0, dropped: 0 };

  private constructor(
    first: LiveCapture,
    private readonly opts: LiveOptions,
    private readonly onFrame: (f: Frame) => void,
    private readonly sel: ProcessSelector,
    private readonly onWiden: (ports: number[]) => void,
  ) {
    this.cur = first;
    this.ports = new Set(opts.ports ?? []);
  }

  static open(opts: LiveOptions, onFrame: (f: Frame) => void, sel: ProcessSelector, onWiden: (ports: number[]) => void): OpenLiveResult {
    const r = openLive(opts, onFrame);
    if (!r.ok) return r;
    return { ok: true, capture: new FollowingCapture(r.capture, opts, onFrame, sel, onWiden) };
  }

  get iface() {
    return this.cur.iface;
  }
  get linkType() {
    return this.cur.linkType;
  }
  get filter() {
    return this.cur.filter;
  }
  get kernelFilter() {
    return this.cur.kernelFilter;
  }
  get bufferSize() {
    return this.cur.bufferSize;
  }
  get snapLength() {
    return this.cur.snapLength;
  }

  stats(): LiveStats {
    const s = this.cur.stats();
    return { frames: s.frames + this.done.frames, bytes: s.bytes + this.done.bytes, dropped: s.dropped === null ? null : s.dropped + this.done.dropped };
  }

  stop(): void {
    this.cur.stop();
  }

  /** Called with each scan: listening ports of the chosen processes not captured yet are added. */
  follow(ix: SocketIndex): void {
    const fresh = portsOf(ix.scan, this.sel).listening.filter((p) => !this.ports.has(p));
    if (fresh.length === 0) return;
    for (const p of fresh) this.ports.add(p);
    const next = openLive({ ...this.opts, ports: [...this.ports] }, this.onFrame);
    if (!next.ok) return;
    this.cur.stop();
    // after stop(): what the kernel dropped up to the end counts too
    const s = this.cur.stats();
    this.done = { frames: this.done.frames + s.frames, bytes: this.done.bytes + s.bytes, dropped: this.done.dropped + (s.dropped ?? 0) };
    this.cur = next.capture;
    this.onWiden(fresh);
  }
}
