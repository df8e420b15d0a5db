import { describe, expect, it } from 'vitest';
import type { TcpState } from '../../src/track/states';
import {
  afterTimeWait,
  describeSocket,
  endpointKey,
  internals,
  kernelTrace,
  startKernelTrace,
  type KernelSocket,
  type KernelTrace,
  type KernelTraceResult,
} from './kernel-trace';
import { needs } from './skip';
import {
  bulkTransfer,
  clientClosesFirst,
  clientReset,
  concurrent,
  heldFinClose,
  halfClose,
  ipv6ClientClosesFirst,
  portReuse,
  refused,
  resetAfterFin,
  serverClosesFirst,
  serverReset,
  simultaneousClose,
  type ConnTuple,
  type Pattern,
  type PatternResult,
} from './traffic';

type Seq = TcpState[];
const seq = (s: string): Seq => s.split(' ') as Seq;

// tcp-states.md: what Linux does on loopback, per side
const ACTIVE_OPEN_ACTIVE_CLOSE = seq('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT');
const ACTIVE_OPEN_PASSIVE_CLOSE = seq('CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED');
const PASSIVE_OPEN_ACTIVE_CLOSE = seq('LISTEN SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT');
const PASSIVE_OPEN_PASSIVE_CLOSE = seq('LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED');
const CLIENT_ABORT = seq('CLOSED SYN_SENT ESTABLISHED CLOSED');
const SERVER_ABORT = seq('LISTEN SYN_RECEIVED ESTABLISHED CLOSED');

async function traced(pattern: Pattern, extra: object = {}): Promise<{ run: PatternResult; trace: KernelTraceResult }> {
  let rec: KernelTrace | undefined;
  try {
    const run = await pattern({
      ...extra,
      onReady: async (ports) => {
        rec = await startKernelTrace({ ports });
      },
    });
    const trace = await rec!.stop();
    return { run, trace };
  } catch (e) {
    rec?.abort();
    throw e;
  }
}

/** The client's and the server's kernel sockets of one connection. */
function sidesOf(trace: KernelTraceResult, c: ConnTuple): { client: KernelSocket[]; server: KernelSocket[] } {
  return { client: trace.find(c.client, c.server), server: trace.find(c.server, c.client) };
}

function dump(trace: KernelTraceResult): string {
  return trace.sockets.map(describeSocket).join('\n');
}

/** Checks every trace must pass: nothing lost, every chain continuous, every TIME_WAIT seen by ss. */
function sound(trace: KernelTraceResult): void {
  expect(trace.lost, 'events lost by the ring buffer').toBe(0);
  for (const s of trace.sockets) {
    expect(s.discontinuities, describeSocket(s)).toBe(0);
    if (s.timeWait === 'TIME_WAIT') {
      expect(s.timeWaitConfirmed || s.timeWaitKilledByReset, describeSocket(s)).toBe(true);
    }
  }
}

function expectOne(trace: KernelTraceResult, c: ConnTuple, client: Seq, server: Seq): { client: KernelSocket; server: KernelSocket } {
  const s = sidesOf(trace, c);
  expect(s.client.length, dump(trace)).toBe(1);
  expect(s.server.length, dump(trace)).toBe(1);
  // compared as they end after 2×MSL: a reset may have cut a TIME_WAIT short (see kernel-trace.ts)
  expect(afterTimeWait(s.client[0].states), describeSocket(s.client[0])).toEqual(afterTimeWait(client));
  expect(afterTimeWait(s.server[0].states), describeSocket(s.server[0])).toEqual(afterTimeWait(server));
  expect(s.client[0].role).toBe('active');
  expect(s.server[0].role).toBe('passive');
  return { client: s.client[0], server: s.server[0] };
}

