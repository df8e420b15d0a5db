import { ConnFields } from '../track/record';
import { ViewSource } from '../track/view-source';
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
  private readonly view = new ViewSource();

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
