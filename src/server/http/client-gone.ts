import type { ServerResponse } from 'node:http';
import type { CancelSignal } from '../../engine/index.js';

/**
 * Fires when the client hangs up before its response was written, so a queued request can be
 * dropped. One listener on the response's own 'close' event: far cheaper than an AbortController.
 */
export class ClientGoneSignal implements CancelSignal {
  aborted = false;
  private listener: (() => void) | undefined;

  constructor(response: ServerResponse) {
    response.once('close', () => {
      if (response.writableEnded) return;
      this.aborted = true;
      const listener = this.listener;
      this.listener = undefined;
      listener?.();
    });
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
}
