import type { FuzzDeps } from './fuzz/engine.mjs';

export function goldenFiles(): string[];
type FileTracker = InstanceType<FuzzDeps['Tracker']>;
export function trackFile<R, E = undefined>(
  deps: FuzzDeps,
  full: string,
  how: {
    options: ConstructorParameters<FuzzDeps['Tracker']>[0];
    setup?: (tracker: FileTracker) => void;
    setupAfter?: number;
    record: (tracker: FileTracker, c: Parameters<Parameters<FileTracker['onRemove']>[0]>[0]) => R;
    atEnd?: (tracker: FileTracker) => E;
  },
): Promise<{ error: string | null; connections: R[]; stats: Record<string, unknown>; end: E }>;
export function fileGolden(
  deps: FuzzDeps,
  full: string,
): Promise<{ error: string | null; connections: string[]; stats: Record<string, unknown> }>;
export function fuzzGolden(
  deps: FuzzDeps,
  opts?: { seed?: number; packets?: number; flows?: number },
): Promise<{ seed: number; packets: number; flows: number; connections: number; digest: string }>;
