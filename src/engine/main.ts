// Engine process entry: an Electron utilityProcess (process.parentPort) or a Node
// child_process.fork (process.send). Never imports electron.
import type { EngineToHost } from '../shared/engine-protocol';
import { startEngine } from './engine';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

let send: (m: EngineToHost) => void;
if (parentPort) {
  send = (m) => parentPort.postMessage(m);
} else if (typeof process.send === 'function') {
  send = (m) => {
    if (process.connected) process.send!(m);
  };
} else {
  // run by hand: print messages as JSON lines
  send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
}

const engine = startEngine(send, {
  onShutdown: () => setTimeout(() => process.exit(0), 50),
});

const onMessage = (data: unknown) => {
  engine.handle(data).catch((e) => send({ type: 'log', level: 'error', message: `engine: ${String(e?.stack ?? e)}` }));
};

if (parentPort) parentPort.on('message', (e) => onMessage(e?.data));
else {
  process.on('message', onMessage);
  process.on('disconnect', () => process.exit(0));
}

process.on('unhandledRejection', (reason) => {
  send({ type: 'log', level: 'error', message: `unhandled rejection: ${String((reason as Error)?.stack ?? reason)}` });
});
process.on('uncaughtException', (err) => {
  send({ type: 'log', level: 'error', message: `uncaught exception: ${String(err?.stack ?? err)}` });
});
