/** A RequestSender without a network: each request is answered after `delayMs` with `status`. */
import type { RequestSender, SendDone } from './sender.js';

export interface FakeSender extends RequestSender {
  /** Requests sent so far. */
  sent: number;
  /** Requests answered so far. */
  answered: number;
  /** Most requests in flight at once, as the sender saw them. */
  peakInFlight: number;
  closed: boolean;
}

export function fakeSender(
  delayMs: number | ((i: number) => number),
  outcome: (i: number) => { status: string; ok: boolean; detail?: string } = () => ({
    status: 'OK',
    ok: true,
  }),
): FakeSender {
  let inFlight = 0;
  const fake: FakeSender = {
    sent: 0,
    answered: 0,
    peakInFlight: 0,
    closed: false,
    connect: async () => undefined,
    send(done: SendDone): void {
      const i = fake.sent++;
      inFlight += 1;
      fake.peakInFlight = Math.max(fake.peakInFlight, inFlight);
      const wait = typeof delayMs === 'number' ? delayMs : delayMs(i);
      const answer = (): void => {
        inFlight -= 1;
        fake.answered += 1;
        const o = outcome(i);
        done(o.status, o.ok, o.detail);
      };
      if (wait === Infinity) return; // never answered
      setTimeout(answer, wait);
    },
    close() {
      fake.closed = true;
    },
  };
  return fake;
}
