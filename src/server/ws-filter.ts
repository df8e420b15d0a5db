import { isIP } from 'node:net';
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../events/types';
import type { ConnectionView } from '../track/connection';
import { N, ipText, type ConnFields } from '../track/record';
import { canonicalIp } from './query';

/** What a client may send. Anything else gets an `error` message back. */
export const clientMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('subscribe'),
      filter: z
        .object({
          ports: z.array(z.number().int().min(0).max(65535)).max(64).optional(),
          hosts: z
            .array(z.string().max(64).refine((s) => isIP(s) !== 0, { error: 'must be an IPv4 or IPv6 address' }))
            .max(64)
            .optional(),
          types: z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).optional(),
        })
        .strict(),
    })
    .strict(),
]);

export interface EndpointsOf {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
}

/** A subscription; empty lists and absent fields match everything. */
export class StreamFilter {
  readonly ports: ReadonlySet<number> | null;
  readonly hosts: ReadonlySet<string> | null;
  readonly types: ReadonlySet<string> | null;
  /** The same for every filter that lets the same events through (lists sorted, duplicates gone). */
  readonly key: string;

  constructor(f: { ports?: number[]; hosts?: string[]; types?: string[] }) {
    this.ports = f.ports?.length ? new Set(f.ports) : null;
    this.hosts = f.hosts?.length ? new Set(f.hosts.map((h) => canonicalIp(h) ?? h)) : null;
    this.types = f.types?.length ? new Set(f.types) : null;
    const sorted = (x: ReadonlySet<string | number> | null) => (x === null ? null : [...x].map(String).sort());
    this.key = JSON.stringify([sorted(this.ports), sorted(this.hosts), sorted(this.types)]);
  }

  /** Lets every event through (an empty subscribe). */
  get empty(): boolean {
    return this.ports === null && this.hosts === null && this.types === null;
  }

  get needsEndpoints(): boolean {
    return this.ports !== null || this.hosts !== null;
  }

  toJSON(): { ports?: number[]; hosts?: string[]; types?: string[] } {
    const out: { ports?: number[]; hosts?: string[]; types?: string[] } = {};
    if (this.ports) out.ports = [...this.ports];
    if (this.hosts) out.hosts = [...this.hosts];
    if (this.types) out.types = [...this.types];
    return out;
  }

  matchesEndpoints(ep: EndpointsOf | undefined): boolean {
    if (!this.needsEndpoints) return true;
    if (!ep) return false;
    if (this.ports && !this.ports.has(ep.clientPort) && !this.ports.has(ep.serverPort)) return false;
    if (this.hosts && !this.hosts.has(ep.clientIp) && !this.hosts.has(ep.serverIp)) return false;
    return true;
  }

  matchesConnection(c: ConnectionView): boolean {
    return this.matchesEndpoints(endpointsOf(c));
  }

  /** `ep` is looked up only when this filter needs it (it costs a tracker lookup). */
  matchesEvent(type: EventType, ep: () => EndpointsOf | undefined): boolean {
    if (this.types && !this.types.has(type)) return false;
    return this.needsEndpoints ? this.matchesEndpoints(ep()) : true;
  }
}

export function endpointsOf(c: ConnectionView): EndpointsOf {
  return { clientIp: c.client.ip, clientPort: c.client.port, serverIp: c.server.ip, serverPort: c.server.port };
}

/** The endpoints of a connection event's connection, from its fields (record.ts). */
export function endpointsOfFields(f: ConnFields): EndpointsOf {
  return { clientIp: ipText(f, 0), clientPort: f.num[N.port0], serverIp: ipText(f, 1), serverPort: f.num[N.port1] };
}
