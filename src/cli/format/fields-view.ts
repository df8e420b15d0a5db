import type { ConnectionView, EndpointView } from '../../track/connection';
import { FL, N, ipText, type ConnFields } from '../../track/record';
import { CONN_STATES, TCP_STATES } from '../../track/states';
import { CLOSE_KINDS, CLOSED_BY } from '../../track/store';
import type { DiagnosedConnection } from '../../sockets/diagnose-file';


// A connection's fields (ConnFields, as the tracker's store fills them when a connection leaves the
// table) read as the part of a ConnectionView that the table's summary (TableSummary.add) and the
// file diagnoser (DiagnosedConnection) read, and no more: every value is read when asked for, from
// the fields, so a reader that looks at a few of them costs a few reads, not the view's dozen
// objects and strings. One object, reused: valid only until the fields are filled again, and
// a reader keeps the values it needs (strings, numbers), never the object. Its values are the
// tracker's view's (view.ts), key by key; JSON.stringify and spreading see none of them (getters).

const nullable = (t: number): number | null => (Number.isNaN(t) ? null : t);

class EndpointOfFields implements Pick<EndpointView, 'ip' | 'port' | 'state'> {
  /** The last IPv4 address turned into text, and its text: rows of one capture share few addresses. */
  private v4 = -1;
  private v4Text = '';

  constructor(
    private readonly f: ConnFields,
    private readonly i: 0 | 1,
  ) {}

  get ip(): string {
    const v4 = this.f.ip4[this.i];
    if (v4 < 0) return this.f.ipText[this.i];
    if (v4 !== this.v4) {
      this.v4 = v4;
      this.v4Text = ipText(this.f, this.i);
    }
    return this.v4Text;
  }
  get port(): number {
    return this.f.num[this.i === 0 ? N.port0 : N.port1];
  }
  get state(): EndpointView['state'] {
    return TCP_STATES[this.f.state[this.i]];
  }
}

class HandshakeOfFields {
  constructor(private readonly n: Float64Array) {}
  get synAt(): number | null {
    return nullable(this.n[N.synAt]);
  }
  get synAckAt(): number | null {
    return nullable(this.n[N.synAckAt]);
  }
  get ackAt(): number | null {
    return nullable(this.n[N.ackAt]);
  }
}

class CountsOfFields {
  constructor(
    private readonly n: Float64Array,
    private readonly bytesAt: number,
  ) {}
  get bytes(): number {
    return this.n[this.bytesAt];
  }
}

export class FieldsView implements DiagnosedConnection, Pick<ConnectionView, 'connState'> {
  readonly client: EndpointOfFields;
  readonly server: EndpointOfFields;
  readonly handshake: HandshakeOfFields;
  readonly counts: { client: CountsOfFields; server: CountsOfFields };

  constructor(private readonly f: ConnFields) {
    this.client = new EndpointOfFields(f, 0);
    this.server = new EndpointOfFields(f, 1);
    this.handshake = new HandshakeOfFields(f.num);
    this.counts = { client: new CountsOfFields(f.num, N.bytes0), server: new CountsOfFields(f.num, N.bytes1) };
  }

  get id(): string {
    return this.f.idText ?? String(this.f.id);
  }
  get status(): 'open' | 'closed' {
    return (this.f.flags & FL.CLOSED) !== 0 ? 'closed' : 'open';
  }
  get connState(): ConnectionView['connState'] {
    return CONN_STATES[this.f.connState];
  }
  get startedAt(): number {
    return this.f.num[N.startedAt];
  }
  get endedAt(): number | null {
    return nullable(this.f.num[N.endedAt]);
  }
  get lastSeenAt(): number {
    return this.f.num[N.lastSeenAt];
  }
  get closedBy(): ConnectionView['closedBy'] {
    return CLOSED_BY[this.f.closedBy];
  }
  get closeKind(): ConnectionView['closeKind'] {
    return CLOSE_KINDS[this.f.closeKind] ?? null;
  }
}
