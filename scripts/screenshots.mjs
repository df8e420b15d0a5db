#!/usr/bin/env node
// Takes the README's pictures from what a new user sees: one run of the real `tcpscope demo` (its
// loopback traffic captured live) shown in Chromium. Needs root (live capture), a build
// (`npm run build`) and Chromium (`TCPSCOPE_CHROMIUM`, default /usr/bin/chromium).
//
//   docs/dashboard.png  the whole dashboard once the demo's cases have run twice: the table with its
//                       process column, health with the diagnoses, the listeners, and the ladder of
//                       a client-first close (handshake, data, FIN/ACK both ways) beside the states
//   docs/learn.png      the learn view of a client-first close, with the state diagram's tip for the
//                       client's last step
//
//   npm run build && node scripts/screenshots.mjs [dashboard] [learn] [--out DIR]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.TCPSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const WIDTH = 1600;

const SHOTS = { dashboard: dashboardShot, learn: learnShot };

function fail(msg) {
  console.error(`screenshots: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  let outDir = path.join(ROOT, 'docs');
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      if (argv[i + 1] === undefined) fail('--out needs a directory');
      outDir = path.resolve(argv[++i]);
    } else if (argv[i] in SHOTS) names.push(argv[i]);
    else fail(`unknown argument ${JSON.stringify(argv[i])} (shots: ${Object.keys(SHOTS).join(', ')}; --out DIR)`);
  }
  return { outDir, names: names.length ? [...new Set(names)] : Object.keys(SHOTS) };
}

/** The demo, started from the checkout so the process it shows is `node bin/tcpscope.js demo …`. */
function startDemo() {
  const child = spawn(process.execPath, ['bin/tcpscope.js', 'demo', '--listen', '127.0.0.1:0', '--every', '2'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const demo = { child, out: '', exited: new Promise((r) => child.once('exit', r)) };
  child.stdout.on('data', (d) => (demo.out += d));
  child.stderr.on('data', (d) => (demo.out += d));
  return demo;
}

/** Resolves with the match once the demo's output has `re`. */
function demoSays(demo, re, timeoutMs) {
  return new Promise((resolve, reject) => {
    const done = (err, m) => {
      clearTimeout(t);
      demo.child.stdout.off('data', check);
      demo.child.off('exit', exit);
      err ? reject(err) : resolve(m);
    };
    const check = () => {
      const m = re.exec(demo.out);
      if (m) done(null, m);
    };
    const exit = (code) => done(new Error(`the demo exited with ${code}:\n${demo.out}`));
    const t = setTimeout(() => done(new Error(`the demo did not say ${re} within ${timeoutMs / 1000} s:\n${demo.out}`)), timeoutMs);
    demo.child.stdout.on('data', check);
    demo.child.once('exit', exit);
    check();
  });
}

/** A fresh page (its own storage, so one shot's choices do not leak into another's). */
async function newPage(browser, url, height) {
  const context = await browser.newContext({ viewport: { width: WIDTH, height }, colorScheme: 'light', reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 15_000 });
  return page;
}

/**
 * The dashboard as a new user sees it with a connection open: the second round's client-first close,
 * whose ladder has the whole life of a connection (handshake, request and answer, both FINs).
 */
async function dashboardShot(browser, ctx, out) {
  const m = /^round 2 · client closes first .*?(\S+#conn=\S+)$/m.exec(ctx.demo.out);
  if (!m) throw new Error(`no client-first close in round 2:\n${ctx.demo.out}`);
  const page = await newPage(browser, m[1], 1000);
  await page.locator('#ladder svg').first().waitFor({ timeout: 15_000 });
  await page.locator('#listeners table').waitFor({ timeout: 15_000 });
  await page.locator('#diagnoses:not([hidden])').waitFor({ timeout: 15_000 });
  // The selected row names its process (the server's, through its listener: the client's socket is
  // gone) once the socket tables have been read after it closed; then let the panels settle.
  const row = page.locator('#conn-body [aria-selected="true"]');
  await row.filter({ hasText: 'node (' }).waitFor({ timeout: 15_000 });
  await page.mouse.move(0, 0);
  await page.waitForTimeout(500);
  if (!(await row.innerText()).includes('node (')) throw new Error('the selected row lost its process');
  await page.screenshot({ path: out, fullPage: true });
}

/** The learn view of the newest client-first close, hovering the client's path into TIME_WAIT. */
async function learnShot(browser, ctx, out) {
  const page = await newPage(browser, ctx.url, 3000);
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
  await page.screenshot({ path: out, clip: { x: 0, y: top - 12, width: WIDTH, height: bottom - top + 24 } });
}

const { outDir, names } = parseArgs(process.argv.slice(2));
const demo = startDemo();
let browser;
try {
  const [, url] = await demoSays(demo, /^tcpscope demo: open (\S+)/m, 30_000);
  // A round has made every case once its IPv6 line (or, without IPv6, the simultaneous close) is
  // out; two rounds fill the table and give the rates something to show.
  await demoSays(demo, /^round 2 · (IPv6|simultaneous close) /m, 30_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  for (const name of names) {
    const out = path.join(outDir, `${name}.png`);
    await SHOTS[name](browser, { demo, url }, out);
    console.log(`screenshots: wrote ${path.relative(process.cwd(), out)} from ${url}`);
  }
} catch (err) {
  process.exitCode = 1;
  console.error(`screenshots: ${err.message}`);
} finally {
  await browser?.close();
  demo.child.kill('SIGINT');
  await demo.exited;
}
