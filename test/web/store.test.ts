// The dashboard's copy of the connections, kept from protocol 3's events: a `connection` event's
// summary makes a row (the fields it lacks empty until REST fills them in) and, once closed, lays how
// the connection ended over it; a REST copy that is as new replaces it.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser module, no types
import { Store } from '../../web/js/store.js';

const ends = (c: string, s: string) => ({
  client: { ip: '127.0.0.1', port: 40000, state: c },
  server: { ip: '127.0.0.1', port: 3000, state: s },
});
const base = { partial: false, rolesGuessed: false, captureGap: false, startedAt: 1000 };

describe('the dashboard store on summaries', () => {
  it('makes a row from an opened summary, follows state events, and takes how it ended from the closed one', () => {
    const st = new Store();
    st.applyEvent({ type: 'connection', connectionId: '7', ts: 1000, phase: 'opened', connection: { ...ends('CLOSED', 'LISTEN'), status: 'open', connState: 'OTH', history: '', ...base } });
    const row = st.get('7');
    expect(row.c).toMatchObject({ id: '7', family: 4, status: 'open', connState: 'OTH', lastSeenAt: 1000, handshake: { rttMs: null }, counts: { client: { bytes: 0 } } });
    expect(st.applyEvent({ type: 'state', connectionId: '7', ts: 1001, side: 'client', from: 'CLOSED', to: 'SYN_SENT', cause: null })).toBe(true);
    expect(row.c.client.state).toBe('SYN_SENT');
    expect(row.since.client).toBe(1001);
    st.applyEvent({
      type: 'connection', connectionId: '7', ts: 1009, phase: 'closed',
      connection: {
        ...ends('TIME_WAIT', 'CLOSED'), status: 'closed', connState: 'SF', history: 'ShADadFf', ...base,
        closedBy: 'client', closeKind: 'fin', endedAt: 1009, rttMs: 0.5,
        counts: { client: { packets: 6, bytes: 4 }, server: { packets: 5, bytes: 22 } },
      },
    });
    expect(row.c).toMatchObject({
      status: 'closed', connState: 'SF', history: 'ShADadFf', closedBy: 'client', closeKind: 'fin', endedAt: 1009, lastSeenAt: 1009,
      client: { state: 'TIME_WAIT' }, server: { state: 'CLOSED' }, handshake: { rttMs: 0.5 }, counts: { server: { bytes: 22 } },
    });
    // the state the summary says differs from what the row had: its since is unknown now
    expect(row.since.client).toBeNull();
    // a REST copy as new as the row replaces it whole
    const rest = { ...row.c, options: { client: {}, server: {} }, anomalies: 0, lastSeenAt: 1009 };
    expect(st.upsert(rest)).toBe(true);
    expect(st.get('7').c).toBe(rest);
  });

  it('lays a summary over a row REST brought first, and forgets an evicted connection', () => {
    const st = new Store();
    st.upsert({ id: '9', ...ends('ESTABLISHED', 'ESTABLISHED'), status: 'open', connState: 'S1', history: 'ShAD', lastSeenAt: 2000, handshake: { rttMs: 0.2 }, counts: { client: { packets: 3, bytes: 10 }, server: { packets: 2, bytes: 0 } } });
    st.applyEvent({ type: 'connection', connectionId: '9', ts: 2005, phase: 'opened', connection: { ...ends('ESTABLISHED', 'ESTABLISHED'), status: 'open', connState: 'S1', history: 'ShAD', ...base } });
    expect(st.get('9').c.counts.client.bytes).toBe(10);
    expect(st.get('9').c.lastSeenAt).toBe(2005);
    st.applyEvent({ type: 'connection', connectionId: '9', ts: 2010, phase: 'evicted', connection: { ...ends('ESTABLISHED', 'ESTABLISHED'), status: 'closed', connState: 'S1', history: 'ShAD', ...base } });
    expect(st.get('9')).toBeUndefined();
  });

  it('gives an IPv6 connection family 6', () => {
    const st = new Store();
    st.applyEvent({ type: 'connection', connectionId: '3', ts: 1, phase: 'opened', connection: { client: { ip: '::1', port: 1, state: 'CLOSED' }, server: { ip: '::1', port: 2, state: 'LISTEN' }, status: 'open', connState: 'OTH', history: '', ...base } });
    expect(st.get('3').c.family).toBe(6);
  });
});
