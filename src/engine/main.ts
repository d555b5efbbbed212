// Engine process entry: an Electron utilityProcess (process.parentPort) or a Node
// child_process.fork (process.send). Never imports electron.
import { Worker } from 'node:worker_threads';
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
  if (typeof process.send === 'function') watchParent();
}

/**
 * A cell stuck in a loop never hears 'disconnect': a thread of its own watches the
 * parent (the host) and ends this process when the host is gone, so a killed host
 * leaves no engine behind.
 */
function watchParent(): void {
  try {
    // process.ppid is fixed at start: Linux's /proc says who the parent is now (a dead
    // parent's child is re-parented); elsewhere, whether the parent's pid is alive
    const code = `
      const { workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const parentNow = () => {
        try {
          const s = fs.readFileSync('/proc/self/stat', 'utf8');
          return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
        } catch {
          return null;
        }
      };
      setInterval(() => {
        const now = parentNow();
        let gone = false;
        if (now !== null) gone = now !== workerData.ppid;
        else {
          try { process.kill(workerData.ppid, 0); } catch (e) { gone = e.code === 'ESRCH'; }
        }
        if (gone) process.kill(workerData.pid, 'SIGKILL');
      }, 500);`;
    new Worker(code, { eval: true, workerData: { ppid: process.ppid, pid: process.pid } }).unref();
  } catch {
    /* no worker threads here: 'disconnect' still ends an engine that is not stuck */
  }
}

process.on('unhandledRejection', (reason) => {
  send({ type: 'log', level: 'error', message: `unhandled rejection: ${String((reason as Error)?.stack ?? reason)}` });
});
process.on('uncaughtException', (err) => {
  send({ type: 'log', level: 'error', message: `uncaught exception: ${String(err?.stack ?? err)}` });
});
