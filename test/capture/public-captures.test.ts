// Every public capture under test/fixtures (Zeek's test traces: pcap, nanosecond pcap, pcapng)
// reads without error and yields exactly the packet count its manifest gives. A sample with
// every link type is also checked frame by frame against tshark (times, lengths).
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { epochString, readAll, tsharkFrames } from '../support/captures';
import { fixture, manifest } from '../support/fixtures.mjs';
import { needs, tool } from '../support/skip';

const FORMAT: Record<string, string> = { pcap: 'pcap', nsecpcap: 'pcap-ns', pcapng: 'pcapng' };

describe('public captures: frame counts match the manifest', () => {
  const all = manifest();

  it('the manifest holds pcap, nanosecond pcap and pcapng captures', () => {
    const formats = new Set(all.map((r) => r.format));
    expect([...formats].sort()).toEqual(['nsecpcap', 'pcap', 'pcapng']);
  });

  it.each(all.map((r) => [r.file, r] as const))('%s', async (_name, row) => {
    let frames = 0;
    const result = await readCaptureFile(fixture(row.file), (f) => {
      frames++;
      if (f.data.length !== f.capLen || f.capLen > f.origLen) throw new Error(`frame ${frames}: odd lengths`);
    });
    expect(result.error).toBeNull();
    expect(result.format).toBe(FORMAT[row.format]);
    expect(frames).toBe(row.packets);
    expect(result.frames).toBe(row.packets);
  });

  // One capture per link type and format: times and lengths as tshark reads them.
  const sample = [...new Map(all.map((r) => [`${r.format}/${r.encap}`, r])).values()];
  it.each(sample.map((r) => [r.file, r.encap] as const))('%s (%s) agrees with tshark', needs(tool('tshark')), async (file) => {
    const p = fixture(file);
    const { frames } = await readAll(p);
    expect(frames.map((f) => `${epochString(f)}\t${f.capLen}\t${f.origLen}`)).toEqual(tsharkFrames(p));
  });
});
