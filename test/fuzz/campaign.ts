/**
 * A fuzz campaign: `requests` hostile requests from `concurrency` closed-loop clients against a
 * running server, each judged (verdict.ts) and counted; the unexpected ones kept with their
 * request so a run's first failures can be printed and replayed (seed + index).
 */
import { binaryCase } from './binary-cases.js';
import { describeCase, type FuzzCase } from './fuzz-case.js';
import { FuzzRandom } from './fuzz-random.js';
import { grpcCase } from './grpc-cases.js';
import { longStringCase } from './long-string-cases.js';
import { rawCase } from './raw-cases.js';
import { oversizeCase, routeCase } from './route-cases.js';
import { GrpcSender, HttpSender, sendRaw, type Judged } from './transports.js';
import { v2JsonCase } from './v2-json-cases.js';
import type { VerdictClass } from './verdict.js';

export interface FuzzTarget {
  url: string;
  grpcAddress: string;
  bodyLimitBytes: number;
  /** True while the server process lives (checked when an answer is missing). */
  alive(): boolean;
}

export interface UnexpectedAnswer {
  index: number;
  category: string;
  request: string;
  reason: string;
  answer: string;
}

export interface CampaignSummary {
  seed: number;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  byClass: Record<VerdictClass, number>;
  byTransport: Record<string, number>;
  /** Per category: [sent, unexpected]. */
  byCategory: Record<string, [number, number]>;
  /** Error codes of the refused requests (tend codes, or node-<status> for Node's own refusals), counted. */
  codes: Record<string, number>;
  unexpected: UnexpectedAnswer[];
  unexpectedCount: number;
  /** The server died during the run. */
  serverDied: boolean;
}

export interface CampaignOptions {
  seed: number;
  requests: number;
  concurrency: number;
  /** Index of the first case (to replay one case of a long run: its index, requests 1). */
  firstIndex?: number;
  /** Called about every `progressEveryMs` with the summary so far. */
  onProgress?: (s: CampaignSummary) => void;
  progressEveryMs?: number;
  /** Unexpected answers kept in full (all are counted). */
  keepUnexpected?: number;
}

/** The case for one index of a run: same seed and index, same request. */
export function caseFor(seed: number, index: number, bodyLimitBytes: number): FuzzCase {
  const r = FuzzRandom.forCase(seed, index);
  const kind = r.weighted<string>([
    [38, 'v2-json'],
    [14, 'binary'],
    [22, 'route'],
    [4, 'raw'],
    [20, 'grpc'],
    [2, 'oversize'],
    [4, 'long-string'],
  ]);
  switch (kind) {
    case 'v2-json':
      return v2JsonCase(r);
    case 'binary':
      return binaryCase(r);
    case 'route':
      return routeCase(r);
    case 'raw':
      return rawCase(r);
    case 'grpc':
      return grpcCase(r);
    case 'long-string':
      return longStringCase(r);
    default:
      return oversizeCase(r, bodyLimitBytes);
  }
}

/** Run the campaign; resolves when every request has been answered (or the server died). */
export async function runCampaign(target: FuzzTarget, options: CampaignOptions): Promise<CampaignSummary> {
  const http = new HttpSender(target.url, options.concurrency);
  const grpc = new GrpcSender(target.grpcAddress);
  const address = new URL(target.url);
  const raw = { host: address.hostname, port: Number(address.port) };
  const keep = options.keepUnexpected ?? 50;
  const started = Date.now();
  const summary: CampaignSummary = {
    seed: options.seed,
    requests: 0,
    seconds: 0,
    requestsPerSecond: 0,
    byClass: {
      ok: 0,
      rejected: 0,
      overload: 0,
      'too-large': 0,
      'grpc-undecodable': 0,
      'refused-by-node': 0,
      'incomplete-unanswered': 0,
      unexpected: 0,
    },
    byTransport: {},
    byCategory: {},
    codes: {},
    unexpected: [],
    unexpectedCount: 0,
    serverDied: false,
  };
  const refresh = (): CampaignSummary => {
    summary.seconds = (Date.now() - started) / 1000;
    summary.requestsPerSecond = Math.round(summary.requests / Math.max(summary.seconds, 0.001));
    return summary;
  };
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(refresh()), options.progressEveryMs ?? 10_000)
    : undefined;
  let next = options.firstIndex ?? 0;
  const end = next + options.requests;
  const send = (c: FuzzCase): Promise<Judged> =>
    c.transport === 'http' ? http.send(c) : c.transport === 'raw' ? sendRaw(raw, c) : grpc.send(c);
  const worker = async (): Promise<void> => {
    while (next < end && !summary.serverDied) {
      const index = next++;
      const c = caseFor(options.seed, index, target.bodyLimitBytes);
      const judged = await send(c);
      const { verdict } = judged;
      summary.requests++;
      summary.byClass[verdict.cls]++;
      summary.byTransport[c.transport] = (summary.byTransport[c.transport] ?? 0) + 1;
      const counts = (summary.byCategory[c.category] ??= [0, 0]);
      counts[0]++;
      if (
        (verdict.cls === 'rejected' || verdict.cls === 'overload' || verdict.cls === 'refused-by-node') &&
        verdict.reason
      ) {
        summary.codes[verdict.reason] = (summary.codes[verdict.reason] ?? 0) + 1;
      }
      if (verdict.cls === 'unexpected') {
        counts[1]++;
        summary.unexpectedCount++;
        if (summary.unexpected.length < keep) {
          summary.unexpected.push({
            index,
            category: c.category,
            request: describeCase(c),
            reason: verdict.reason ?? '',
            answer: judged.answer,
          });
        }
        if (!target.alive()) summary.serverDied = true;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  } finally {
    if (progress) clearInterval(progress);
    http.close();
    grpc.close();
  }
  if (!target.alive()) summary.serverDied = true;
  return refresh();
}

/** A few lines for a human: totals, classes, rate, and the first unexpected answers. */
export function formatSummary(s: CampaignSummary, show = 5): string {
  const lines = [
    `fuzz seed ${s.seed}: ${s.requests} requests in ${s.seconds.toFixed(1)} s (${s.requestsPerSecond}/s)${s.serverDied ? ' — THE SERVER DIED' : ''}`,
    `  by class: ${Object.entries(s.byClass)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  by transport: ${Object.entries(s.byTransport)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  codes: ${Object.entries(s.codes)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  unexpected: ${s.unexpectedCount}`,
  ];
  for (const u of s.unexpected.slice(0, show)) {
    lines.push(
      `  - #${u.index} [${u.category}] ${u.reason}`,
      `      request: ${u.request}`,
      `      answer:  ${u.answer.slice(0, 300)}`,
    );
  }
  return lines.join('\n');
}
