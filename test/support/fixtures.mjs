// The public captures with expected results that tcpscope is checked against (test/fixtures/zeek:
// Zeek's test traces, with tshark's and Zeek's own results beside them; see its README.md and
// LICENSE). Every test, bench and script reads them through this module, so their place is named
// once. Plain JavaScript so that node scripts (the fuzzer, the fixture generators) can import it too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the public captures: manifest.tsv, baselines.tsv, README.md, traces/. */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/zeek');

/** The captures themselves (and their per-capture expected results). */
export const TRACES = path.join(FIXTURES, 'traces');

/** A path under FIXTURES, e.g. fixture('traces/tcp/syn.pcap') or fixture('manifest.tsv'). */
export function fixture(rel) {
  return path.join(FIXTURES, rel);
}

/** A capture under TRACES, e.g. trace('http-vlan-0.pcap'). */
export function trace(rel) {
  return path.join(TRACES, rel);
}

/** manifest.tsv, one row per capture. */
export function manifest() {
  const lines = readFileSync(fixture('manifest.tsv'), 'utf8').trimEnd().split('\n');
  const head = lines[0].split('\t');
  const col = (name) => head.indexOf(name);
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return {
      file: c[col('file')],
      format: c[col('format')],
      encap: c[col('encap')],
      category: c[col('category')],
      packets: Number(c[col('packets')]),
      tcpPackets: Number(c[col('tcp_packets')]),
      tcpStreams: Number(c[col('tcp_streams')]),
      desc: c[col('desc')],
    };
  });
}

/** Minimal RFC 4180 CSV parser (quoted fields, doubled quotes); enough for tshark's output. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows;
  return body.filter((r) => r.length > 1).map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

/** tshark's 12-character tcp.flags.str (e.g. '·······A··S·') as TCP flag bits. */
export function tsharkFlagBits(s) {
  // positions 0-2 reserved, 3 AE (old NS), 4 CWR, 5 ECE, 6 URG, 7 ACK, 8 PSH, 9 RST, 10 SYN, 11 FIN
  const bits = [0, 0, 0, 0x100, 0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01];
  let v = 0;
  const chars = [...s];
  for (let i = 0; i < chars.length && i < 12; i++) if (chars[i] !== '·' && chars[i] !== '.') v |= bits[i];
  return v;
}
