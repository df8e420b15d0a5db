// The traffic generator as a separate process, so its CPU is not the observer's. Talks over IPC:
//   parent → { cmd: 'short', ...shortConnections options } | { cmd: 'bulk', ... } | { cmd: 'hold', n, localAddress }
//            | { cmd: 'release' } | { cmd: 'exit' }
//   child → { ready: port } once listening, then one { done: cmd, result } per command.
import { bulkTransfers, holdConnections, shortConnections, startServer } from './traffic.mjs';

const server = await startServer();
let held = null;
process.send({ ready: server.port });
process.on('message', async (m) => {
  if (m.cmd === 'exit') {
    await server.close();
    process.exit(0);
  }
  const opts = { port: server.port, ...m };
  let result;
  if (m.cmd === 'hold') {
    held = await holdConnections(opts);
    result = { ports: held.ports };
  } else if (m.cmd === 'release') {
    await held?.release();
    result = {};
  } else result = m.cmd === 'short' ? await shortConnections(opts) : await bulkTransfers(opts);
  process.send({ done: m.cmd, id: m.id, result });
});
process.on('disconnect', () => process.exit(0));
