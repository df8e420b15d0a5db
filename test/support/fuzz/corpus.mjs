// The fuzzing corpus: real captures (the public traces in test/fixtures/zeek/traces, and any
// extra files given, such as a fresh tcpdump of loopback traffic) and the frames they hold.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TRACES } from '../fixtures.mjs';

export const PUBLIC_TRACES = TRACES;

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/\.(pcap|pcapng|cap|trace)(\.gz)?$/.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Files of at most `maxBytes`, sorted by path so a seed always means the same corpus; then up to
 * `framesPerFile` frames of each, copied out of the reader's reused buffers.
 */
export async function loadCorpus(readCaptureFile, { dirs = [PUBLIC_TRACES], extra = [], maxBytes = 256 * 1024, framesPerFile = 300 } = {}) {
  const paths = [...dirs.flatMap((d) => walk(d)), ...extra].filter((p) => statSync(p).size <= maxBytes).sort();
  const files = paths.map((p) => ({ name: path.relative(path.dirname(PUBLIC_TRACES), p), bytes: readFileSync(p) }));
  const frames = [];
  for (const p of paths) {
    let n = 0;
    await readCaptureFile(p, (f) => {
      if (n++ < framesPerFile) frames.push({ linkType: f.linkType, data: Buffer.from(f.data), origLen: f.origLen });
    });
  }
  return { files, frames };
}
