import type { ProcessInfo, ScanResult } from './scan';

/** Processes chosen by pid (`--pid`) or by command name (`--command`, the short name or the program of its command line). */
export interface ProcessSelector {
  pids: readonly number[];
  commands: readonly string[];
}

export interface ProcessPorts {
  /** Local ports of the chosen processes' sockets, listening and connected. */
  ports: number[];
  listening: number[];
  processes: ProcessInfo[];
}

function chosen(p: ProcessInfo, sel: ProcessSelector): boolean {
  if (sel.pids.includes(p.pid)) return true;
  const program = (p.cmdline.split(' ')[0] ?? '').split('/').pop() ?? '';
  return sel.commands.some((c) => c === p.command || c === program);
}

/** The ports to capture for the chosen processes, from one scan that read every socket (ports: null). */
export function portsOf(scan: ScanResult, sel: ProcessSelector): ProcessPorts {
  const procs = scan.processes.filter((p) => chosen(p, sel));
  const pids = new Set(procs.map((p) => p.pid));
  const ports = new Set<number>();
  const listening = new Set<number>();
  for (const s of scan.sockets) {
    if (!s.owners.some((o) => pids.has(o.pid)) || s.localPort === 0) continue;
    ports.add(s.localPort);
    if (s.state === 'LISTEN') listening.add(s.localPort);
  }
  const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);
  return { ports: sorted(ports), listening: sorted(listening), processes: procs };
}
