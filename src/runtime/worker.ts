/** Entry of a model worker thread: a SessionHost talking over the thread's message port. */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { SessionHost } from './session-host.js';
import { prepareTransfer } from './transfer.js';

if (parentPort === null) throw new Error('runtime/worker must run in a worker thread');
const port = parentPort;

function post(message: FromWorker): void {
  if (message.type !== 'result') {
    port.postMessage(message);
    return;
  }
  const prepared = prepareTransfer(message.outputs);
  port.postMessage({ ...message, outputs: prepared.tensors }, prepared.transfer);
}

const host = new SessionHost(workerData as WorkerInit, post);
port.on('message', (message: ToWorker) => host.receive(message));
