// Runs after `npm ci` / `npm install`: applies the patches in patches/ (patch-package) and rebuilds
// the libpcap binding when the installed one predates the patch. cap builds its binding in its own
// install script, before this one runs, so a freshly patched source must be compiled again; when
// the binding has the patched API and is newer than its source, nothing is rebuilt.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

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

/** The binding was built before its source last changed (patch-package wrote it), or not at all. */
function bindingStale() {
  try {
    const dir = path.dirname(require.resolve('cap/package.json'));
    return statSync(path.join(dir, 'src/binding.cc')).mtimeMs > statSync(path.join(dir, 'build/Release/cap.node')).mtimeMs;
  } catch {
    return true;
  }
}

if (bindingStale() || !bindingPatched()) {
  process.stderr.write('postinstall: building the patched libpcap binding (cap)\n');
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
  try {
    // the compiler's output (warnings about node's own headers) only when the build fails
    execFileSync(cmd, [...args, 'rebuild', 'cap', '--foreground-scripts', '--loglevel=error'], { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    process.stderr.write('postinstall: building the libpcap binding (cap) failed; libpcap-dev is needed (scripts/setup.sh installs it)\n');
    process.exit(1);
  }
  if (!bindingPatched()) {
    process.stderr.write('postinstall: the libpcap binding (cap) lacks the patched API after rebuild\n');
    process.exit(1);
  }
}
