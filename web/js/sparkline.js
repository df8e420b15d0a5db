// Per-second buckets over the source's clock, and the small SVG charts drawn from them.
import { s } from './dom.js';

export class SecondBuckets {
  constructor(seconds = 60) {
    this.n = seconds;
    this.map = new Map();
    this.latest = 0;
  }

  add(tsMs, value = 1) {
    const sec = Math.floor(tsMs / 1000);
    if (sec > this.latest) this.latest = sec;
    if (sec <= this.latest - this.n) return;
    let b = this.map.get(sec);
    if (!b) { b = []; this.map.set(sec, b); }
    b.push(value);
    if (this.map.size > this.n * 2) {
      for (const k of this.map.keys()) if (k <= this.latest - this.n) this.map.delete(k);
    }
  }

  /** One value per second ending at endSec, reduced by fn(values) (null where a second is empty). */
  series(endSec, fn) {
    const out = [];
    for (let sec = endSec - this.n + 1; sec <= endSec; sec++) {
      const b = this.map.get(sec);
      out.push(b && b.length ? fn(b) : null);
    }
    return out;
  }
}

export const count = (b) => b.length;
export const median = (b) => {
  const a = [...b].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

const W = 240;
const H = 44;

/** values: numbers or null; zeroFill draws empty seconds as 0 (rates) instead of gaps (samples). */
export function sparkline(values, { zeroFill = false, label = '' } = {}) {
  const vals = zeroFill ? values.map((v) => v ?? 0) : values;
  const nums = vals.filter((v) => v != null);
  const max = Math.max(1e-9, ...nums);
  const step = W / Math.max(1, vals.length - 1);
  const yOf = (v) => H - 3 - (v / max) * (H - 8);
  const segments = [];
  let cur = [];
  vals.forEach((v, i) => {
    if (v == null) { if (cur.length) segments.push(cur); cur = []; return; }
    cur.push([i * step, yOf(v)]);
  });
  if (cur.length) segments.push(cur);
  const paths = segments.map((pts) => {
    const line = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
    const area = pts.length > 1 ? `${line} L${pts.at(-1)[0].toFixed(1)},${H} L${pts[0][0].toFixed(1)},${H} Z` : null;
    return [
      area ? s('path', { class: 'area', d: area }) : null,
      pts.length === 1 ? s('circle', { class: 'pt', cx: pts[0][0], cy: pts[0][1], r: 2 }) : s('path', { class: 'line', d: line }),
    ];
  });
  return s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    s('line', { class: 'base', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }),
    paths,
  );
}
