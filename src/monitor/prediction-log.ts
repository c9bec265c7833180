/**
 * The prediction log: every sampled inference row, written to monitor.db off the request path.
 * `record` only appends to an array; every flushIntervalMs (or at BATCH_ROWS rows) the queue is packed
 * into one message for the writer thread, which commits it in one transaction. Reads (windows,
 * exports) run here on a query-only connection and see every committed batch.
 */
import type { Worker } from 'node:worker_threads';
import type { KeyringSource } from '../core/encryption-env.js';
import { type TendError, errors } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { siblingModule, startWorkerFrom } from '../core/worker-script.js';
import {
  packRows,
  writerKeyring,
  type FromWriter,
  type ToWriter,
  type WriterInit,
} from './log-writer-protocol.js';
import { openMonitorDb } from './monitor-db.js';
import type { ExportFormat, ExportNames } from './prediction-log-export.js';
import { checkFeedback } from './prediction-log-feedback.js';
import { checkDeleteSelector, type DeleteResult, type DeleteSelector } from './prediction-log-delete.js';
import { PredictionLogReader } from './prediction-log-reader.js';
import type {
  FeedbackResult,
  LogQuery,
  PredictionRow,
  WindowQuery,
  WindowRows,
} from './prediction-log-types.js';

export type * from './prediction-log-types.js';
export { NO_CLASS } from './prediction-log-types.js';
export type { ExportFormat, ExportNames } from './prediction-log-export.js';
export type { DeleteResult, DeleteSelector } from './prediction-log-delete.js';
export { PredictionLogReader } from './prediction-log-reader.js';
export { PredictionSampler, type PredictionSamplerOptions } from './prediction-log-sampler.js';

const WRITER_URL = siblingModule(import.meta.url, 'log-writer');
/** A queue this long is sent at once rather than at the next interval. */
export const BATCH_ROWS = 8192;

export interface PredictionLogOptions {
  /** The monitor.db file (created when missing). */
  path: string;
  /** Rows older than this are deleted (default 7 days). */
  retentionMs?: number;
  /** Per model, another age than retentionMs (shorter or longer). */
  modelRetentionMs?: Readonly<Record<string, number>>;
  /** At most this many rows are kept, the oldest deleted first (default 1 000 000). */
  maxRows?: number;
  /** How often queued rows are sent to the writer (default 100). */
  flushIntervalMs?: number;
  /** Rows recorded but not yet committed beyond this are dropped and counted (default 100 000). */
  maxQueueRows?: number;
  /** How often the writer applies retention (default 60 000). */
  retentionIntervalMs?: number;
  logger?: Logger;
  /** Encryption at rest: float blocks are sealed with the active key and opened with any key of the keyring. */
  keys?: KeyringSource;
}

export interface PredictionLogStats {
  /** Recorded, not yet committed. */
  queued: number;
  written: number;
  /** Not logged: the queue was full, the row could not be packed, its batch failed, or the log was closed. */
  dropped: number;
}

type Done = Extract<FromWriter, { type: 'done' }>;

interface Outstanding {
  resolve: (reply: Done | { type: 'failed'; message: string }) => void;
  reject: (err: TendError) => void;
}

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || (integer && !Number.isSafeInteger(value))) {
    throw errors.invalidConfig(
      `prediction log ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`,
    );
  }
  return value;
}

