import type { ConnectionView } from './connection';
import { CLOSE_KIND_INDEX, CLOSED_BY_INDEX, CONN_STATE_INDEX, ConnFields, FL, N, OPT, TCP_STATE_INDEX, orNaN, type ConnectionSource } from './record';

/** A view's fields (a Connection object's), for writers of fields: one reused source, pointed at each view in turn. */
export class ViewSource implements ConnectionSource {
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
    // a view's endpoints are its caller's objects, free to change: no writer keeps their text
    f.notesKept = false;
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
