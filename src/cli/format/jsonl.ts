import type { ConnectionView } from '../../track/connection';
import type { ConnectionSource } from '../../track/record';
import { textScratch, type JsonBytes } from '../../events/json-bytes';
import { connectionJson, writeConnection } from '../../server/json';

// One connection as a JSON line: the Connection object as the REST API writes it (one writer,
// src/server/json.ts), the same text JSON.stringify makes of its view, and a newline.

/** A connection's line, from any source of its fields (analyze's: the tracker's store). */
export function writeJsonLine(w: JsonBytes, c: ConnectionSource): void {
  writeConnection(w, c);
  w.byte(0x0a);
}

/** A view's line, as text. */
export function jsonLine(c: ConnectionView): string {
  return connectionJson(c) + '\n';
}

/** A line from any source of its fields, as text (for what the record thread cannot take packed). */
export function jsonText(c: ConnectionSource): string {
  return textScratch.textOf(writeJsonLine, c);
}
