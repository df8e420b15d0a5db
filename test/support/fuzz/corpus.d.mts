import type { Corpus } from './engine.mjs';
export const PUBLIC_TRACES: string;
export function loadCorpus(
  readCaptureFile: (input: string, onFrame: (f: any) => void) => Promise<unknown>,
  opts?: { dirs?: string[]; extra?: string[]; maxBytes?: number; framesPerFile?: number },
): Promise<Corpus>;
