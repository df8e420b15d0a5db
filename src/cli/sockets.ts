import type { EventBus } from '../events/bus';
import type { SocketsSource } from '../server/routes-sockets';
import type { DiagnoseOptions } from '../sockets/diagnose';
import { openScanner } from '../sockets/scan-thread';
import { SocketWatch } from '../sockets/watch';
import type { TrackerApi } from '../track/api';

/**
 * The kernel's view of this machine's sockets joined to the live tracker: owners on endpoints,
 * listeners on the captured ports (all of them without -p, or when asked), the cross-check.
 */
export function watchSockets(
  session: { engine: { tracker: TrackerApi; lastTs: number }; bus: EventBus },
  ports: readonly number[],
  diagnose: Partial<DiagnoseOptions> = {},
  allListeners = false,
): { watch: SocketWatch; source: SocketsSource } {
  const watch = new SocketWatch(openScanner(), session.engine.tracker, {
    ports: ports.length > 0 ? ports : null,
    packetClock: () => session.engine.lastTs,
    allListeners,
    diagnose,
  }).start(session.bus);
  const captured = ports.length > 0 ? new Set(ports) : null;
  return {
    watch,
    source: {
      listeners: (all) => watch.listeners(all ? null : captured),
      stats: () => watch.stats(),
      diagnoses: () => watch.diagnoses(),
    },
  };
}
