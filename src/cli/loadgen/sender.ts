/**
 * What a load loop needs from a protocol: send the one prepared request again and say how it ended.
 * The loops (closed-loop.ts, open-loop.ts) know nothing of HTTP or gRPC; the senders
 * (http-sender.ts, grpc-sender.ts) know nothing of schedules.
 */

/**
 * How one request ended: `status` is a short label counted in the error table ("200", "503",
 * "UNAVAILABLE", "socket error"), `ok` whether it succeeded, `detail` a few words on a failure.
 */
export type SendDone = (status: string, ok: boolean, detail?: string) => void;

export interface RequestSender {
  /** Wait until the connection is up (or throw a clear error). */
  connect(): Promise<void>;
  /** Send the request once; `done` is called exactly once. */
  send(done: SendDone): void;
  /** Close the connections; requests still in flight end (their `done` may still be called). */
  close(): void;
}

export const MAX_ERROR_SAMPLES = 5;
export const ERROR_SAMPLE_CHARS = 200;
