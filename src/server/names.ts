import { TCP_STATES } from '../track/states';

/** Where the dashboard imports the names from (web/js/main.js, web/js/state-diagram.js). */
export const NAMES_MODULE_PATH = '/js/names.js';

/**
 * The name lists the dashboard shows, as an ES module written from the tracker's own declarations:
 * the browser imports them like any other module of web/js, statically, so no panel waits for a
 * request at start and no copy of a list lives in web/.
 */
export const NAMES_MODULE = [
  '// Written by the server from src/track/states.ts: the names the tracker itself uses.',
  `export const TCP_STATES = Object.freeze(${JSON.stringify(TCP_STATES)});`,
  '',
].join('\n');