describe('kernel socket states on loopback (sock:inet_sock_set_state)', needs(kernelTrace()), () => {
  it('client closes first: client ends in TIME_WAIT, server goes CLOSE_WAIT, LAST_ACK, CLOSED', async () => {
    const { run, trace } = await traced(clientClosesFirst);
    sound(trace);
    const { client, server } = expectOne(trace, run.connections[0], ACTIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_PASSIVE_CLOSE);
    // the raw sequence shows the timewait hand-off as FIN_WAIT2 → CLOSE
    expect(client.raw).toEqual(['CLOSE', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE']);
    expect(client.timeWait).toBe('TIME_WAIT');
    expect(client.timeWaitConfirmed).toBe(true);
    // the accepted child is cloned from the listener: its first event reads LISTEN → SYN_RECV
    expect(server.raw.slice(0, 3)).toEqual(['LISTEN', 'SYN_RECV', 'ESTABLISHED']);
    expect(server.timeWait).toBeNull();
  });

  it('the listening socket is a separate socket that never leaves LISTEN for a connection', async () => {
    const { run, trace } = await traced(clientClosesFirst);
    const listeners = trace.sockets.filter((s) => s.role === 'listener');
    expect(listeners).toHaveLength(1);
    expect(listeners[0].local.port).toBe(run.serverPorts[0]);
    expect(listeners[0].remote.port).toBe(0);
    // traced from after listen(): only its close shows
    expect(listeners[0].states).toEqual(['LISTEN', 'CLOSED']);
    const { server } = sidesOf(trace, run.connections[0]);
    expect(server[0].skaddr).not.toBe(listeners[0].skaddr);
  });

  it('server closes first: the mirror image', async () => {
    const { run, trace } = await traced(serverClosesFirst);
    sound(trace);
    expectOne(trace, run.connections[0], ACTIVE_OPEN_PASSIVE_CLOSE, PASSIVE_OPEN_ACTIVE_CLOSE);
  });

  it('half-close: the client stays in FIN_WAIT_2 while data flows, then TIME_WAIT', async () => {
    const { run, trace } = await traced(halfClose);
    sound(trace);
    expectOne(trace, run.connections[0], ACTIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_PASSIVE_CLOSE);
  });

  it('RST from the client: ESTABLISHED → CLOSED on both sides, reset sent by the client', async () => {
    const { run, trace } = await traced(clientReset);
    sound(trace);
    const { client, server } = expectOne(trace, run.connections[0], CLIENT_ABORT, SERVER_ABORT);
    expect(client.resets.map((r) => r.dir)).toContain('sent');
    expect(server.resets.map((r) => r.dir)).toEqual(['received']);
  });

  it('RST from the server: ESTABLISHED → CLOSED on both sides, reset sent by the server', async () => {
    const { run, trace } = await traced(serverReset);
    sound(trace);
    const { client, server } = expectOne(trace, run.connections[0], CLIENT_ABORT, SERVER_ABORT);
    expect(server.resets.map((r) => r.dir)).toContain('sent');
    expect(client.resets.map((r) => r.dir)).toEqual(['received']);
  });

  it('RST in FIN_WAIT_2 is a close without TIME_WAIT, though the raw events look like one', async () => {
    const { run, trace } = await traced(resetAfterFin);
    sound(trace);
    const { client } = expectOne(
      trace,
      run.connections[0],
      seq('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSED'),
      seq('LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT CLOSED'),
    );
    expect(client.raw.slice(-2)).toEqual(['FIN_WAIT2', 'CLOSE']);
    expect(client.timeWait).toBeNull();
  });

  it('refused: the client goes SYN_SENT → CLOSED and nothing exists on the server side', async () => {
    const { run, trace } = await traced(refused);
    sound(trace);
    const s = sidesOf(trace, run.connections[0]);
    expect(s.client.map((x) => x.states), dump(trace)).toEqual([seq('CLOSED SYN_SENT CLOSED')]);
    expect(s.client[0].resets.map((r) => r.dir)).toEqual(['received']);
    expect(s.server).toEqual([]);
    expect(trace.sockets).toHaveLength(1);
  });

  it('IPv6 ::1 gives the same sequences, keyed by IPv6 addresses', async () => {
    const { run, trace } = await traced(ipv6ClientClosesFirst);
    sound(trace);
    expect(run.family).toBe(6);
    const { client } = expectOne(trace, run.connections[0], ACTIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_PASSIVE_CLOSE);
    expect(client.family).toBe(6);
    expect(client.local.ip).toBe('::1');
  });

  it('port reuse: two connections on one 4-tuple are two sockets each side, in order', async () => {
    const { run, trace } = await traced(portReuse);
    sound(trace);
    expect(run.connections).toHaveLength(2);
    const s = sidesOf(trace, run.connections[0]);
    expect(s.client.map((x) => x.states), dump(trace)).toEqual([ACTIVE_OPEN_PASSIVE_CLOSE, ACTIVE_OPEN_PASSIVE_CLOSE]);
    expect(s.server.map((x) => x.states), dump(trace)).toEqual([PASSIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_ACTIVE_CLOSE]);
    expect(s.client[0].transitions[0].ts).toBeLessThan(s.client[1].transitions[0].ts);
  });

  it('simultaneous end() on loopback is an ordinary close: the first FIN is answered at once', async () => {
    const { run, trace } = await traced(simultaneousClose);
    sound(trace);
    // the server calls end() first; its FIN reaches the client inside that system call
    expectOne(trace, run.connections[0], ACTIVE_OPEN_PASSIVE_CLOSE, PASSIVE_OPEN_ACTIVE_CLOSE);
  });

  it('a FIN held behind unsent data gives a real CLOSING', async () => {
    const { run, trace } = await traced(heldFinClose);
    sound(trace);
    expect(run.notes).toContain('client FIN held behind unsent data');
    const { client } = expectOne(
      trace,
      run.connections[0],
      seq('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT'),
      PASSIVE_OPEN_ACTIVE_CLOSE,
    );
    expect(client.raw).toContain('CLOSING');
    expect(client.timeWaitConfirmed).toBe(true);
  });

  it('300 concurrent connections: every socket traced, none lost', async () => {
    const { run, trace } = await traced(concurrent, { count: 300 });
    sound(trace);
    expect(run.connections).toHaveLength(300);
    expect(new Set(run.connections.map((c) => c.client.port)).size).toBe(300);
    for (const c of run.connections) expectOne(trace, c, ACTIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_PASSIVE_CLOSE);
    expect(trace.sockets.filter((s) => s.role !== 'listener')).toHaveLength(600);
  });

  it('8 MiB each way: data does not add state changes', async () => {
    const { run, trace } = await traced(bulkTransfer, { bytes: 8 * 1024 * 1024 });
    sound(trace);
    expectOne(trace, run.connections[0], ACTIVE_OPEN_ACTIVE_CLOSE, PASSIVE_OPEN_PASSIVE_CLOSE);
  });

  it('two traces at once see only their own ports', async () => {
    const [a, b] = await Promise.all([traced(clientClosesFirst), traced(serverClosesFirst)]);
    for (const { run, trace } of [a, b]) {
      sound(trace);
      for (const s of trace.sockets) {
        expect([s.local.port, s.remote.port]).toContain(run.serverPorts[0]);
      }
    }
  });
});

// Both readings of one real trace (an IPv6 connection the client aborted), as stop() joins them.
const FIXTURE_TEXT = [
  'node-12630   [001] .....   697.934294: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=45690 dport=0 saddr=127.0.0.6 daddr=0.0.0.0 saddrv6=::1 daddrv6=:: oldstate=TCP_CLOSE newstate=TCP_LISTEN',
  'node-12630   [001] .....   697.941416: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=0 dport=45690 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT',
  'node-12630   [001] .....   697.941563: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=59626 dport=45690 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED',
  'node-12630   [001] ..s2.   697.941571: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=45690 dport=59626 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=::1 daddrv6=::1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV',
  'node-12630   [001] ..s2.   697.941575: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=45690 dport=59626 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=::1 daddrv6=::1 oldstate=TCP_SYN_RECV newstate=TCP_ESTABLISHED',
  'node-12630   [001] .....   697.943819: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=59626 dport=45690 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 oldstate=TCP_ESTABLISHED newstate=TCP_CLOSE',
  'node-12630   [001] ..s2.   697.943836: tcp_receive_reset: family=AF_INET6 sport=45690 dport=59626 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=::1 daddrv6=::1 sock_cookie=136',
  'node-12630   [001] ..s2.   697.943837: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=45690 dport=59626 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=::1 daddrv6=::1 oldstate=TCP_ESTABLISHED newstate=TCP_CLOSE',
  'node-12630   [001] .....   697.943841: tcp_send_reset: skbaddr=0000000000000000 skaddr=00000000c79dc922 src=[::1]:59626 dest=[::1]:45690 state=TCP_CLOSE reason=TCP_STATE',
  'node-12630   [001] .....   697.948849: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=45690 dport=0 saddr=127.0.0.6 daddr=0.0.0.0 saddrv6=::1 daddrv6=:: oldstate=TCP_LISTEN newstate=TCP_CLOSE',
].join('\n');

const FIXTURE_FIELDS = [
  'node-12630   [001] .....   697.934294: inet_sock_set_state: skaddr=0xffff888108681380 (-131387203513472) oldstate=0x7 (7) newstate=0xa (10) sport=0xb27a (45690) dport=0x0 (0) family=0xa (10) protocol=0x6 (6) saddr=0x600007f (100663423) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] .....   697.941416: inet_sock_set_state: skaddr=0xffff8881086830c0 (-131387203505984) oldstate=0x7 (7) newstate=0x2 (2) sport=0x0 (0) dport=0xb27a (45690) family=0xa (10) protocol=0x6 (6) saddr=0x0 (0) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] .....   697.941563: inet_sock_set_state: skaddr=0xffff8881086830c0 (-131387203505984) oldstate=0x2 (2) newstate=0x1 (1) sport=0xe8ea (59626) dport=0xb27a (45690) family=0xa (10) protocol=0x6 (6) saddr=0x0 (0) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] ..s2.   697.941571: inet_sock_set_state: skaddr=0xffff888108686180 (-131387203493504) oldstate=0xa (10) newstate=0x3 (3) sport=0xb27a (45690) dport=0xe8ea (59626) family=0xa (10) protocol=0x6 (6) saddr=0x600007f (100663423) daddr=0x600007f (100663423) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] ..s2.   697.941575: inet_sock_set_state: skaddr=0xffff888108686180 (-131387203493504) oldstate=0x3 (3) newstate=0x1 (1) sport=0xb27a (45690) dport=0xe8ea (59626) family=0xa (10) protocol=0x6 (6) saddr=0x600007f (100663423) daddr=0x600007f (100663423) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] .....   697.943819: inet_sock_set_state: skaddr=0xffff8881086830c0 (-131387203505984) oldstate=0x1 (1) newstate=0x7 (7) sport=0xe8ea (59626) dport=0xb27a (45690) family=0xa (10) protocol=0x6 (6) saddr=0x0 (0) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] ..s2.   697.943836: tcp_receive_reset: skaddr=0xffff888108686180 (-131387203493504) sport=0xb27a (45690) dport=0xe8ea (59626) family=0xa (10) saddr=0x600007f (100663423) daddr=0x600007f (100663423) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE> sock_cookie=0x136 (310)',
  'node-12630   [001] ..s2.   697.943837: inet_sock_set_state: skaddr=0xffff888108686180 (-131387203493504) oldstate=0x1 (1) newstate=0x7 (7) sport=0xb27a (45690) dport=0xe8ea (59626) family=0xa (10) protocol=0x6 (6) saddr=0x600007f (100663423) daddr=0x600007f (100663423) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
  'node-12630   [001] .....   697.943841: tcp_send_reset: skbaddr=0x0 (0) skaddr=0xffff8881086830c0 (-131387203505984) state=0x7 (7) reason=0xe (14) saddr=<INVALID-SIZE> daddr=<INVALID-SIZE>',
  'node-12630   [001] .....   697.948849: inet_sock_set_state: skaddr=0xffff888108681380 (-131387203513472) oldstate=0xa (10) newstate=0x7 (7) sport=0xb27a (45690) dport=0x0 (0) family=0xa (10) protocol=0x6 (6) saddr=0x600007f (100663423) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>',
].join('\n');

describe('trace parsing', () => {
  it('joins the two formats into sockets with skaddr, IPv6 tuples and resets', () => {
    const joined = internals.joinLines(FIXTURE_TEXT, FIXTURE_FIELDS);
    const sockets = internals.collectSockets(joined.events);
    const facts = { timewait: new Map(), resetsTo: internals.resetsByTarget(joined.events), rfc1337: false };
    const res = internals.assemble(sockets, facts, 0, joined.lines);
    expect(res.sockets.map((s) => [s.role, s.skaddr, s.states.join(' ')])).toEqual([
      ['listener', '0xffff888108681380', 'CLOSED LISTEN CLOSED'],
      ['active', '0xffff8881086830c0', 'CLOSED SYN_SENT ESTABLISHED CLOSED'],
      ['passive', '0xffff888108686180', 'LISTEN SYN_RECEIVED ESTABLISHED CLOSED'],
    ]);
    const [client] = res.find({ ip: '::1', port: 59626 }, { ip: '::1', port: 45690 });
    expect(client.family).toBe(6);
    expect(client.resets).toEqual([{ ts: 697.943841, dir: 'sent', afterTransitions: 3, reason: 'TCP_STATE' }]);
    const [server] = res.find({ ip: '::1', port: 45690 }, { ip: '::1', port: 59626 });
    expect(server.resets.map((r) => r.dir)).toEqual(['received']);
  });

  it('refuses readings that do not pair up', () => {
    const shifted = FIXTURE_FIELDS.split('\n').slice(1).join('\n');
    expect(() => internals.joinLines(FIXTURE_TEXT, shifted)).toThrow(/do not pair up|lines/);
  });

  it('keys endpoints with v4-mapped addresses unwrapped', () => {
    expect(endpointKey(4, { ip: '::ffff:127.0.0.1', port: 1 }, { ip: '127.0.0.1', port: 2 })).toBe(
      endpointKey(4, { ip: '127.0.0.1', port: 1 }, { ip: '127.0.0.1', port: 2 }),
    );
  });

  it('after TIME_WAIT runs out the view ends in CLOSED', () => {
    expect(afterTimeWait(ACTIVE_OPEN_ACTIVE_CLOSE)).toEqual([...ACTIVE_OPEN_ACTIVE_CLOSE, 'CLOSED']);
    expect(afterTimeWait(CLIENT_ABORT)).toEqual(CLIENT_ABORT);
  });
});
