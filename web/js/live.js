// The /ws stream (protocol 3): hello, snapshot, then batches of events; reconnects with exponential backoff.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * handlers: onHello(msg), onSnapshot(msg, {firstOnSocket, reconnected, restarted}), onEvent(event, seq), onLagged(dropped),
 * onGap(expected, got), onStatus({state: 'connecting'|'live'|'reconnecting', attempt, retryAt}).
 */
export function connectLive(url, handlers) {
  let ws = null;
  let attempt = 0;
  let timer = null;
  let everLive = false;
  let lastSeq = null;
  let stopped = false;
  let socketHadSnapshot = false;
  let highestSeq = 0;

  function open() {
    timer = null;
    handlers.onStatus({ state: everLive || attempt > 0 ? 'reconnecting' : 'connecting', attempt, retryAt: null });
    socketHadSnapshot = false;
    lastSeq = null;
    try {
      ws = new WebSocket(url);
    } catch {
      return retry();
    }
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      switch (msg.type) {
        case 'hello':
          handlers.onHello(msg);
          break;
        case 'snapshot': {
          const firstOnSocket = !socketHadSnapshot;
          const reconnected = firstOnSocket && everLive;
          // Sequence numbers only grow within one server process: going back means a new one.
          const restarted = reconnected && msg.seq < highestSeq;
          highestSeq = msg.seq;
          socketHadSnapshot = true;
          everLive = true;
          attempt = 0;
          lastSeq = msg.seq;
          if (firstOnSocket) handlers.onStatus({ state: 'live', attempt: 0, retryAt: null });
          handlers.onSnapshot(msg, { firstOnSocket, reconnected, restarted });
          break;
        }
        case 'events': {
          // A batch: msg.seq is the number of its first event, event i is number seq + i (a
          // filtered stream lists them in msg.seqs). Events a snapshot already covers are skipped;
          // a hole in the numbering means lost events.
          const n = msg.events.length;
          if (n === 0) break;
          const seqOf = (i) => (msg.seqs ? msg.seqs[i] : msg.seq + i);
          const last = seqOf(n - 1);
          if (lastSeq !== null && last <= lastSeq) break;
          if (lastSeq !== null && !msg.seqs && msg.seq > lastSeq + 1) handlers.onGap(lastSeq + 1, msg.seq);
          const prev = lastSeq ?? 0;
          lastSeq = last;
          highestSeq = last;
          for (let i = 0; i < n; i++) {
            const seq = seqOf(i);
            if (seq > prev) handlers.onEvent(msg.events[i], seq);
          }
          break;
        }
        case 'lagged':
          handlers.onLagged(msg.dropped);
          break;
        default:
          break;
      }
    };
    ws.onclose = () => {
      ws = null;
      if (!stopped) retry();
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  function retry() {
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    attempt++;
    handlers.onStatus({ state: 'reconnecting', attempt, retryAt: Date.now() + delay });
    timer = setTimeout(open, delay);
  }

  open();
  return {
    send(obj) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
    },
    /** Skips the wait, for a "retry now" button. */
    retryNow() {
      if (timer) { clearTimeout(timer); open(); }
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (ws) ws.close();
    },
  };
}
