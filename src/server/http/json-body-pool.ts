/**
 * Large request bodies, bounded: at most `slots` bodies at or above `largeBodyBytes` are read and
 * parsed at once (beyond: 503 + Retry-After, before the body is read), and large infer bodies are
 * decoded by worker threads, never on the main thread. Workers start on the first large body and stop
 * after `idleMs` without one, so a burst leaves no memory behind.
 */
import type { Worker } from 'node:worker_threads';
import { type TendError, errors } from '../../core/errors.js';
import { siblingModule, startWorkerFrom } from '../../core/worker-script.js';
import type { DecodedInferBody } from './infer-body.js';
import type { BodyJob, BodyResult } from './json-body-protocol.js';

const WORKER_URL = siblingModule(import.meta.url, 'json-body-worker');

interface Pending {
  resolve: (decoded: DecodedInferBody) => void;
  reject: (err: Error) => void;
}

interface BodyWorker {
  worker: Worker;
  busy: number;
  idleTimer: NodeJS.Timeout | null;
}

export interface LargeBodyOptions {
  /** Bodies at or above this size are large. */
  largeBodyBytes: number;
  /** Large bodies in flight at once (reading, parsing); also the number of parsing workers. */
  slots: number;
  /** Stop a worker after this long without work. */
  idleMs?: number;
}

export class LargeBodies {
  readonly largeBodyBytes: number;
  readonly slots: number;
  private inUse = 0;
  private refused = 0;
  private readonly idleMs: number;
  private readonly workers: BodyWorker[] = [];
  private readonly pending = new Map<number, Pending & { owner: BodyWorker }>();
  private nextId = 1;
  private closed = false;

  constructor(options: LargeBodyOptions) {
    this.largeBodyBytes = options.largeBodyBytes;
    this.slots = options.slots;
    this.idleMs = options.idleMs ?? 5000;
  }

  /** Large bodies refused for want of a slot since start. */
  get refusedCount(): number {
    return this.refused;
  }

  /** Take a slot for one large body; null when all are taken. The release function is idempotent. */
  tryAcquire(): (() => void) | null {
    if (this.inUse >= this.slots) {
      this.refused += 1;
      return null;
    }
    this.inUse += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= 1;
    };
  }

  /** The 503 for a large body that found no slot. */
  busyError(): TendError {
    return errors.unavailable(
      `${this.slots} large request bodies (≥ ${this.largeBodyBytes} bytes) are being read or parsed already (limits.max_large_bodies); retry in 1 s`,
      1,
    );
  }

  /** Decode a large infer body in a worker. The body's memory moves to the worker (do not use it after). */
  decode(body: Buffer, headerLength: string | undefined): Promise<DecodedInferBody> {
    if (this.closed) return Promise.reject(errors.unavailable('the server is shutting down', 1));
    const owner = this.pickWorker();
    const id = this.nextId++;
    const whole =
      body.byteOffset === 0 &&
      body.byteLength === body.buffer.byteLength &&
      body.buffer instanceof ArrayBuffer;
    const bytes = whole ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
    const job: BodyJob = { id, body: bytes, headerLength };
    return new Promise<DecodedInferBody>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, owner });
      owner.busy += 1;
      if (owner.idleTimer !== null) {
        clearTimeout(owner.idleTimer);
        owner.idleTimer = null;
      }
      owner.worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
    });
  }

  /** Stop the workers (at server close). */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private pickWorker(): BodyWorker {
    let best: BodyWorker | undefined;
    for (const w of this.workers) if (best === undefined || w.busy < best.busy) best = w;
    if (best !== undefined && (best.busy === 0 || this.workers.length >= this.slots)) return best;
    return this.startWorker();
  }

  private startWorker(): BodyWorker {
    const worker = startWorkerFrom(WORKER_URL, {}, []);
    const entry: BodyWorker = { worker, busy: 0, idleTimer: null };
    worker.unref();
    worker.on('message', (result: BodyResult) => {
      const p = this.pending.get(result.id);
      if (p === undefined) return;
      this.pending.delete(result.id);
      entry.busy -= 1;
      if (entry.busy === 0) this.scheduleStop(entry);
      if (result.ok) p.resolve(result.decoded);
      else p.reject(errors.withCode(result.code, result.message));
    });
    worker.on('error', (err) => this.fail(entry, err));
    worker.on('exit', () => this.fail(entry, new Error('a body-parsing worker stopped')));
    this.workers.push(entry);
    return entry;
  }

  private scheduleStop(entry: BodyWorker): void {
    entry.idleTimer = setTimeout(() => {
      if (entry.busy > 0) return;
      const i = this.workers.indexOf(entry);
      if (i >= 0) this.workers.splice(i, 1);
      void entry.worker.terminate();
    }, this.idleMs);
    entry.idleTimer.unref();
  }

  /** A worker died: its jobs fail with a 500 naming it, later bodies get a new worker. */
  private fail(entry: BodyWorker, err: Error): void {
    const i = this.workers.indexOf(entry);
    if (i >= 0) this.workers.splice(i, 1);
    for (const [id, p] of this.pending) {
      if (p.owner !== entry) continue;
      this.pending.delete(id);
      p.reject(errors.internal(`parsing the request body failed: ${err.message}`));
    }
  }
}
