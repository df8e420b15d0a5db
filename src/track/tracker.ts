import type { Segment } from '../decode/segment';
import type { EventRecordSink, EventSink } from './events';
import type { RecordFilter, TrackerApi, TrackerOptions, TrackerStats } from './api';
import type { ConnectionView, EndpointNotes } from './connection';
import type { ConnectionDetailView } from './detail';
import { Conns } from './conns';
import { Expiry } from './expiry';
import { Identity } from './identity';
import { Machine } from './machine';
import type { Mirror } from './mirror';
import { resolveOptions } from './options';
import { Queries } from './queries';
import { ConnRecord, EventCursor, type ConnectionSource, type ConnFields } from './record';
import type { RecordPage, Selection } from './select';
import { S } from './states';
import { ZeekMirror } from './zeek';

/**
 * The connection tracker: a flow table of 4-tuples, and for each connection the RFC 9293 state of
 * both endpoints as their kernels hold them (shared/design/tcp-states.md), Zeek's conn_state and
 * history, handshake timing, counts, a bounded ladder of segments and a bounded event log.
 *
 * Pure: time comes only from process(seg, ts) and expire(now), events go synchronously to the
 * sinks. An ordinary data or ACK segment of a known connection allocates nothing.
 *
 * Composed of parts with one job each (README.md): the connections and their changes (conns.ts),
 * which connection a segment belongs to (identity.ts), the endpoint machine (machine.ts), the Zeek
 * mirror (zeek.ts), timers (expiry.ts) and the queries (queries.ts).
 */
export class Tracker implements TrackerApi {
  readonly options: TrackerOptions;
  private readonly c: Conns;
  private readonly expiry: Expiry;
  private readonly identity: Identity;
  private readonly machine: Machine;
  private readonly queries: Queries;
  private recordSinks: EventRecordSink[] | null = null;

  constructor(opts?: Partial<TrackerOptions>) {
    const o = (this.options = resolveOptions(opts));
    const t = o.timeouts;
    const timeoutByClass = Float64Array.from([
      t.synSent, t.synReceived, t.established, t.finWait, t.closeWait, t.lastAck, 2 * o.mslMs, t.closedRetention,
    ]);
    const c = (this.c = new Conns(o));
    const zeek: Mirror = new ZeekMirror(c.st, c.hist, { records: o.zeekRecords });
    c.mirror = zeek;
    this.expiry = new Expiry(c, timeoutByClass);
    this.identity = new Identity(c, this.expiry, zeek);
    this.machine = new Machine(c, this.expiry, zeek);
    this.queries = new Queries(c, o.maxConnections);
  }

  process(seg: Segment, tsMs: number): void {
    const c = this.c;
    c.counters.packets++;
    c.counters.bytes += seg.payloadLen;
    c.now = tsMs;
    const s = this.identity.find(seg);
    if (s >= 0) this.machine.segment(s, c.flows.dir, seg, tsMs);
  }

  expire(nowMs: number): void {
    this.expiry.expire(nowMs);
  }

  /**
   * `sink` gets each event as an object (the record's event(): built once per event for all such
   * sinks): for a consumer that keeps events. One that only reads them takes onEventRecord, which
   * builds nothing. Sinks of both kinds run in the order they were registered.
   */
  onEvent(sink: EventSink): void {
    this.onEventRecord((r) => sink(r.event()));
  }

  /**
   * `sink` gets each event read in place through a cursor (record.ts EventCursor), one for all such
   * sinks, valid only during the call: no object is built unless one asks for it (event()).
   */
  onEventRecord(sink: EventRecordSink): void {
    const c = this.c;
    if (this.recordSinks === null) {
      c.keepSegments();
      const sinks: EventRecordSink[] = (this.recordSinks = []);
      const r = new EventCursor(c.st, c.hist, c.ladder, c.notes, c.views);
      c.sinks.push((s, w, ref) => {
        r.at(s, w, ref);
        for (let i = 0; i < sinks.length; i++) sinks[i](r);
      });
    }
    this.recordSinks.push(sink);
  }

