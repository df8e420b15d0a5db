import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package version, read once from package.json at the top of the checkout (two levels up from src/cli and dist/cli). */
export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
})();
