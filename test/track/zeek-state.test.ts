import { describe, expect, it } from 'vitest';
import { zeekSenderIsOrig } from '../../src/track/zeek/origin';
import { conv, handshake, run } from './helpers';

const web = (isnC = 1000) => conv(isnC, 5000, '10.0.0.1:40000', '10.0.0.2:80');

describe("Zeek's conn_state and history", () => {
  const cases: Array<[string, string, string, () => ReturnType<ReturnType<typeof web>['c']>[]]> = [
    ['S0: attempt, no reply', 'S0', 'S', () => { const c = web(); return [c.c('S')]; }],
    ['S1: established, not closed', 'S1', 'ShA', () => handshake(web())],
    ['SF: normal open and close', 'SF', 'ShAFf', () => { const c = web(); return [...handshake(c), c.c('FA'), c.s('FA'), c.c('A')]; }],
    ['REJ: attempt rejected', 'REJ', 'Sr', () => { const c = web(); return [c.c('S'), c.s('RA', { seq: 0 })]; }],
    ['S2: originator closed, no reply', 'S2', 'ShAF', () => { const c = web(); return [...handshake(c), c.c('FA')]; }],
    ['S3: responder closed, no reply', 'S3', 'ShAf', () => { const c = web(); return [...handshake(c), c.s('FA')]; }],
    ['RSTO: originator aborted', 'RSTO', 'ShADR', () => { const c = web(); return [...handshake(c), c.c('PA', { len: 5 }), c.c('R')]; }],
    ['RSTR: responder aborted', 'RSTR', 'ShADr', () => { const c = web(); return [...handshake(c), c.c('PA', { len: 5 }), c.s('R')]; }],
    ['RSTOS0: SYN then RST from the originator', 'RSTOS0', 'SR', () => { const c = web(); return [c.c('S'), c.c('R')]; }],
    ['RSTRH: SYN+ACK then RST from the responder, no SYN', 'RSTRH', '^hr', () => { const c = web(1001); return [c.s('SA', { ack: 1001 }), c.s('R')]; }],
    ['SH: SYN then FIN, no SYN+ACK', 'SH', 'SF', () => { const c = web(); return [c.c('S'), c.c('F', { seq: 1001 })]; }],
    ['SHR: SYN+ACK then FIN from the responder, no SYN', 'SHR', '^hf', () => { const c = web(1001); return [c.s('SA', { ack: 1001 }), c.s('FA')]; }],
    ['OTH: midstream traffic', 'OTH', 'DdA', () => { const c = web(); return [c.c('PA', { len: 10 }), c.s('PA', { len: 10 }), c.c('A')]; }],
    ['OTH flipped: midstream, first packet from the server port', 'OTH', '^dDa', () => { const c = web(); return [c.s('PA', { len: 10 }), c.c('PA', { len: 10 }), c.s('A')]; }],
  ];
  for (const [name, state, history, specs] of cases) {
    it(name, () => {
      const { t } = run(specs());
      expect(t.list()[0]).toMatchObject({ connState: state, history });
    });
  }

  it('both sides reset: a later ACK that gives the responder a size turns REJ into RSTR', () => {
    // With both endpoints in RESET, conn_state reads Size(): the ACK moves the responder's
    // acknowledged sequence number (a size of 99) without a letter or a change of state.
    const c = web();
    const { t } = run([...handshake(c), c.c('R'), c.s('R'), c.c('A', { ack: 5100 })]);
    expect(t.list()[0]).toMatchObject({ connState: 'RSTR', history: 'ShARr' });
  });

  it('SYN+ACK first from a port Zeek does not know: Zeek flips once an ACK follows', () => {
    const c = conv(1001, 5000, '10.0.0.1:40000', '10.0.0.2:5555');
    const { t } = run([c.s('SA', { ack: 1001 }), c.c('A'), c.c('PA', { len: 3 }), c.s('A')]);
    const v = t.list()[0];
    expect(v.client.port).toBe(40000); // our roles were right from the start
    expect(v.history).toBe('^hADa'); // Zeek's 'H' became 'h' when it flipped
  });

  it('SYN+ACK first from a port Zeek does not know, answered by nothing: no flip', () => {
    const c = conv(1001, 5000, '10.0.0.1:40000', '10.0.0.2:5555');
    const { t } = run([c.s('SA', { ack: 1001 }), c.s('R', { seq: 5001 })]);
    expect(t.list()[0].history).toBe('HR');
  });

  it('SYN and SYN+ACK in reverse order: Zeek flips, we keep one connection', () => {
    const c = conv(1000, 5000, '10.0.0.1:40000', '10.0.0.2:5555');
    const { t } = run([c.s('SA', { ack: 1001 }), c.c('S', { seq: 1000 }), c.c('A', { seq: 1001 })]);
    expect(t.list()).toHaveLength(1);
    expect(t.list()[0]).toMatchObject({ history: 'Hs^A', connState: 'S1' }); // the flip comes after the 's'
  });

  it('retransmissions, zero windows and gaps are logged at counts 1, 10, 100', () => {
    const c = web();
    const specs = [...handshake(c), c.c('PA', { len: 10 })];
    for (let i = 0; i < 10; i++) specs.push(c.c('PA', { len: 10, seq: 1001 }));
    for (let i = 0; i < 10; i++) specs.push(c.s('A', { win: 0 }));
    const { t } = run(specs);
    expect(t.list()[0].history).toBe('ShADTTaww');
  });

  it('multi-flag packets: q for SYN+FIN, i for FIN+RST, once per direction', () => {
    const c = web();
    const { t } = run([...handshake(c), c.c('FRA'), c.c('FRA', { seq: 1001 }), c.s('SFA'), c.s('SFA', { seq: 5001 })]);
    expect(t.list()[0].history).toBe('ShAIq');
  });

  it("Zeek's originator for first packets that are not a plain SYN", () => {
    expect(zeekSenderIsOrig(0x02, 40000, 80)).toBe(true); // plain SYN
    expect(zeekSenderIsOrig(0x12, 80, 40000)).toBe(false); // SYN+ACK from a server port: flipped
    expect(zeekSenderIsOrig(0x12, 5555, 40000)).toBe(true); // unknown port: not flipped
    expect(zeekSenderIsOrig(0x10, 80, 443)).toBe(false); // both likely: flip if src < dst and no SYN
    expect(zeekSenderIsOrig(0x12, 80, 443)).toBe(true); // … but never for a SYN+ACK
  });
});
