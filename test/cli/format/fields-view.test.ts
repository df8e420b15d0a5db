// The table's summary and the file diagnoses read through one FieldsView over the store's fields
// say what they say reading the tracker's views: on public traces whose connections were refused,
// and with a table so small that most connections are evicted.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../../src/capture/file';
import { FieldsView } from '../../../src/cli/format/fields-view';
import { TableSummary } from '../../../src/cli/format/table';
import { Engine } from '../../../src/ingest/engine';
import { FileDiagnoser, type DiagnosedConnection } from '../../../src/sockets/diagnose-file';
import { ConnFields } from '../../../src/track/record';

const TRACES = ['nmap-vsn.pcap', 'pop3/pop3.pcap', 'web.pcap'].map((t) => path.resolve(__dirname, '../../fixtures/zeek/traces', t));
const THRESHOLDS = { synFlood: 1, closeWaitMs: 1, timeWaitShare: 0.0001 };

async function summarise(file: string, maxConnections: number, fromFields: boolean) {
  const e = new Engine({ maxConnections });
  const summary = new TableSummary();
  let diagnoser: FileDiagnoser;
  if (fromFields) {
    // as analyze hands it to the diagnoser: a remove sink fed from the fields
    let sink: ((c: DiagnosedConnection) => void) | null = null;
    diagnoser = new FileDiagnoser({ onRemove: (s) => (sink = s) }, () => e.lastTs, 60_000, THRESHOLDS);
    const f = new ConnFields();
    const v = new FieldsView(f);
    e.tracker.onRemoveRecord((r) => {
      r.fill(f);
      summary.add(v);
      sink!(v);
    });
  } else {
    diagnoser = new FileDiagnoser(e.tracker, () => e.lastTs, 60_000, THRESHOLDS);
    e.tracker.onRemove((c) => summary.add(c));
  }
  const r = await readCaptureFile(file, e.onFrame);
  expect(r.error).toBeNull();
  e.tracker.removeAll();
  return { summary: summary.text(), diagnoses: diagnoser.diagnoses() };
}

describe('FieldsView for the summary and the diagnoses', () => {
  for (const file of TRACES) {
    it(`says what views say: ${path.basename(file)}`, async () => {
      for (const max of [100_000, 4]) {
        const views = await summarise(file, max, false);
        expect(views.diagnoses.length).toBeGreaterThan(0);
        expect(await summarise(file, max, true)).toEqual(views);
      }
    });
  }
});
