// Every test or suite that cannot run on this machine is skipped through this module, with the
// reason in its metadata, so the run says why: test/support/skip-reporter.ts lists the skipped
// suites and tests and prints one line counting them by reason, and under CI fails the run when a
// skip is for something the set-up installs (a tool) or grants (root).
import { execFileSync } from 'node:child_process';
import type { TestOptions } from 'vitest';

/** What kind of requirement was not met: CI refuses the first two, the third is the machine's. */
export type SkipKind = 'not-root' | 'missing-tool' | 'unsupported';

export interface SkipNote {
  kind: SkipKind;
  /** Short and stable, so skips can be counted by it: 'not root', 'no tshark'. */
  reason: string;
}

declare module 'vitest' {
  interface TaskMeta {
    skipped?: SkipNote;
  }
}

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

const tools = new Map<string, boolean>();

/** Whether a program is on PATH (remembered per name). */
export function haveTool(name: string): boolean {
  let have = tools.get(name);
  if (have === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v "$0"`, name], { stdio: 'ignore' });
      have = true;
    } catch {
      have = false;
    }
    tools.set(name, have);
  }
  return have;
}

/** One requirement: met, or the note a skip for it carries. */
export type Requirement = { met: true } | { met: false; note: SkipNote };

/** Root (raw sockets, tracefs, other users' processes). */
export function root(): Requirement {
  return IS_ROOT ? { met: true } : { met: false, note: { kind: 'not-root', reason: 'not root' } };
}

/** A program on PATH, such as tshark; `scripts/setup.sh --test` installs every one the tests use. */
export function tool(name: string): Requirement {
  return haveTool(name) ? { met: true } : { met: false, note: { kind: 'missing-tool', reason: `no ${name}` } };
}

/** Something of this kernel or libpcap that no set-up can add (a tracepoint, a capture device). */
export function supported(ok: boolean, reason: string): Requirement {
  return ok ? { met: true } : { met: false, note: { kind: 'unsupported', reason } };
}

/** Whether every requirement is met (for work done while collecting, which a skip does not stop). */
export function met(...reqs: Requirement[]): boolean {
  return reqs.every((r) => r.met);
}

/**
 * Options for describe() or it(): run when every requirement is met, otherwise skip with the unmet
 * ones as the reason (a suite passes it on to each of its tests).
 *   describe('tcpscope live', needs(root(), tool('tcpdump')), () => { … })
 */
export function needs(...reqs: Requirement[]): TestOptions {
  const unmet = reqs.flatMap((r) => (r.met ? [] : [r.note]));
  if (unmet.length === 0) return {};
  const kind = unmet.find((n) => n.kind !== 'unsupported')?.kind ?? 'unsupported';
  return { skip: true, meta: { skipped: { kind, reason: unmet.map((n) => n.reason).join(', ') } } };
}
