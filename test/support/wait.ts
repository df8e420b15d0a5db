// Waiting in tests: one sleep and one waitFor for every suite.
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown from a waitFor check to stop waiting at once (a helper process died, say). */
export class WaitAborted extends Error {}

/**
 * Polls `check` every `everyMs` until it returns something truthy, and resolves with that. An error
 * thrown by `check` counts as "not yet" (a server still starting refuses connections) and is named
 * if time runs out, except a WaitAborted, which fails at once. Fails after `timeoutMs`, saying
 * what it waited for.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
