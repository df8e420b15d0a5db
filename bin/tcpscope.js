#!/usr/bin/env node
'use strict';
// Runs the compiled CLI; `npm install` (prepare) builds dist/.
try {
  require('../dist/cli.js').main(process.argv.slice(2));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    process.stderr.write('tcpscope: not built yet — run `npm install` (or `npm run build`) in the checkout first\n');
    process.exit(1);
  }
  throw err;
}
