import type { ConnectionView } from '../track/connection';
import {
  CLOSE_KIND_INDEX,
  CLOSED_BY_INDEX,
  CONN_STATE_INDEX,
  ConnFields,
  FL,
  N,
  OPT,
  TCP_STATE_INDEX,
  orNaN,
  type ConnectionSource,
} from '../track/record';
import type { EventRecord, TcpEvent } from './types';

/**
 * An event object read as a record (the tracker's events come as records already, see
 * src/track/record.ts EventCursor): for events published as objects, so that every consumer reads
 * one form. Pointed at one object after another; valid until the next.
 */
export class ObjectRecord implements EventRecord {
  type: EventRecord['type'] = 'state';
  connectionId = '';
  readonly idNumber = -1;
  ts = 0;
  side: EventRecord['side'] = undefined;
  from: EventRecord['from'] = undefined;
  to: EventRecord['to'] = undefined;
  phase: EventRecord['phase'] = undefined;
  kind: EventRecord['kind'] = undefined;
  hasCause = false;
  causeFlags = '';
  causeSeq = 0;
  causeAck = 0;
  causeLen = 0;
  rttMs: number | undefined = undefined;
  synToSynAckMs: number | undefined = undefined;
  synAckToAckMs: number | undefined = undefined;
  detail: string | undefined = undefined;
  private e: TcpEvent = { type: 'refused', connectionId: '', ts: 0 };
  private filled = false;
  private readonly fields = new ConnFields();
  private readonly view = new ViewFields();

  of(e: TcpEvent): this {
    this.e = e;
    this.filled = false;
    this.type = e.type;
    this.connectionId = e.connectionId;
    this.ts = e.ts;
    this.side = undefined;
    this.from = undefined;
    this.to = undefined;
    this.phase = undefined;
    this.kind = undefined;
    this.hasCause = false;
    this.rttMs = undefined;
    this.synToSynAckMs = undefined;
    this.synAckToAckMs = undefined;
    this.detail = undefined;
    switch (e.type) {
      case 'state':
        this.side = e.side;
        this.from = e.from;
        this.to = e.to;
        if (e.cause !== null) {
          this.hasCause = true;
          this.causeFlags = e.cause.flags;
          this.causeSeq = e.cause.seq;
          this.causeAck = e.cause.ack;
          this.causeLen = e.cause.len;
        }
        break;
      case 'handshake':
        this.phase = e.phase;
        this.rttMs = e.rttMs;
        this.synToSynAckMs = e.synToSynAckMs;
        this.synAckToAckMs = e.synAckToAckMs;
        break;
      case 'teardown':
        this.phase = e.phase;
        this.kind = e.kind;
        this.side = e.side;
        break;
      case 'reset':
        this.side = e.side;
        break;
      case 'refused':
        break;
      case 'anomaly':
        this.kind = e.kind;
        this.side = e.side;
        this.detail = e.detail;
        break;
      case 'connection':
        this.phase = e.phase;
        break;
    }
    return this;
  }

  connection(): ConnFields | null {
    const e = this.e;
    if (e.type !== 'connection' || e.connection === undefined) return null;
    if (!this.filled) {
      this.view.of(e.connection).fill(this.fields);
      this.filled = true;
    }
    return this.fields;
  }

  event(): TcpEvent {
    return this.e;
  }
}

/** A view's fields (a Connection object's), for writers of fields: one reused source, pointed at each view in turn. */
class ViewFields implements ConnectionSource {
  private c!: ConnectionView;

  of(c: ConnectionView): this {
    this.c = c;
    return this;
  }

  fill(f: ConnFields): void {
    const c = this.c;
    f.id = 0;
    f.idText = c.id;
    f.family = c.family;
    for (let i = 0; i < 2; i++) {
      const e = i === 0 ? c.client : c.server;
      f.ip4[i] = -1;
      f.ipText[i] = e.ip;
      f.state[i] = TCP_STATE_INDEX.get(e.state)!;
      f.notes[i] = e.process !== undefined || e.processReason !== undefined || e.kernel !== undefined ? e : null;
    }
    f.flags = (c.partial ? FL.PARTIAL : 0) | (c.captureGap ? FL.CAPTURE_GAP : 0) | (c.rolesGuessed ? FL.ROLES_GUESSED : 0) | (c.status === 'closed' ? FL.CLOSED : 0);
    f.connState = CONN_STATE_INDEX.get(c.connState)!;
    f.closedBy = CLOSED_BY_INDEX.get(c.closedBy)!;
    f.closeKind = CLOSE_KIND_INDEX.get(c.closeKind)!;
    const h = f.histRoom(c.history.length);
    for (let i = 0; i < c.history.length; i++) h[i] = c.history.charCodeAt(i);
    f.histLen = c.history.length;
    const n = f.num;
    const hs = c.handshake;
    const k = c.counts;
    const o = c.options;
    n[N.port0] = c.client.port;
    n[N.port1] = c.server.port;
    n[N.startedAt] = c.startedAt;
    n[N.endedAt] = orNaN(c.endedAt);
    n[N.lastSeenAt] = c.lastSeenAt;
    n[N.synAt] = orNaN(hs.synAt);
    n[N.synAckAt] = orNaN(hs.synAckAt);
    n[N.ackAt] = orNaN(hs.ackAt);
    n[N.rttMs] = orNaN(hs.rttMs);
    n[N.synToSynAckMs] = orNaN(hs.synToSynAckMs);
    n[N.synAckToAckMs] = orNaN(hs.synAckToAckMs);
    n[N.packets0] = k.client.packets;
    n[N.bytes0] = k.client.bytes;
    n[N.packets1] = k.server.packets;
    n[N.bytes1] = k.server.bytes;
    n[N.mss0] = orNaN(o.client.mss);
    n[N.wscale0] = orNaN(o.client.wscale);
    n[N.mss1] = orNaN(o.server.mss);
    n[N.wscale1] = orNaN(o.server.wscale);
    f.opts[0] = (o.client.sackPermitted ? OPT.SACK : 0) | (o.client.timestamps ? OPT.TS : 0);
    f.opts[1] = (o.server.sackPermitted ? OPT.SACK : 0) | (o.server.timestamps ? OPT.TS : 0);
    n[N.synRetransmits] = c.synRetransmits;
    n[N.anomalies] = c.anomalies;
    n[N.missedBytes] = c.missedBytes;
  }
}