/** The prediction log of one tend process. */
export class PredictionLog {
  private pending: PredictionRow[] = [];
  private inFlightRows = 0;
  private written = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private nextSeq = 1;
  private lastAnswer: Promise<unknown> = Promise.resolve();
  private readonly outstanding = new Map<number, Outstanding>();
  private writerGone: TendError | null = null;
  private closing: Promise<void> | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly reader: PredictionLogReader,
    private readonly flushIntervalMs: number,
    private readonly maxQueueRows: number,
    private readonly logger: Logger,
  ) {
    worker.unref();
    let lastError: Error | undefined;
    worker.on('message', (message: FromWriter) => this.onMessage(message));
    worker.on('error', (err) => {
      lastError = err;
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (this.closing === null || this.outstanding.size > 0) {
          const why = lastError === undefined ? '' : `: ${lastError.message}`;
          this.stopWriting(errors.internal(`the prediction log writer stopped (exit code ${code})${why}`));
        }
        resolve();
      });
    });
  }

  /**
   * Open (creating and migrating) the log file and start its writer thread.
   * @throws TendError TEND_INVALID_CONFIG for bad limits, TEND_INVALID_ARGUMENT when the file is not usable.
   */
  static open(options: PredictionLogOptions): PredictionLog {
    if (typeof options.path !== 'string' || options.path === '' || options.path === ':memory:') {
      throw errors.invalidArgument(
        'the prediction log needs a file path (its writer thread opens the file separately)',
      );
    }
    const init: WriterInit = {
      path: options.path,
      retentionMs: positive('retentionMs', options.retentionMs, 7 * 24 * 3600 * 1000),
      maxRows: positive('maxRows', options.maxRows, 1_000_000, true),
      retentionIntervalMs: positive('retentionIntervalMs', options.retentionIntervalMs, 60_000),
    };
    if (options.modelRetentionMs !== undefined) {
      init.modelRetentionMs = {};
      for (const [model, ms] of Object.entries(options.modelRetentionMs))
        init.modelRetentionMs[model] = positive(`retention of model ${model}`, ms, 0);
    }
    const sealKey = options.keys?.activeKey();
    if (sealKey) init.sealKey = { id: sealKey.id, key: new Uint8Array(sealKey.key) };
    const keyring = options.keys?.current();
    if (keyring) init.keyring = writerKeyring(keyring);
    const flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs, 500);
    const maxQueueRows = positive('maxQueueRows', options.maxQueueRows, 100_000, true);
    // The schema is created here, synchronously, so that reads work at once and the writer finds it ready.
    const reader = new PredictionLogReader(
      openMonitorDb(options.path, { queryOnly: true }),
      true,
      options.keys,
    );
    const worker = startWorkerFrom(WRITER_URL, { workerData: init, name: 'tend:prediction-log' }, [
      'better-sqlite3',
    ]);
    return new PredictionLog(worker, reader, flushIntervalMs, maxQueueRows, options.logger ?? silentLogger);
  }

  /**
   * Queue one row for writing: O(1), never throws, never waits for I/O; dropped (and counted) when the queue
   * is full.
   */
  record(row: PredictionRow): void {
    if (
      this.closing !== null ||
      this.writerGone !== null ||
      this.pending.length + this.inFlightRows >= this.maxQueueRows
    ) {
      this.dropped += 1;
      return;
    }
    this.pending.push(row);
    if (this.pending.length === 1) {
      this.timer = setTimeout(() => this.postPending(), this.flushIntervalMs);
    } else if (this.pending.length === BATCH_ROWS && this.immediate === null) {
      // Not inline: the request that fills the batch should not pay for packing it.
      this.immediate = setImmediate(() => this.postPending());
    }
  }

  get stats(): PredictionLogStats {
    return { queued: this.pending.length + this.inFlightRows, written: this.written, dropped: this.dropped };
  }

  /** Resolves when every row recorded so far has been committed (or counted as dropped). */
  async flush(): Promise<void> {
    this.postPending();
    if (this.writerGone !== null) throw this.writerGone;
    // The writer answers in order: once the last message sent is answered, so is everything before it.
    await this.lastAnswer;
  }

  /**
   * Attach ground truth to logged rows by request id and row. Queued rows are written first, so a row
   * recorded before this call counts even if not yet flushed. Unknown (id, row) pairs are reported,
   * invalid items rejected with a message; a second label for a row replaces the first.
   */
  async addFeedback(items: readonly unknown[]): Promise<FeedbackResult> {
    if (!Array.isArray(items))
      throw errors.invalidArgument('feedback must be an array of {id, row, label | value} items');
    const { valid, rejected } = checkFeedback(items);
    if (valid.length === 0) return { accepted: 0, unknown_ids: [], rejected };
    this.postPending();
    const reply = await this.request({ type: 'feedback', seq: 0, items: valid, timeMs: Date.now() });
    return { accepted: reply.accepted ?? 0, unknown_ids: reply.unknownIds ?? [], rejected };
  }

  /** The logged features of rows named by request id and row (copies; null when not logged). */
  featuresOf(model: string, rows: readonly { id: string; row: number }[]): (Float32Array | null)[] {
    return this.reader.featuresOf(model, rows);
  }

  /** Committed rows of a model (version), oldest first, as columns. */
  window(query: WindowQuery): WindowRows {
    return this.reader.window(query);
  }

  /**
   * Write the committed rows of a query as CSV, JSON lines or NDJSON; returns the number of rows.
   * @example log.export({ model: 'digits' }, 'csv', (chunk) => out.write(chunk), ['pixel_0', 'pixel_1'])
   */
  export(
    query: LogQuery,
    format: ExportFormat,
    write: (chunk: string) => void,
    featureNames?: readonly string[],
    classNames?: readonly string[],
    options: { bulkIndex?: string } = {},
  ): number {
    return this.reader.export(query, format, write, {
      ...(featureNames === undefined ? {} : { featureNames }),
      ...(classNames === undefined ? {} : { classNames }),
      ...(options.bulkIndex === undefined ? {} : { bulkIndex: options.bulkIndex }),
    });
  }

  /**
   * The pages of an export, for callers that write them at their own pace (yielding to the event loop between
   * pages).
   */
  exportChunks(
    query: LogQuery,
    format: ExportFormat,
    names: ExportNames = {},
  ): Generator<{ text: string; rows: number }> {
    return this.reader.exportChunks(query, format, names);
  }

  /** Committed rows, all models. */
  count(): number {
    return this.reader.count();
  }

  /**
   * Delete rows past the age and row limits now (the writer also does it every retentionIntervalMs); returns
   * rows deleted.
   */
  async applyRetention(nowMs: number = Date.now()): Promise<number> {
    const reply = await this.request({ type: 'retention', seq: 0, nowMs });
    return reply.deleted ?? 0;
  }

  /**
   * Delete the rows a selector picks (their float values, feedback and the space they took, see
   * prediction-log-delete.ts). Queued rows are written first, so a row recorded before this call is covered.
   * @throws TendError TEND_INVALID_ARGUMENT for a selector with no condition (nothing is deleted).
   */
  async delete(selector: DeleteSelector): Promise<DeleteResult> {
    checkDeleteSelector(selector);
    this.postPending();
    const reply = await this.request({ type: 'delete', seq: 0, selector });
    if (reply.deletion === undefined)
      throw errors.internal('prediction log: the writer did not report the deletion');
    return reply.deletion;
  }

  /** Commit what is queued, stop the writer and close the file. Rows recorded afterwards are dropped. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.postPending();
      this.worker.ref();
      this.closing = (async () => {
        try {
          if (this.writerGone === null) await this.request({ type: 'close', seq: 0 });
        } finally {
          await this.exited;
          this.reader.close();
        }
      })();
    }
    return this.closing;
  }

  private postPending(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    if (this.writerGone !== null) {
      this.dropped += rows.length;
      return;
    }
    const { batch, transfer, bad } = packRows(rows);
    this.dropped += bad;
    if (batch.count === 0) return;
    this.inFlightRows += batch.count;
    const sent = this.send({ type: 'batch', seq: 0, batch }, transfer);
    sent.then(
      (reply) => {
        this.inFlightRows -= batch.count;
        const written = reply.type === 'done' ? (reply.written ?? 0) : 0;
        this.written += written;
        this.dropped += batch.count - written;
        const why = reply.type === 'done' ? reply.error : reply.message;
        if (why !== undefined)
          this.logger.warn({ rows: batch.count - written, err: why }, 'prediction log rows not written');
      },
      () => {
        this.inFlightRows -= batch.count;
        this.dropped += batch.count;
      },
    );
  }

  /** Send a message whose failure is an error for the caller. */
  private async request(message: ToWriter): Promise<Done> {
    if (this.writerGone !== null) throw this.writerGone;
    const reply = await this.send(message, []);
    if (reply.type === 'failed')
      throw errors.internal(`prediction log: ${message.type} failed: ${reply.message}`);
    return reply;
  }

  private send(
    message: ToWriter,
    transfer: ArrayBuffer[],
  ): Promise<Done | { type: 'failed'; message: string }> {
    const seq = this.nextSeq++;
    const answer = new Promise<Done | { type: 'failed'; message: string }>((resolve, reject) => {
      this.outstanding.set(seq, { resolve, reject });
    });
    this.lastAnswer = answer;
    if (this.outstanding.size === 1) this.worker.ref();
    this.worker.postMessage({ ...message, seq }, transfer);
    return answer;
  }

  private onMessage(message: FromWriter): void {
    if (message.type === 'ready') return;
    if (message.type === 'open-failed') {
      this.logger.error({ err: message.message }, 'prediction log writer could not open the database');
      return;
    }
    const waiting = this.outstanding.get(message.seq);
    if (waiting === undefined) return;
    this.outstanding.delete(message.seq);
    // Idle, the writer must not keep the process alive; closing, it must until it has exited.
    if (this.outstanding.size === 0 && this.closing === null) this.worker.unref();
    waiting.resolve(message);
  }

  private stopWriting(err: TendError): void {
    if (this.writerGone !== null) return;
    this.writerGone = err;
    if (this.closing === null)
      this.logger.error({ err: err.message }, 'prediction log stopped; rows are dropped from now on');
    this.dropped += this.pending.length;
    this.pending = [];
    const waiting = [...this.outstanding.values()];
    this.outstanding.clear();
    for (const w of waiting) w.reject(err);
  }
}
