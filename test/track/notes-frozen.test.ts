import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/ingest/engine';
import type { EndpointProcess, KernelEndpoint } from '../../src/track/connection';
import { makeSegment } from '../support/segments';

describe('annotate', () => {
  it('freezes the note and the objects inside it, keeping one owner one object', () => {
    const e = new Engine();
    e.tracker.process(makeSegment({ src: '10.0.0.1:40000', dst: '10.0.0.2:80', flags: 'S', seq: 1 }), 1);
    e.tracker.process(makeSegment({ src: '10.0.0.3:40000', dst: '10.0.0.2:80', flags: 'S', seq: 1 }), 2);
    const [a, b] = e.tracker.list().map((c) => c.id);
    const process: EndpointProcess = { pid: 1, command: 'srv', cmdline: 'srv', user: null, netns: 1, fd: null, via: 'listener', alsoHeldBy: [2] };
    const kernel: KernelEndpoint = { state: 'LISTEN', agrees: false, at: 1, rxQueue: 0, txQueue: 0, srttMs: null, retransTotal: null, cwnd: null };
    e.tracker.annotate(a, 'server', { process });
    e.tracker.annotate(b, 'server', { process });
    e.tracker.annotate(a, 'server', { kernel });
    const va = e.tracker.get(a)!.server;
    const vb = e.tracker.get(b)!.server;
    expect(va.process).toBe(process);
    expect(vb.process).toBe(process);
    for (const o of [process, process.alsoHeldBy, kernel, va.kernel]) expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (va.process as { pid: number }).pid = 9;
    }).toThrow(TypeError);
  });
});
