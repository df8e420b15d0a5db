import type { Frame, FrameNote } from '../capture/frame';
import { decodeFrame } from '../decode/decode';
import { addrString, Segment } from '../decode/segment';
import type { TrackerApi } from '../track/api';
import type { EndpointProcess } from '../track/connection';
import type { Side } from '../track/states';
import { PairIds, pairKey } from './pair-ids';

// Capture files that name the process of each packet in its pcapng comment:
//   ptcpdump writes one comment "PID: 1234\nCmd: /usr/bin/curl\nArgs: curl -s http://…" (and
//   others beside it: "UserId: 0\nGroupId: 0", "ParentPID: …", container and pod names);
//   RustNet's pcap_enrich.py writes "PID:1234 Process:curl".
// tcpscope live -w writes ptcpdump's form (with "User: name" in its user comment).

/** The process a packet's comments name, without what only the kernel's tables give (fd, netns). */
export type CommentProcess = Pick<EndpointProcess, 'pid' | 'command' | 'cmdline' | 'user'>;

/**
 * Each key's pattern, made once: the key at the start of the text or after white space, so that
 * ParentPID is never read as PID; a word, or the rest of the line.
 */
const keyPattern = (key: string, rest: boolean) => new RegExp(`(?:^|\\s)${key}:[ \\t]*(${rest ? '[^\\n]*' : '\\S+'})`);
const FIELDS = {
  PID: keyPattern('PID', false),
  Cmd: keyPattern('Cmd', true),
  Process: keyPattern('Process', true),
  Args: keyPattern('Args', true),
  User: keyPattern('User', false),
  UserId: keyPattern('UserId', false),
};

const field = (text: string, key: keyof typeof FIELDS): string | null => {
  const m = FIELDS[key].exec(text);
  return m ? m[1].trim() : null;
};

/** The process named by a packet's comments, null when none names one. */
export function parseProcessComment(comments: readonly string[]): CommentProcess | null {
  let pid: number | null = null;
  let cmd: string | null = null;
  let args: string | null = null;
  let user: string | null = null;
  let uid: string | null = null;
  for (const c of comments) {
    const p = field(c, 'PID');
    if (p !== null && pid === null && /^\d+$/.test(p)) pid = Number(p);
    cmd ??= field(c, 'Cmd') ?? field(c, 'Process');
    args ??= field(c, 'Args');
    user ??= field(c, 'User');
    uid ??= field(c, 'UserId');
  }
  if (pid === null || pid <= 0) return null;
  const command = cmd ? cmd.slice(cmd.lastIndexOf('/') + 1) : '';
  return { pid, command, cmdline: args || cmd || '', user: user ?? uid };
}

/** The comments tcpscope writes for a packet of this process (ptcpdump's layout). */
export function processComments(p: CommentProcess): string[] {
  const line = (t: string) => t.replace(/[\r\n]+/g, ' ');
  const out = [`PID: ${p.pid}\nCmd: ${line(p.command)}\nArgs: ${line(p.cmdline)}`];
  if (p.user !== null) out.push(`User: ${line(p.user)}`);
  return out;
}

interface Known {
  id: string;
  side: Side;
  pid: number;
}

/**
 * Names endpoints from the process comments of a capture file's packets, as the packets are read:
 * the comment names the sending process of an outgoing packet and the receiving one of an incoming
 * packet (epb_flags); without a direction, the sender. Call `onFrame` after the tracker has taken
 * the frame. Costs nothing for a packet without comments; a commented one is decoded once more
 * for its addresses, and its endpoint annotated only when its process is new to it.
 */
export class CommentOwners {
  private readonly seg = new Segment();
  /** Connection ids by their endpoints, from the first comment on. */
  private ids: PairIds | null = null;
  private readonly known = new Map<string, Known>();
  /** Endpoints named from comments, and packets whose comments named a process. */
  endpoints = 0;
  packets = 0;

  constructor(private readonly tracker: TrackerApi) {}

  onFrame(f: Frame): void {
    const note = f.note;
    if (!note || note.comments.length === 0) return;
    if (decodeFrame(f.linkType, f.data, f.origLen, this.seg) !== 'ok') return;
    this.onDecoded(note, this.seg);
  }

  /** The same for a frame decoded elsewhere (the reader thread) into `seg`, whose decode status was 'ok'. */
  onDecoded(note: FrameNote, seg: Segment): void {
    const p = parseProcessComment(note.comments);
    if (p === null) return;
    this.packets++;
    const ids = (this.ids ??= this.listen());
    const inbound = note.direction === 'in';
    const src = addrString(seg.buf, seg.srcOff, seg.family);
    const dst = addrString(seg.buf, seg.dstOff, seg.family);
    const ip = inbound ? dst : src;
    const port = inbound ? seg.dstPort : seg.srcPort;
    const peerIp = inbound ? src : dst;
    const peerPort = inbound ? seg.srcPort : seg.dstPort;
    const key = pairKey(ip, port, peerIp, peerPort);
    const id = ids.get(key) ?? this.find(ids, ip, port, peerIp, peerPort);
    if (id === null) return;
    const k = this.known.get(key);
    if (k && k.id === id && k.pid === p.pid) return;
    const c = this.tracker.get(id);
    if (!c) return;
    const side: Side = c.client.ip === ip && c.client.port === port ? 'client' : 'server';
    const process: EndpointProcess = { ...p, netns: null, fd: null, via: 'comment' };
    if (!this.tracker.annotate(id, side, { process })) return;
    if (!k || k.id !== id) this.endpoints++;
    this.known.set(key, { id, side, pid: p.pid });
  }

  /** From the first comment on, new connections are found by their endpoints as they open. */
  private listen(): PairIds {
    return new PairIds(this.tracker, (_c, keys) => {
      this.known.delete(keys[0]);
      this.known.delete(keys[1]);
    });
  }

  /** A connection opened before the first comment: the newest one with these endpoints. */
  private find(ids: PairIds, ip: string, port: number, peerIp: string, peerPort: number): string | null {
    const r = this.tracker.select({ status: 'all', state: null, port, host: ip, afterId: 0, limit: 100_000 });
    for (let i = r.connections.length - 1; i >= 0; i--) {
      const c = r.connections[i];
      const me = c.client.ip === ip && c.client.port === port ? c.server : c.server.ip === ip && c.server.port === port ? c.client : null;
      if (me && me.ip === peerIp && me.port === peerPort) {
        ids.set(c, c.id);
        return c.id;
      }
    }
    return null;
  }
}
