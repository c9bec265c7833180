/**
 * `tend bench --csv FILE`: one row per request of the measured windows, so that a rate, a latency
 * distribution or a time series can be computed from the raw data (perf_analyzer's own CSV is a
 * summary per level; the summary here is --json).
 *
 * Columns: `concurrency` (closed loop) or `request_rate` (open loop), the other empty;
 * `send_ms`, milliseconds from the start of that level's run (warm-up included) to the send;
 * `latency_ms`, from the send to the end of the answer (empty when none came); `status`, the HTTP
 * status code, the gRPC status name, `socket error` or `no answer`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { errors } from '../../core/errors.js';
import type { RequestLog } from './request-log.js';

export const CSV_HEADER = 'concurrency,request_rate,send_ms,latency_ms,status';

/** The load level a row belongs to: one of the two is set. */
export interface CsvLevel {
  concurrency?: number;
  requestRate?: number;
}

function quoted(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export class RequestCsvWriter {
  private constructor(
    private readonly stream: WriteStream,
    private readonly path: string,
  ) {}

  /** Create (or replace) the file and write the header. */
  static async open(path: string): Promise<RequestCsvWriter> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) =>
        reject(errors.invalidArgument(`--csv '${path}' cannot be written: ${err.message}`)),
      );
    });
    stream.write(`${CSV_HEADER}\n`);
    return new RequestCsvWriter(stream, path);
  }

  /** Append the rows of one level. */
  async writeLevel(level: CsvLevel, log: RequestLog): Promise<void> {
    const prefix = `${level.concurrency ?? ''},${level.requestRate ?? ''},`;
    const lines: string[] = [];
    for (let i = 0; i < log.length; i++) {
      const e = log.entry(i);
      const latency = Number.isNaN(e.latencyMs) ? '' : e.latencyMs.toFixed(3);
      lines.push(`${prefix}${e.sendMs.toFixed(3)},${latency},${quoted(e.status)}\n`);
      if (lines.length === 4096) await this.flush(lines);
    }
    await this.flush(lines);
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }

  private async flush(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const ok = this.stream.write(lines.join(''));
    lines.length = 0;
    if (!ok) await once(this.stream, 'drain');
  }

  toString(): string {
    return this.path;
  }
}
