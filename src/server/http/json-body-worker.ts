/**
 * A body-parsing worker: decodes large V2 infer bodies off the server's main thread, so that a
 * request of tens of megabytes of JSON never stalls health checks or other requests. Typed arrays go
 * back to the main thread transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { toTendError } from '../../core/errors.js';
import { decodeInferBody } from './infer-body.js';
import type { BodyJob, BodyResult } from './json-body-protocol.js';

const port = parentPort;
if (port === null) throw new Error('json-body-worker runs as a worker thread');

port.on('message', (job: BodyJob) => {
  try {
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    const decoded = decodeInferBody(body, job.headerLength);
    const transfer = new Set<ArrayBuffer>();
    for (const t of decoded.request.inputs) {
      if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
    }
    const result: BodyResult = { id: job.id, ok: true, decoded };
    port.postMessage(result, [...transfer]);
  } catch (err) {
    const e = toTendError(err);
    const result: BodyResult = { id: job.id, ok: false, code: e.code, message: e.message };
    port.postMessage(result);
  }
});
