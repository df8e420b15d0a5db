import type { Frame } from '../capture/frame';
import { PcapngWriter } from '../capture/pcapng-writer';
import { decodeFrame } from '../decode/decode';
import { addrString, Segment } from '../decode/segment';
import { processComments } from '../ingest/comments';
import { PairIds, pairKey } from '../ingest/pair-ids';
import type { TrackerApi } from '../track/api';
import type { EndpointProcess } from '../track/connection';
import { CliError } from './errors';
import { note } from './session';

/** How often an endpoint whose owner is not known yet is looked up again (owners come from scans ~0.1 s apart). */
const RECHECK_MS = 100;
/** How often what was captured reaches the file, at most. */
const FLUSH_MS = 1000;

interface Owners {
  id: string;
  clientIp: string;
  clientPort: number;
  at: number;
  client: string[] | null;
  server: string[] | null;
}

/**
 * `live -w FILE`: every captured frame goes to a pcapng file as it arrives, each packet block with
 * the process of its sending endpoint in a comment (ptcpdump's layout, epb_flags outbound), or of
 * its receiving endpoint (inbound) when only that one is known — the owner known when the packet
 * is written. A connection's first packets (the handshake, before the first scan names its
 * owners, about 0.1 s) go without one; replay names an endpoint from any commented packet of its
 * connection, so a connection that lives longer than that replays with its owners.
 */
export class OwnerCommentWriter {
  private readonly seg = new Segment();
  private readonly ids: PairIds;
  private readonly owners = new Map<string, Owners>();
  private readonly timer: NodeJS.Timeout;
  commented = 0;

  private constructor(
    readonly writer: PcapngWriter,
    private readonly tracker: TrackerApi,
  ) {
    this.ids = new PairIds(tracker, (c) => this.owners.delete(c.id));
    this.timer = setInterval(() => this.writer.flush(), FLUSH_MS);
    this.timer.unref();
  }

  static open(path: string, iface: string, filter: string | null, tracker: TrackerApi): OwnerCommentWriter {
    const w = PcapngWriter.open(path, iface, filter);
    if (!(w instanceof PcapngWriter)) throw new CliError(w.message);
    return new OwnerCommentWriter(w, tracker);
  }

  /** Call after the tracker has taken the frame (its connection is known then). */
  onFrame(f: Frame): void {
    const seg = this.seg;
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') {
      this.writer.write(f);
      return;
    }
    const srcIp = addrString(seg.buf, seg.srcOff, seg.family);
    const id = this.ids.get(pairKey(srcIp, seg.srcPort, addrString(seg.buf, seg.dstOff, seg.family), seg.dstPort));
    const o = id === undefined ? null : this.lookup(id);
    if (o === null) {
      this.writer.write(f);
      return;
    }
    const senderIsClient = o.clientIp === srcIp && o.clientPort === seg.srcPort;
    const sender = senderIsClient ? o.client : o.server;
    const receiver = senderIsClient ? o.server : o.client;
    if (sender) this.writer.write(f, sender, 'out');
    else if (receiver) this.writer.write(f, receiver, 'in');
    else this.writer.write(f);
    if (sender || receiver) this.commented++;
  }

  private lookup(id: string): Owners | null {
    let o = this.owners.get(id);
    const now = performance.now();
    if (o && (o.client !== null && o.server !== null || now - o.at < RECHECK_MS)) return o;
    const c = this.tracker.get(id);
    if (!c) return null;
    if (!o) this.owners.set(id, (o = { id, clientIp: c.client.ip, clientPort: c.client.port, at: now, client: null, server: null }));
    o.at = now;
    o.client ??= comments(c.client.process);
    o.server ??= comments(c.server.process);
    return o;
  }

  close(): void {
    clearInterval(this.timer);
    this.writer.close();
    if (this.writer.error) note(this.writer.error.message);
  }
}

function comments(p: EndpointProcess | null | undefined): string[] | null {
  return p ? processComments(p) : null;
}
