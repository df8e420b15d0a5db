export const SERVERS: string[];
export const PORTS: number[];
export function kindOf(i: number): 'closed' | 'open' | 'refused' | 'halfClosed' | 'synOnly';
export function writeHeldConnections(
  path: string,
  opts?: { connections?: number; gapUs?: number; startUs?: number },
): { packets: number; bytes: number };
