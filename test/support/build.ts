// Vitest global setup: bring dist/ up to date once, before any test file runs. The tests that run
// the built CLI call buildOnce() too, which is then a quick check; a compile inside one of them
// (43 s of tsc on a loaded 2-core host, measured) spent that test's own time limit, and the time of
// every file waiting on the build lock.
import { buildOnce } from '../cli/support';

export default async function setup(): Promise<void> {
  await buildOnce();
}
