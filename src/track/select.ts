import { addressKey, C, type ConnStore } from './store';
import type { SourcePage } from './record';
import { TCP_STATES, type TcpState } from './states';

/** What a list query asks for; every field narrows the result, null matches anything. */
export interface Selection {
  status: 'open' | 'closed' | 'all';
  /** Either endpoint in this state. */
  state: TcpState | null;
  /** Either endpoint on this port. */
  port: number | null;
  /** Either endpoint at this address (as canonicalIp gives it). */
  host: string | null;
  /** Connections created after the one with this id number (0: from the first). */
  afterId: number;
  limit: number;
}

/** The page of slots (in creation order), how many connections match in all, and whether more follow the page. */
export interface Selected {
  slots: number[];
  total: number;
  more: boolean;
}

/**
 * A page of a list query as the store holds it (Queries.selectRecords): connection i's fields through
 * a cursor shared by the page, valid until the next at() or a change to the table.
 */
export interface RecordPage extends SourcePage {
  /** The page's last connection's id number (a cursor for the next page), or -1 on an empty page. */
  readonly lastId: number;
  /** How many connections match in all, and whether more follow the page. */
  readonly total: number;
  readonly more: boolean;
}

/**
 * Answers a list query from the store's columns in one pass over the slots, without building a
 * view of anything that is not on the page. Connection ids are creation numbers, so the page is
 * the `limit` smallest ids above `afterId` among the matches (PageHeap). The filters read typed
 * arrays only (an address through its 32-bit key first); for a million slots a scan costs a few
 * milliseconds whatever it asks. Queries whose total the tracker counts (status alone) mostly do
 * not come here (Queries.walkPage, queries.ts), nor those with a short list in the query index
 * (queryindex.ts) when a server keeps one.
 */
export function selectSlots(st: ConnStore, q: Selection): Selected {
  const end = st.slotsTouched;
  const idNum = st.idNum;
  const m = new Matcher(q);
  if (q.host !== null && m.hostFamily === 0) return { slots: [], total: 0, more: false };
  const heap = new PageHeap(q.limit, q.afterId);
  for (let s = 0; s < end; s++) {
    const id = idNum[s];
    if (id === 0) continue; // a free slot
    if (m.matches(st, s)) heap.push(id, s);
  }
  return heap.result();
}

/** Every filter of a list query, prepared once, checked on one slot at a time. */
export class Matcher {
  readonly wantStatus: number;
  readonly state: number;
  readonly port: number;
  /** 0 when the query names no host (or one that is not an address). */
  readonly hostFamily: number;
  readonly hostKey: number;
  private readonly h0: number;
  private readonly h1: number;
  private readonly h2: number;
  private readonly h3: number;

  constructor(q: Selection) {
    this.wantStatus = q.status === 'all' ? -1 : q.status === 'closed' ? C.CLOSED : 0;
    this.state = q.state === null ? -1 : TCP_STATES.indexOf(q.state);
    this.port = q.port === null ? -1 : q.port;
    const host = q.host === null ? null : addressWords(q.host);
    this.hostFamily = host === null ? 0 : host.family;
    this.h0 = host === null ? 0 : host.words[0];
    this.h1 = host === null ? 0 : host.words[1];
    this.h2 = host === null ? 0 : host.words[2];
    this.h3 = host === null ? 0 : host.words[3];
    this.hostKey = host === null ? 0 : addressKey(host.words, 0, host.family === 4 ? 1 : 4);
  }

  matches(st: ConnStore, s: number): boolean {
    if (this.wantStatus >= 0 && (st.cflags[s] & C.CLOSED) !== this.wantStatus) return false;
    const state = this.state;
    if (state >= 0 && st.st[2 * s] !== state && st.st[2 * s + 1] !== state) return false;
    const port = this.port;
    if (port >= 0 && st.cport[s] !== port && st.sport[s] !== port) return false;
    const hostFamily = this.hostFamily;
    if (hostFamily !== 0) {
      // the keys first (8 bytes a slot), the family, and for IPv6 the whole address when a key matches
      const hk = this.hostKey;
      if (st.akey[2 * s] !== hk && st.akey[2 * s + 1] !== hk) return false;
      if (st.family[s] !== hostFamily) return false;
      if (hostFamily === 4) return true; // an IPv4 address is its own key
      const addrW = st.addrW;
      const w = 8 * s;
      const client = addrW[w] === this.h0 && addrW[w + 1] === this.h1 && addrW[w + 2] === this.h2 && addrW[w + 3] === this.h3;
      if (!client) {
        const server = addrW[w + 4] === this.h0 && addrW[w + 5] === this.h1 && addrW[w + 6] === this.h2 && addrW[w + 7] === this.h3;
        if (!server) return false;
      }
    }
    return true;
  }
}

/**
 * The page of a query as matches are offered in any order: the `limit` smallest ids above the
 * cursor, in a bounded max-heap, with the count of all matches. Offered mostly in creation order,
 * nearly every later match is turned away by one comparison with the heap's top.
 */
export class PageHeap {
  private readonly heapId: Float64Array;
  private readonly heapSlot: Int32Array;
  private readonly limit: number;
  private n = 0;
  total = 0;
  private beyond = 0; // matches after the cursor

  constructor(
    limit: number,
    private readonly after: number,
  ) {
    this.limit = Math.max(1, limit);
    this.heapId = new Float64Array(this.limit);
    this.heapSlot = new Int32Array(this.limit);
  }

  push(id: number, s: number): void {
    this.total++;
    if (id <= this.after) return;
    this.beyond++;
    const heapId = this.heapId;
    const heapSlot = this.heapSlot;
    const n = this.n;
    if (n < this.limit) {
      // sift up
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heapId[p] >= id) break;
        heapId[i] = heapId[p];
        heapSlot[i] = heapSlot[p];
        i = p;
      }
      heapId[i] = id;
      heapSlot[i] = s;
    } else if (id < heapId[0]) {
      // replace the largest, sift down
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heapId[r] > heapId[l] ? r : l;
        if (heapId[c] <= id) break;
        heapId[i] = heapId[c];
        heapSlot[i] = heapSlot[c];
        i = c;
      }
      heapId[i] = id;
      heapSlot[i] = s;
    }
  }

  result(): Selected {
    const n = this.n;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.heapId[a] - this.heapId[b]);
    return { slots: order.map((i) => this.heapSlot[i]), total: this.total, more: this.beyond > n };
  }
}

/**
 * An address as the store holds it: family, and its bytes as four 32-bit words read in the
 * machine's byte order (the way `addrW` reads `addr`). IPv4 uses the first word only.
 */
export function addressWords(ip: string): { family: 4 | 6; words: Int32Array } | null {
  const bytes = new Uint8Array(16);
  let family: 4 | 6;
  if (ip.includes(':')) {
    family = 6;
    const groups = ipv6Groups(ip);
    if (groups === null) return null;
    groups.forEach((g, i) => {
      bytes[2 * i] = g >> 8;
      bytes[2 * i + 1] = g & 255;
    });
  } else {
    family = 4;
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
    bytes.set(parts);
  }
  return { family, words: new Int32Array(bytes.buffer) };
}

/** The eight 16-bit groups of an IPv6 address (with '::' and a dotted IPv4 tail allowed). */
function ipv6Groups(ip: string): number[] | null {
  let text = ip;
  const tail: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const b = dotted.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    text = text.slice(0, dotted.index);
    if (!text.endsWith('::')) text = text.replace(/:$/, '');
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const known = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN) || known > 8 || (halves.length === 1 && known !== 8)) return null;
  return [...head, ...new Array(8 - known).fill(0), ...rest, ...tail];
}
