// Worker thread of the Import dialog's inspection (see data-inspect.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { inspectNow, type InspectRequest } from './data-inspect';

parentPort?.postMessage(inspectNow(workerData as InspectRequest));
