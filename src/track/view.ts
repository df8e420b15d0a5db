import { addrString } from '../decode/segment';
import type { TcpEvent } from './events';
import type { ConnectionView, EndpointNotes, LadderSegment, SideOptions } from './connection';
import type { ConnectionDetailView } from './detail';
import type { EventLog } from './eventlog';
import type { History } from './history';
import type { Ladder } from './ladder';
import { META } from './pools';
import { EventCursor, FLAG_TEXT } from './record';
import { CONN_STATES, TCP_STATES, type Side } from './states';
import { C, CLOSE_KINDS, CLOSED_BY, E, type ConnStore } from './store';

const SIDES: readonly Side[] = ['client', 'server'];


const nullable = (t: number): number | null => (Number.isNaN(t) ? null : t);

/** Builds the objects the API hands out, from the compact store. Nothing here is on the packet path. */
export class Views {
  /** Reads an event's values for event(): its own, so that building one never moves a sink's cursor. */
  private readonly cursor: EventCursor;

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
    private readonly ladder: Ladder,
    private readonly log: EventLog,
    private readonly notes: ReadonlyMap<number, readonly [EndpointNotes | null, EndpointNotes | null]>,
  ) {
    this.cursor = new EventCursor(st, hist, ladder, notes, this);
  }

  // Events come in runs for one connection: its id string is made once per run.
  private idSlot = -1;
  private idNum = 0;
  private idText = '';

  id(s: number): string {
    const n = this.st.idNum[s];
    if (s !== this.idSlot || n !== this.idNum) {
      this.idSlot = s;
      this.idNum = n;
      this.idText = String(n);
    }
    return this.idText;
  }

  connection(s: number): ConnectionView {
    const st = this.st;
    const cf = st.cflags[s];
    const fam = st.family[s] === 6 ? 6 : 4;
    const c = 2 * s;
    const tSyn = nullable(st.tSyn[s]);
    const tSynAck = nullable(st.tSynAck[s]);
    const tAck = nullable(st.tAck[s]);
    const notes = this.notes.size > 0 ? this.notes.get(st.idNum[s]) : undefined;
    return {
      id: this.id(s),
      family: fam,
      client: { ip: addrString(st.addr, s * 32, fam), port: st.cport[s], state: TCP_STATES[st.st[c]], ...notes?.[0] },
      server: { ip: addrString(st.addr, s * 32 + 16, fam), port: st.sport[s], state: TCP_STATES[st.st[c + 1]], ...notes?.[1] },
      status: (cf & C.CLOSED) !== 0 ? 'closed' : 'open',
      connState: CONN_STATES[st.zconn[s]],
      history: this.hist.get(s),
      partial: (cf & C.PARTIAL) !== 0,
      captureGap: (cf & C.CAPTURE_GAP) !== 0,
      rolesGuessed: (cf & C.ROLES_GUESSED) !== 0,
      startedAt: st.tStart[s],
      endedAt: nullable(st.tEnd[s]),
      lastSeenAt: st.tLast[s],
      handshake: {
        synAt: tSyn,
        synAckAt: tSynAck,
        ackAt: tAck,
        rttMs: tSyn !== null && tAck !== null ? tAck - tSyn : null,
        synToSynAckMs: tSyn !== null && tSynAck !== null ? tSynAck - tSyn : null,
        synAckToAckMs: tSynAck !== null && tAck !== null ? tAck - tSynAck : null,
      },
      closedBy: CLOSED_BY[(cf & C.BY_MASK) >>> C.BY_SHIFT],
      closeKind: CLOSE_KINDS[(cf & C.KIND_MASK) >>> C.KIND_SHIFT] ?? null,
      counts: {
        client: { packets: st.pkts[c], bytes: st.bytes[c] },
        server: { packets: st.pkts[c + 1], bytes: st.bytes[c + 1] },
      },
      options: { client: this.options(c), server: this.options(c + 1) },
      synRetransmits: st.synRetx[s],
      anomalies: st.anomalies[s],
      missedBytes: st.missed[s],
    };
  }

  detail(s: number): ConnectionDetailView {
    const { records, omitted } = this.ladder.collect(s);
    const segments = records.map((r) => this.segment(s, r));
    const events: TcpEvent[] = [];
    this.log.each(s, (w, ref) => events.push(this.event(s, w, ref)));
    return {
      ...this.connection(s),
      events,
      segments,
      segmentsOmitted: omitted,
      eventsOmitted: this.st.evOmitted[s],
    };
  }

  /** The event a packed word stands for (EventCursor reads its values). */
  event(s: number, w: number, ref: number, withConnection = false): TcpEvent {
    return this.cursor.at(s, w, ref).build(withConnection);
  }

  private segment(s: number, h: number): LadderSegment {
    const st = this.st;
    const l = this.ladder;
    const meta = l.meta(h);
    const fromServer = (meta & META.FROM_SERVER) !== 0 ? 1 : 0;
    const flags = meta & 0x1ff;
    const seq = l.seq(h);
    const ack = l.ack(h);
    return {
      ts: l.ts(h),
      from: SIDES[fromServer],
      flags: FLAG_TEXT[flags],
      seq: seq >>> 0,
      ack: ack >>> 0,
      relSeq: (seq - st.isn[2 * s + fromServer]) >>> 0,
      relAck: flags & 0x10 ? (ack - st.isn[2 * s + 1 - fromServer]) >>> 0 : 0,
      len: l.len(h),
      win: (meta >>> 9) & 0xffff,
    };
  }

  private options(e: number): SideOptions {
    const st = this.st;
    return {
      mss: st.mss[e] !== 0 ? st.mss[e] : null,
      wscale: st.wscale[e] >= 0 ? st.wscale[e] : null,
      sackPermitted: (st.eflags[e] & E.SACK_OK) !== 0,
      timestamps: (st.eflags[e] & E.TS) !== 0,
    };
  }
}
