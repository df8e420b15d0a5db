// The learn view's explanations are keyed by the cells of the tracker's own transition table: every
// cell that changes a state is explained, every explanation names a real cell, and every state
// change the tracker makes on real-shaped traffic finds its explanation through the dashboard's code.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StateEvent, TcpEvent } from '../../src/events/types';
import {
  allTexts,
  cellKey,
  changingCells,
  EXPLANATION_CASES,
  explanationKeys,
  SEGMENT_CLASSES,
  TEMPLATE_VARS,
  transitionsDoc,
  type TransitionsDoc,
} from '../../src/track/explanations';
import { TCP_STATES } from '../../src/track/states';
import { IGNORE, INVALID, nextState, ROLE } from '../../src/track/transitions';
import type { SegSpec } from '../support/segments';
import { conv, handshake, run } from './helpers';

interface Explained {
  event: StateEvent;
  explanation: { key: string; text: string; cases: string[]; caseTexts: string[] } | null;
}
interface LearnModule {
  explainEvents(doc: TransitionsDoc, detail: unknown): Explained[];
  edgeExplanations(doc: TransitionsDoc, from: string, to: string): { key: string; text: string }[];
  fill(template: string, vars?: Record<string, unknown>): string;
  groupDigits(n: number): string;
}

let learn: LearnModule;
const doc = transitionsDoc(30_000);

beforeAll(async () => {
  const url = pathToFileURL(path.resolve(__dirname, '../../web/js/learn.js')).href;
  learn = (await import(url)) as LearnModule;
});

describe('the explanations and the table', () => {
  it('explain every cell that changes a state, once, and name no other cell', () => {
    const cells = changingCells().map((c) => cellKey(c.role, c.class, c.from));
    const keys = explanationKeys();
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...cells].sort());
    for (const c of doc.cells) expect(c.text, cellKey(c.role, c.class, c.from)).not.toBe('');
  });

  it('read the target state from the table itself, and say the same state in words', () => {
    for (const c of doc.cells) {
      const role = c.role === 'sender' ? ROLE.SENDER : ROLE.RECEIVER;
      const to = nextState(role, SEGMENT_CLASSES.indexOf(c.class), TCP_STATES.indexOf(c.from));
      expect(to).not.toBe(IGNORE);
      expect(to).not.toBe(INVALID);
      expect(TCP_STATES[to]).toBe(c.to);
      // the words were written by hand: a cell of the table changed without them shows here
      expect(c.text, cellKey(c.role, c.class, c.from)).toMatch(new RegExp(`\\b${c.to}\\b`));
    }
    for (const x of doc.exceptions) expect(x.text, x.name).toMatch(new RegExp(`\\b${x.to}\\b`));
  });

  it('use only known placeholders and cases, with balanced brackets', () => {
    for (const t of allTexts(doc)) {
      for (const m of t.matchAll(/\{(\w*)\}/g)) expect(TEMPLATE_VARS as readonly string[], t).toContain(m[1]);
      expect(t.split('[').length, t).toBe(t.split(']').length);
      expect(learn.fill(t), t).not.toMatch(/[{}[\]]/);
    }
    for (const c of [...doc.cells, ...doc.exceptions]) {
      for (const k of Object.keys(c.cases ?? {})) expect(EXPLANATION_CASES as readonly string[]).toContain(k);
    }
  });

  it('fills in real numbers, and leaves a bracketed part out when a number is unknown', () => {
    const t = 'the server acknowledges {side}\'s SYN: ack = {sideN} ISN[ {isn}] + 1';
    expect(learn.fill(t, { side: 'the client', sideN: 'client', isn: 2384117012 })).toBe(
      'the server acknowledges the client\'s SYN: ack = client ISN 2\u00a0384\u00a0117\u00a0012 + 1',
    );
    expect(learn.fill(t)).toBe('the server acknowledges this endpoint\'s SYN: ack = own ISN + 1');
  });
});

/** Runs segments through the tracker and explains every state event of every connection. */
function explained(specs: SegSpec[], expireAt?: number): Explained[] {
  const { t, events, last } = run(specs);
  if (expireAt !== undefined) t.expire(last + expireAt);
  const out: Explained[] = [];
  for (const c of t.list()) out.push(...learn.explainEvents(doc, t.detail(c.id)));
  expect(out.length).toBe(events.filter((e: TcpEvent) => e.type === 'state').length);
  for (const x of out) expect(x.explanation, `${x.event.side} ${x.event.from} → ${x.event.to}`).not.toBeNull();
  return out;
}

const keys = (xs: Explained[], side: 'client' | 'server') =>
  xs.filter((x) => x.event.side === side).map((x) => x.explanation!.key);

