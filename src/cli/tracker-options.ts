import type { TrackerOptions } from '../track/api';
import type { CommonOptions } from './options';

/** The tracker options the common options (--msl, --max-connections) set, over `extra`. */
export function trackerOptions(common: CommonOptions, extra: Partial<TrackerOptions> = {}): Partial<TrackerOptions> {
  const opts: Partial<TrackerOptions> = { ...extra };
  if (common.msl !== undefined) opts.mslMs = common.msl * 1000;
  if (common.maxConnections !== undefined) opts.maxConnections = common.maxConnections;
  return opts;
}
