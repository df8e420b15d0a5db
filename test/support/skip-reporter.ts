// Says why tests were skipped: each skipped suite or test with its reason (from test/support/skip.ts,
// or the note of a ctx.skip(note) call), then one line counting the skips by reason, printed before
// the runner's own closing summary. Under CI (CI=true) a skip because a tool is missing or the run
// is not root fails the run: the set-up installs the tools and CI runs as root.
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';
import type { SkipKind } from './skip';

const NO_REASON = 'no reason given';
const REFUSED_IN_CI: ReadonlySet<SkipKind> = new Set(['not-root', 'missing-tool']);

interface Skip {
  where: string;
  reason: string;
  kind: SkipKind | null;
}

export default class SkipReporter implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let skips: Skip[] = [];
    for (const m of modules) for (const t of m.children.allTests()) if (t.result().state === 'skipped') skips.push(skipOf(t));
    // Under -t, tests left out by the name filter are skipped too, without a reason: not worth a line.
    if (this.vitest.config.testNamePattern) {
      const kept = skips.filter((s) => s.kind !== null || s.reason !== NO_REASON);
      const left = skips.length - kept.length;
      skips = kept;
      if (left > 0) skips.push(...Array.from({ length: left }, () => ({ where: '', reason: 'left out by -t', kind: null })));
    }
    const log = (s: string) => this.vitest.logger.log(s);
    if (skips.length === 0) {
      log('\nskipped: 0');
      return;
    }
    // One line per skipped suite (its tests share the reason) or lone test.
    const lines = new Map<string, number>();
    for (const s of skips) if (s.where) lines.set(`  ↓ ${s.where} — ${s.reason}`, (lines.get(`  ↓ ${s.where} — ${s.reason}`) ?? 0) + 1);
    log('');
    for (const [line, n] of lines) log(n > 1 ? `${line} (${n} tests)` : line);
    const byReason = new Map<string, number>();
    for (const s of skips) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
    const counts = [...byReason].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r, n]) => `${r}: ${n}`);
    log(`skipped: ${skips.length} (${counts.join(', ')})`);
    if (process.env.CI === 'true' || process.env.CI === '1') {
      const refused = skips.filter((s) => s.kind !== null && REFUSED_IN_CI.has(s.kind));
      if (refused.length > 0) {
        const reasons = [...new Set(refused.map((s) => s.reason))].join(', ');
        this.vitest.logger.error(`CI: ${refused.length} tests skipped for what the set-up provides (${reasons}): the run fails`);
        process.exitCode = 1;
      }
    }
  }
}

function skipOf(t: TestCase): Skip {
  const note = t.meta().skipped;
  const file = t.module.relativeModuleId;
  if (note) return { where: `${file} > ${outermostSkipped(t)}`, reason: note.reason, kind: note.kind };
  const r = t.result();
  const text = r.state === 'skipped' ? r.note : undefined;
  if (text) return { where: `${file} > ${t.fullName}`, reason: text, kind: null };
  return { where: `${file} > ${t.fullName}`, reason: t.options.mode === 'todo' ? 'todo' : NO_REASON, kind: null };
}

/** The name of the outermost suite that carries the same skip as the test, or the test's own. */
function outermostSkipped(t: TestCase): string {
  let name = t.fullName;
  let p: TestSuite | TestModule = t.parent;
  while (p.type === 'suite' && p.options.mode === 'skip' && p.meta().skipped) {
    name = p.fullName;
    p = p.parent;
  }
  return name;
}
