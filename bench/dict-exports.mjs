// Lists the built modules whose `exports` object V8 keeps in dictionary mode: every
// `mod.name` read from another module is then a keyed lookup in a hash table instead
// of a fixed-offset load. Run: node --allow-natives-syntax bench/dict-exports.mjs [dist]
// (the flag is added by re-running itself when missing). Prints one line per module,
// dictionary ones first, with the likely cause read from the emitted JavaScript.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

if (!process.execArgv.includes("--allow-natives-syntax")) {
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const root = resolve(process.argv[2] ?? "dist");
const stages = ["decode", "ingest", "track", "cli/format", "events", "server/json.js"];
const all = process.argv.includes("--all");
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".js")) files.push(p);
  }
}
walk(root);
const hot = (f) => all || stages.some((s) => relative(root, f).startsWith(s));
const require = createRequire(import.meta.url);
const hasFast = new Function("o", "return %HasFastProperties(o)");

function causes(src, obj) {
  const out = [];
  const getters = (src.match(/Object\.defineProperty\(exports, "[^"]+", \{ enumerable: true, get/g) ?? []).length;
  if (getters) out.push(`${getters} re-export getter(s)`);
  if (/__exportStar\(/.test(src)) out.push("export *");
  if (/delete exports\./.test(src)) out.push("delete");
  const n = Object.getOwnPropertyNames(obj).length;
  if (n > 128) out.push(`${n} properties`);
  return out.join(", ") || "?";
}

const rows = [];
for (const f of files.filter(hot).sort()) {
  if (/worker|main\.js$|thread-worker/.test(f)) continue;  // entry points run on load
  let mod;
  try { mod = require(f); } catch (e) { rows.push([relative(root, f), "load failed: " + e.message.split("\n")[0]]); continue; }
  const fast = hasFast(mod);
  rows.push([relative(root, f), fast ? "fast" : "DICTIONARY (" + causes(readFileSync(f, "utf8"), mod) + ")"]);
}
rows.sort((a, b) => Number(a[1] === "fast") - Number(b[1] === "fast") || a[0].localeCompare(b[0]));
for (const [f, s] of rows) console.log(`${s.startsWith("fast") ? "  " : "! "}${f.padEnd(40)} ${s}`);
const slow = rows.filter((r) => r[1] !== "fast").length;
console.log(`${slow} of ${rows.length} modules with dictionary-mode exports`);
