/**
 * How busy the main thread is: the share of the last window its event loop spent running code
 * rather than waiting for I/O (Node's event-loop utilization), sampled once per window. Reading it
 * costs a field load, so it can be asked on every request.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export class LoopMeter {
  private last: EventLoopUtilization | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current = 0;

  constructor(private readonly windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`loop meter window must be above 0 ms, got ${windowMs}`);
  }

  /** Busy share (0–1) of the last full window; 0 until one has passed. Starts sampling on first use. */
  share(): number {
    if (this.timer === undefined) this.start();
    return this.current;
  }

  /** Stop sampling (a later share() starts again). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.current = 0;
  }

  private start(): void {
    this.last = performance.eventLoopUtilization();
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      // Over the time that really passed: under load the timer fires late, the window is longer.
      this.current = performance.eventLoopUtilization(now, this.last).utilization;
      this.last = now;
    }, this.windowMs);
    this.timer.unref();
  }
}