describe('every change the tracker makes is explained', () => {
  it('a handshake with its real ISNs, and a close where the FIN rides on the ACK (three segments)', () => {
    const c = conv(2384117012, 77);
    const xs = explained([...handshake(c), c.c('PA', { len: 5 }), c.s('A'), c.c('FA'), c.s('FA'), c.c('A')]);
    expect(keys(xs, 'client')).toEqual(['sender SYN CLOSED', 'receiver ACK_SYN SYN_SENT', 'sender FIN ESTABLISHED', 'receiver ACK_FIN FIN_WAIT_1', 'receiver FIN FIN_WAIT_2']);
    expect(keys(xs, 'server')).toEqual(['sender SYNACK LISTEN', 'receiver ACK_SYN SYN_RECEIVED', 'receiver FIN ESTABLISHED', 'sender FIN CLOSE_WAIT', 'receiver ACK_FIN LAST_ACK']);
    const synAck = xs.find((x) => x.explanation!.key === 'sender SYNACK LISTEN')!.explanation!;
    expect(synAck.text).toContain('acknowledges the client\'s SYN: ack = client ISN 2\u00a0384\u00a0117\u00a0012 + 1');
    const lastFin = xs.find((x) => x.explanation!.key === 'sender FIN CLOSE_WAIT')!.explanation!;
    expect(lastFin.cases).toEqual(['three-segment-close']);
    expect(lastFin.caseTexts[0]).toContain('three segments');
    const tw = xs.find((x) => x.explanation!.key === 'receiver FIN FIN_WAIT_2')!.explanation!;
    expect(tw.text).toContain('2×MSL (60 s)');
  });

  it('a four-segment close, server first, then TIME_WAIT running out', () => {
    const c = conv();
    const xs = explained([...handshake(c), c.s('FA'), c.c('A'), c.c('FA'), c.s('A')], 61_000);
    expect(keys(xs, 'server')).toEqual(['sender SYNACK LISTEN', 'receiver ACK_SYN SYN_RECEIVED', 'sender FIN ESTABLISHED', 'receiver ACK_FIN FIN_WAIT_1', 'receiver FIN FIN_WAIT_2', 'time-wait-expired']);
    const lastFin = xs.find((x) => x.explanation!.key === 'sender FIN CLOSE_WAIT')!.explanation!;
    expect(lastFin.cases).toEqual(['four-segment-close']);
  });

  it('a half-close: data after the FIN', () => {
    const c = conv();
    const xs = explained([...handshake(c), c.c('FA'), c.s('PA', { len: 100 }), c.c('A'), c.s('PA', { len: 50 }), c.c('A'), c.s('FA'), c.c('A')]);
    const cw = xs.find((x) => x.explanation!.key === 'receiver FIN ESTABLISHED')!.explanation!;
    expect(cw.cases).toEqual(['half-close']);
    expect(cw.caseTexts[0]).toContain('(150 bytes)');
  });

  it('a reset and a refused attempt', () => {
    const c = conv();
    const rst = explained([...handshake(c), c.c('R')]);
    expect(keys(rst, 'client').at(-1)).toBe('sender RST ESTABLISHED');
    expect(keys(rst, 'server').at(-1)).toBe('receiver RST ESTABLISHED');
    const r = conv();
    const refused = explained([r.c('S'), r.s('RA', { seq: 0 })]);
    expect(keys(refused, 'client')).toEqual(['sender SYN CLOSED', 'receiver RST SYN_SENT']);
    expect(refused.at(-1)!.explanation!.text).toMatch(/^Connection refused/);
  });

  it('a simultaneous open and a simultaneous close', () => {
    const c = conv();
    const open = explained([c.c('S'), c.s('S'), c.c('SA', { seq: 1000 }), c.s('SA', { seq: 5000 })]);
    expect(keys(open, 'server')).toContain('simultaneous-open');
    const d = conv();
    const close = explained([...handshake(d), d.c('FA'), d.s('FA', { ack: 1001 }), d.c('A', { seq: 1002 }), d.s('A', { seq: 5002 })]);
    expect(keys(close, 'client').slice(-2)).toEqual(['receiver FIN FIN_WAIT_1', 'receiver ACK_FIN CLOSING']);
    expect(keys(close, 'server').slice(-2)).toEqual(['receiver FIN FIN_WAIT_1', 'receiver ACK_FIN CLOSING']);
  });

  it('the state diagram shows the same texts in general words', () => {
    const e = learn.edgeExplanations(doc, 'FIN_WAIT_2', 'TIME_WAIT');
    expect(e.map((x) => x.key)).toEqual(['receiver FIN FIN_WAIT_2']);
    expect(e[0].text).toContain('TIME_WAIT for 2×MSL');
    expect(e[0].text).not.toContain('{');
  });
});
