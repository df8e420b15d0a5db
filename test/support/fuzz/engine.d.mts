// Types for engine.mjs and corpus.mjs as the TypeScript tests use them.
export interface Rng {
  u32(): number;
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(arr: readonly T[]): T;
}
export function rng(seed: number): Rng;
export function caseRng(seed: number, i: number): Rng;
export class Violation extends Error {}
export interface CorpusFrame {
  linkType: number;
  data: Buffer;
  origLen: number;
}
export interface Corpus {
  files: { name: string; bytes: Buffer }[];
  frames: CorpusFrame[];
}
export interface FuzzDeps {
  readCaptureFile: (input: NodeJS.ReadableStream, onFrame: (f: any) => void) => Promise<{ error: { code: string; message: string } | null; frames: number }>;
  decodeFrame: (linkType: number, data: Buffer, origLen: number, out: any) => string;
  Segment: new () => any;
  Tracker: new (opts?: any) => any;
  decodeStatuses: readonly string[];
  fileErrorCodes: readonly string[];
}
export interface Tally {
  files: number;
  frames: number;
  packets: number;
  trackerSegments: number;
  flows?: number;
  decodeByStatus: Record<string, number>;
  fileErrors: Record<string, number>;
}
export interface Fuzzer {
  fileCase(i: number): Promise<unknown>;
  packetCase(i: number): void;
  flowCase(i: number): void;
  fileInput(i: number): { bytes: Buffer; ops: string[]; gzip: string; name: string };
  packetInput(i: number): { linkType: number; data: Buffer; origLen: number; ops: string[] };
  tally: Tally;
  checkNow(): void;
}
export function createFuzzer(deps: FuzzDeps, corpus: Corpus, opts: { seed: number; maxConnections?: number; fileBytes?: number }): Fuzzer;
export function lengthFields(buf: Buffer): { off: number; le: boolean; size?: number }[];
export function mutateFile(seedBytes: Buffer, r: Rng): { bytes: Buffer; ops: string[]; gzip: string };
export function mutateFrame(frame: CorpusFrame, r: Rng): CorpusFrame & { ops: string[] };
export function checkTracker(tracker: any, maxConnections: number): void;
export function builtDeps(dist: string): FuzzDeps;
export function framePcap(frame: CorpusFrame): Buffer;