  /**
   * `sink` gets each connection as it leaves the table (its retention ended, it was evicted, or
   * removeAll), as it was then. The view is built only when there is such a sink.
   */
  onRemove(sink: (c: ConnectionView) => void): void {
    this.c.removeSinks.push(sink);
  }

  /**
   * As onRemove, but `sink` reads the connection from the store through a cursor (record.ts), which
   * is valid only during the call: no view is built for it.
   */
  onRemoveRecord(sink: (r: ConnRecord) => void): void {
    const c = this.c;
    const r = new ConnRecord(c.st, c.hist, c.notes);
    c.removeSlotSinks.push((s) => sink(r.at(s)));
  }

  /**
   * Removes every connection, oldest first, through the remove sinks (the end of a file); at most
   * `max` of them when given. Returns how many it removed.
   */
  removeAll(max = Infinity): number {
    let n = 0;
    while (this.c.oldest >= 0 && n < max) {
      this.c.drop(this.c.oldest);
      n++;
    }
    return n;
  }

  get(id: string): ConnectionView | undefined {
    return this.queries.get(id);
  }

  detail(id: string): ConnectionDetailView | undefined {
    return this.queries.detail(id);
  }

  list(): ConnectionView[] {
    return this.queries.list();
  }

  fields(id: number, into: ConnFields): boolean {
    return this.queries.fields(id, into);
  }

  eachRecord(visit: (c: ConnectionSource) => void): void {
    this.queries.eachRecord(visit);
  }

  eachRecordOf(only: RecordFilter, visit: (c: ConnectionSource) => void): void {
    this.queries.eachRecordOf(only, visit);
  }

  select(q: Selection): { connections: ConnectionView[]; total: number; more: boolean } {
    return this.queries.select(q);
  }

  selectRecords(q: Selection): RecordPage {
    return this.queries.selectRecords(q);
  }

  enableQueryIndex(walkUpTo = 0.5): void {
    this.queries.enableQueryIndex(walkUpTo);
  }

  snapshot(limit: number, keep: ((c: ConnectionView) => boolean) | null = null): { connections: ConnectionView[]; total: number } {
    return this.queries.snapshot(limit, keep);
  }

  markCaptureGap(): number {
    return this.queries.markCaptureGap();
  }

  annotate(id: string, side: 'client' | 'server', fields: Readonly<EndpointNotes>): boolean {
    return this.queries.annotate(id, side, fields);
  }

  stats(): TrackerStats {
    return this.c.counters.snapshot(this.c.st.used, this.c.counters.inState(1, S.SYN_RECEIVED));
  }

  /** Blocks the ladder and event pools have handed out and not got back (a leak check). */
  memoryInUse(): { ladderBlocks: number; pinnedBlocks: number; eventBlocks: number } {
    const c = this.c;
    return { ladderBlocks: c.ladder.pool.inUse, pinnedBlocks: c.ladder.pins.inUse, eventBlocks: c.log.pool.inUse };
  }

  /** Bytes held in typed arrays by this tracker (store, pools, indexes), for benchmarks. */
  memoryBytes(): number {
    const c = this.c;
    return c.st.byteSize() + c.ladder.pool.byteSize() + c.ladder.pins.byteSize() + c.log.pool.byteSize() +
      c.ids.byteSize() + (c.index === null ? 0 : c.index.byteSize());
  }

  /**
   * The earliest time (packet time, ms) at which expire() would fire a timer (a TIME_WAIT's end,
   * an idle timeout, a closed connection's retention), Infinity when none runs: a caller that
   * advances the timers on a clock need not wake before it. FINs awaiting reception are not
   * counted: each is due at its own packet's time, never later than the newest packet tracked.
   */
  nextDue(): number {
    return this.expiry.nextDue();
  }
}
