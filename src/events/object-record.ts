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
    // every field means the same in each event type that has it and is absent from the others
    const x = e as Partial<Pick<EventRecord, 'side' | 'from' | 'to' | 'phase' | 'kind' | 'rttMs' | 'synToSynAckMs' | 'synAckToAckMs' | 'detail'>>;
    this.side = x.side;
    this.from = x.from;
    this.to = x.to;
    this.phase = x.phase;
    this.kind = x.kind;
    this.rttMs = x.rttMs;
    this.synToSynAckMs = x.synToSynAckMs;
    this.synAckToAckMs = x.synAckToAckMs;
    this.detail = x.detail;
    const c = e.type === 'state' ? e.cause : null;
    this.hasCause = c !== null;
    if (c !== null) {
      this.causeFlags = c.flags;
      this.causeSeq = c.seq;
      this.causeAck = c.ack;
      this.causeLen = c.len;
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
