import type { TrackerStats } from './api';
import { ANOMALY_KINDS } from './events';
import { CONN_STATES, TCP_STATES, type ConnState, type TcpState } from './states';

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
  /** Endpoint states of all tracked connections: client at [state], server at [11 + state]. */
  readonly byState = new Float64Array(2 * TCP_STATES.length);
  /** Connections with both endpoints in the same state, by state (so "either side in X" is exact). */
  readonly bothIn = new Float64Array(TCP_STATES.length);
  /** Connections with either endpoint on a port, by port (a connection from a port to itself once). */
  readonly byPort = new Int32Array(65536);
  readonly byConn = new Float64Array(CONN_STATES.length);
  readonly anomalies = new Float64Array(ANOMALY_KINDS.length);

  snapshot(tracked: number, halfOpen: number): TrackerStats {
    const byClientState = {} as Record<TcpState, number>;
    const byServerState = {} as Record<TcpState, number>;
    TCP_STATES.forEach((name, i) => {
      byClientState[name] = this.byState[i];
      byServerState[name] = this.byState[TCP_STATES.length + i];
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
