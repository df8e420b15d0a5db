import { createServer, type Server } from 'node:http';
import { urlOf } from './address';
import type { TcpscopeApp } from './app';

export interface RunningServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Why the server could not listen, as a stable code (the system's errno is in the message). */
export const LISTEN_ERROR_CODES = ['address-in-use', 'permission-denied', 'address-not-available', 'listen-failed'] as const;
export type ListenErrorCode = (typeof LISTEN_ERROR_CODES)[number];

const BY_ERRNO: Readonly<Record<string, ListenErrorCode>> = {
  EADDRINUSE: 'address-in-use',
  EACCES: 'permission-denied',
  EADDRNOTAVAIL: 'address-not-available',
};

export type ListenResult = { ok: true; running: RunningServer } | { ok: false; code: ListenErrorCode; message: string };

/**
 * Serves the app and its WebSocket stream (/ws) on one HTTP server. Address problems come back as
 * values with a ListenErrorCode for the CLI to explain.
 */
export function listen(app: TcpscopeApp, host: string, port: number): Promise<ListenResult> {
  const services = app.locals.services;
  const server = createServer(app);
  // Slow or idle HTTP clients must not pile up sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (req, socket, head) => services.ws.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, code: BY_ERRNO[err.code ?? ''] ?? 'listen-failed', message: err.message });
    };
    server.once('error', onError);
    try {
      // what Node refuses before asking the system (a port out of range) throws here
      server.listen({ host, port, exclusive: true }, onListening);
    } catch (err) {
      server.off('error', onError);
      resolve({ ok: false, code: 'listen-failed', message: (err as Error).message });
    }
    function onListening() {
      server.off('error', onError);
      const a = server.address();
      const actualPort = a && typeof a === 'object' ? a.port : port;
      resolve({
        ok: true,
        running: {
          server,
          host,
          port: actualPort,
          url: urlOf(host, actualPort),
          close: () =>
            new Promise<void>((done) => {
              services.ws.close();
              server.close(() => done());
              server.closeAllConnections();
            }),
        },
      });
    }
  });
}
