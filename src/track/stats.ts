import type { TrackerStats } from './api';
import { ANOMALY_KINDS } from './events';
import { CONN_STATES, STATES, TCP_STATES, type ConnState, type TcpState } from './states';

/** The tracker's counters, kept up to date as things happen so stats() never scans the table. */
export class TrackerCounters {
  packets = 0;
  bytes = 0;
  connectionsTotal = 0;
  handshakesCompleted = 0;
  resets = 0;
  refused = 0;
  evictions = 0;
  open = 0;
  closed = 0;
  /**
   * Tracked connections by the pair of their endpoints' states, at [client * STATES.COUNT + server]:
   * a change of state moves one count, and what is asked of the states (by side, either side) is
   * summed from the pairs when read (stats(), a list query's total), which is seldom.
   */
  readonly pairs = new Int32Array(STATES.COUNT * STATES.COUNT);
  /** Connections with either endpoint on a port, by port (a connection from a port to itself once). */
  readonly byPort = new Int32Array(65536);
  readonly byConn = new Float64Array(CONN_STATES.length);
  readonly anomalies = new Float64Array(ANOMALY_KINDS.length);

  /** Connections whose client endpoint (side 0) or server endpoint (side 1) is in `state`. */
  inState(side: number, state: number): number {
    let n = 0;
    for (let o = 0; o < STATES.COUNT; o++) n += this.pairs[side === 0 ? state * STATES.COUNT + o : o * STATES.COUNT + state];
    return n;
  }

  /** Connections with either endpoint in `state` (one with both there counted once). */
  eitherIn(state: number): number {
    return this.inState(0, state) + this.inState(1, state) - this.pairs[state * STATES.COUNT + state];
  }

  snapshot(tracked: number, halfOpen: number): TrackerStats {
    const byClientState = {} as Record<TcpState, number>;
    const byServerState = {} as Record<TcpState, number>;
    TCP_STATES.forEach((name, i) => {
      byClientState[name] = this.inState(0, i);
      byServerState[name] = this.inState(1, i);
    });
    const byConnState = {} as Record<ConnState, number>;
    CONN_STATES.forEach((name, i) => (byConnState[name] = this.byConn[i]));
    const anomalies: Record<string, number> = {};
    ANOMALY_KINDS.forEach((name, i) => (anomalies[name] = this.anomalies[i]));
    return {
      packets: this.packets,
      bytes: this.bytes,
      open: this.open,
      closed: this.closed,
      tracked,
      connectionsTotal: this.connectionsTotal,
      handshakesCompleted: this.handshakesCompleted,
      resets: this.resets,
      refused: this.refused,
      evictions: this.evictions,
      halfOpen,
      byClientState,
      byServerState,
      byConnState,
      anomalies,
    };
  }
}
