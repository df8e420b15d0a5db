// Runs after `npm ci` / `npm install`: applies the patches in patches/ (patch-package) and rebuilds
// the libpcap binding when the installed one predates the patch. cap builds its binding in its own
// install script, before this one runs, so a freshly patched source must be compiled again; when
// the binding already has the patched API nothing is rebuilt.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

execFileSync(process.execPath, [require.resolve('patch-package/index.js')], { stdio: 'inherit' });

function bindingPatched() {
  try {
    execFileSync(
      process.execPath,
      ['-e', "if (typeof require('cap').Cap.prototype.stats !== 'function') process.exit(1)"],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

if (!bindingPatched()) {
  process.stderr.write('postinstall: building the patched libpcap binding (cap)\n');
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
  execFileSync(cmd, [...args, 'rebuild', 'cap', '--foreground-scripts', '--loglevel=error'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!bindingPatched()) {
    process.stderr.write('postinstall: the libpcap binding (cap) lacks the patched API after rebuild\n');
    process.exit(1);
  }
}
