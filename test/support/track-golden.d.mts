import type { FuzzDeps } from './fuzz/engine.mjs';

export function goldenFiles(): string[];
export function fileGolden(
  deps: FuzzDeps,
  full: string,
): Promise<{ error: string | null; connections: string[]; stats: Record<string, unknown> }>;
export function fuzzGolden(
  deps: FuzzDeps,
  opts?: { seed?: number; packets?: number; flows?: number },
): Promise<{ seed: number; packets: number; flows: number; connections: number; digest: string }>;
