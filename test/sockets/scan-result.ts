// A socket-table reading for the tests that join the tracker to sockets without reading the kernel:
// the given sockets, one process (pid 1, `server`) owning them, nothing else read.
import type { ScannedSocket, ScanResult } from '../../src/sockets/scan';

export function scanResult(sockets: ScannedSocket[], timeWaitAsked: number[] = []): ScanResult {
  return {
    at: Date.now(),
    sockets,
    processes: [{ pid: 1, command: 'server', cmdline: 'server', user: 'root', uid: 0, netns: 1, startTime: 1 }],
    netstat: [],
    ownNetns: 1,
    unreadable: 0,
    fdScan: false,
    badLines: 0,
    costMs: 0,
    timeWaitAsked,
    tcpInfo: false,
    ssRuns: 0,
    ssCpuMs: 0,
    ssViaHelper: 0,
    ssHelperRestarts: 0,
  };
}
