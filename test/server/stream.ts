// A recording WebSocket client for the /ws stream.
import WebSocket from 'ws';

export interface Stream {
  ws: WebSocket;
  /** Every WebSocket message as it came. */
  frames: any[];
  /**
   * The messages with each `events` batch read out into its events, one `{type:'event', seq,
   * event}` each, with the sequence number the batch gives it (`seqs`, or seq + i).
   */
  messages: any[];
  /** Resolves with the first message (from index `from`) that satisfies `pred`. */
  next(pred: (m: any) => boolean, what: string, timeoutMs?: number, from?: number): Promise<any>;
  events(): any[];
  close(): void;
}

export function wsUrl(httpUrl: string, path = 'ws'): string {
  return httpUrl.replace(/^http/, 'ws') + path;
}

export function openStream(url: string, opts: WebSocket.ClientOptions = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    const frames: any[] = [];
    const messages: any[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      frames.push(m);
      if (m.type === 'events') {
        m.events.forEach((event: any, i: number) => messages.push({ type: 'event', seq: m.seqs ? m.seqs[i] : m.seq + i, event }));
      } else messages.push(m);
      for (const w of waiters.splice(0)) w();
    });
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject); // a no-op once open; keeps late errors from going unhandled
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        messages,
        events: () => messages.filter((m) => m.type === 'event'),
        close: () => ws.close(),
        next(pred, what, timeoutMs = 10_000, from = 0) {
          return new Promise((res, rej) => {
            const deadline = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), timeoutMs);
            let i = from;
            const look = () => {
              for (; i < messages.length; i++) {
                if (pred(messages[i])) {
                  clearTimeout(deadline);
                  return res(messages[i]);
                }
              }
              waiters.push(look);
            };
            look();
          });
        },
      }),
    );
  });
}

/** The HTTP status a refused upgrade answers with. */
export function upgradeStatus(url: string, opts: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (e) => reject(e));
  });
}
