#!/usr/bin/env node
// Takes docs/learn.png: the learn view of a real client-first close that `tcpscope demo` made and
// captured, with the state diagram's tip for the client's last step. Needs root (live capture), a
// build (`npm run build`) and Chromium (`TCPSCOPE_CHROMIUM`, default /usr/bin/chromium).
//
//   npm run build && node scripts/learn-screenshot.mjs [out.png]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'learn.png'));
const CHROMIUM = process.env.TCPSCOPE_CHROMIUM ?? '/usr/bin/chromium';

function fail(msg) {
  console.error(`learn-screenshot: ${msg}`);
  process.exit(1);
}

const demo = spawn(process.execPath, [path.join(ROOT, 'bin', 'tcpscope.js'), 'demo', '--listen', '127.0.0.1:0', '--every', '2'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
demo.stdout.on('data', (d) => (out += d));
demo.stderr.on('data', (d) => (out += d));
const exited = new Promise((r) => demo.once('exit', r));

let browser;
try {
  // The first round has made every case once its IPv6 line (or the simultaneous close) is out.
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the demo did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /^tcpscope demo: open (\S+)/m.exec(out);
      if (m && /^round 1 · (IPv6|simultaneous close) /m.test(out)) {
        clearTimeout(t);
        demo.stdout.off('data', check);
        resolve(m[1]);
      }
    };
    demo.stdout.on('data', check);
    demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${out}`)));
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1600, height: 3000 }, colorScheme: 'light', reducedMotion: 'reduce' });
  await page.goto(url);
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 15_000 });
  await page.locator('.demo-case[data-case="client-close"]').click();
  await page.locator('#ladder-learn').check();
  await page.locator('#ladder .learn-note p[data-key="receiver FIN FIN_WAIT_2"]').waitFor({ timeout: 15_000 });
  const hit = page.locator('.state-svg .trail-hit-client[data-to="TIME_WAIT"]');
  await hit.waitFor({ state: 'attached', timeout: 10_000 });
  // Hover the trail's first leg (the FIN_WAIT_2 box's bottom edge), where the line is straight.
  const box = await page.locator('.state-svg .node[data-node="FIN_WAIT_2"]').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height + 18);
  await page.locator('#sd-tip[data-for="trail"]').waitFor({ timeout: 5_000 });
  const ladder = await page.locator('.panel.ladder').boundingBox();
  const states = await page.locator('.panel.states').boundingBox();
  const top = Math.min(ladder.y, states.y);
  const bottom = Math.max(ladder.y + ladder.height, states.y + states.height);
  await page.screenshot({ path: OUT, clip: { x: 0, y: top - 12, width: 1600, height: bottom - top + 24 } });
  console.log(`learn-screenshot: wrote ${path.relative(process.cwd(), OUT)} from ${url}`);
} catch (err) {
  fail(err.message);
} finally {
  await browser?.close();
  demo.kill('SIGINT');
  await exited;
}
