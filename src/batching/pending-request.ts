/** A request waiting in a batcher's queue: its inputs, its timing, its cancellation and its promise. */
import type { Tensor } from '../core/tensor.js';
import type { BatchResult, CancelSignal } from './batcher-types.js';
import { QueueEntry } from './request-queue.js';

export class PendingRequest extends QueueEntry {
  onAbort: (() => void) | null = null;

  constructor(
    key: string,
    size: number,
    level: number,
    readonly inputs: Tensor[],
    readonly enqueuedAtMs: number,
    readonly deadlineMs: number,
    readonly timeoutUs: number,
    readonly signal: CancelSignal | undefined,
    readonly resolve: (result: BatchResult) => void,
    readonly reject: (err: unknown) => void,
  ) {
    super(key, size, level);
  }
}
