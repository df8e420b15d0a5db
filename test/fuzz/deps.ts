// The stages under fuzzing, from src/, in the shape test/support/fuzz/engine.mjs takes them.
import { FILE_ERROR_CODES } from '../../src/capture/errors';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { DECODE_STATUSES } from '../../src/decode/status';
import { Tracker } from '../../src/track/tracker';
import type { FuzzDeps } from '../support/fuzz/engine.mjs';

export const deps: FuzzDeps = {
  readCaptureFile: readCaptureFile as FuzzDeps['readCaptureFile'],
  decodeFrame,
  Segment,
  Tracker,
  decodeStatuses: DECODE_STATUSES,
  fileErrorCodes: FILE_ERROR_CODES,
};
