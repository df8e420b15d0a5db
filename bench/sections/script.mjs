// A section that is a bench script of its own (REST at scale, the event stream, live load, the
// socket tables): run as users run it, with its usual arguments, its report passed through.
import { spawnSync } from 'node:child_process';

/** The section for `node bench/NAME.mjs ARGS…`, titled `title`. */
export function scriptSection(title, name, args) {
  return {
    title,
    async run(ctx) {
      const cmd = ['bench/' + name + '.mjs', ...args];
      ctx.log(`node ${cmd.join(' ')}`);
      const r = spawnSync(process.execPath, cmd, { cwd: ctx.root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
      const lines = [`\`node ${cmd.join(' ')}\``, ''];
      const out = (r.stdout ?? '').trimEnd();
      // A script that reports JSON is shown as such; Markdown passes through.
      lines.push(...(/^[[{]/.test(out) ? ['```json', out, '```'] : [out]).join('\n').split('\n'));
      if (r.status !== 0) lines.push('', `(exited with ${r.status ?? r.signal})`);
      return lines;
    },
  };
}

