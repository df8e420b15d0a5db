// Number and text formatting shared by every panel.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Decimal units, as network tools count bytes. */
export function bytes(n) {
  if (n == null) return '—';
  if (n < 1000) return `${n} B`;
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Milliseconds with the precision a person reads: 0.042 ms, 3.1 ms, 250 ms, 1.2 s. */
export function ms(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  if (v < 1) return `${v.toFixed(3)} ms`;
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(0)} ms`;
  return duration(v);
}

export function duration(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  if (v < 0) v = 0;
  if (v < 1000) return `${Math.round(v)} ms`;
  const s = v / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function int(n) {
  return n == null ? '—' : Math.round(n).toLocaleString('en-US');
}

export function rate(perSecond) {
  if (!Number.isFinite(perSecond)) return '—';
  if (perSecond === 0) return '0/s';
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  return `${Math.round(perSecond)}/s`;
}

/** IPv6 addresses get brackets so the port stays readable. */
export function endpoint(ep) {
  return ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

const FLAG_NAMES = { S: 'SYN', F: 'FIN', R: 'RST', P: 'PSH', A: 'ACK', U: 'URG', E: 'ECE', C: 'CWR', N: 'NS' };
const FLAG_ORDER = 'SFRPAUECN';

/** 'SA' → 'SYN+ACK', 'FPA' → 'FIN+PSH+ACK': the names textbooks use, in a fixed order. */
export function flagNames(flags) {
  const out = [];
  for (const f of FLAG_ORDER) if (flags.includes(f)) out.push(FLAG_NAMES[f]);
  return out.length ? out.join('+') : 'none';
}

export function stateLabel(s) {
  return s;
}

export function isoTime(tsMs) {
  const d = new Date(tsMs);
  const frac = Math.min(999.999, ((tsMs % 1000) + 1000) % 1000).toFixed(3).padStart(7, "0");
  return `${d.toISOString().slice(0, 19)}.${frac.replace('.', '')}Z`;
}
