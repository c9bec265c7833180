/**
 * Section 12: large bodies must not stall the server (Security II). One `tend serve` with the digits
 * model and a token; one client with an `infer` token sends 8 concurrent bodies of ~60 MiB (about 30
 * million numbers for a `[1, 64]` input) while a second client asks `/v2/health/live` every 50 ms.
 * Liveness latency during the burst is compared with the same poller's latency before it (the
 * baseline, same process, same run); the server's resident memory 10 s after the burst is compared
 * with its value before the burst.
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nearestRank } from '../src/core/percentile.js';
import { addToRepository, digitsArtifact, withServer, type SectionContext } from './sections.js';
import { startTendServer } from './servers.js';

export const LARGE_BODY_REQUESTS = 8;
export const LARGE_BODY_BYTES = 60 * 1024 * 1024;
const POLL_MS = 50;
const SETTLE_MS = 10_000;

export interface LargeBodiesResult {
  requests: number;
  bodyBytes: number;
  /** Status of each large request. */
  statuses: number[];
  /** Seconds from the first byte sent to the last answer. */
  burstSeconds: number;
  liveness: {
    before: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
    during: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  };
  rssMb: { before: number; peak: number; after: number };
  /** Health checks that failed or never answered during the burst. */
  livenessFailures: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** A body of ~`bytes` bytes: a `[1, 64]` input whose data array holds far more than 64 numbers. */
function oversizedBody(bytes: number): Buffer {
  const head = Buffer.from('{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[1');
  const tail = Buffer.from(']}]}');
  const body = Buffer.alloc(bytes, ',1');
  head.copy(body, 0);
  // Keep the array well formed: the fill is ",1" pairs; close it at the end.
  const end = bytes - tail.length - ((bytes - tail.length - head.length) % 2);
  tail.copy(body, end);
  return body.subarray(0, end + tail.length);
}

/**
 * POST a body over a plain socket, reading while writing: a server that answers early (400, 503) and
 * closes is seen, where Node's HTTP client would report EPIPE and lose the answer.
 */
function post(url: URL, path: string, body: Buffer, token: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answered = false;
    let head = '';
    const finish = (status: number): void => {
      if (answered) return;
      answered = true;
      socket.destroy();
      resolve(status);
    };
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) finish(Number(m[1]));
    });
    socket.on('error', () => finish(-1));
    socket.on('close', () => finish(-2));
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      void (async () => {
        for (let offset = 0; offset < body.length && !answered; offset += 64 * 1024) {
          if (!socket.write(body.subarray(offset, offset + 64 * 1024)))
            await new Promise((r) => socket.once('drain', r));
        }
      })().catch(() => undefined);
    });
  });
}

async function api(base: string, path: string, body: unknown, token?: string): Promise<{ token: string }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { token: string };
}

/** Ask /v2/health/live every POLL_MS until `stop()`; latencies in ms (a failure counts as Infinity). */
function pollLiveness(base: string): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const next = started + POLL_MS;
      try {
        const res = await fetch(`${base}/v2/health/live`, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        latencies.push(res.status === 200 ? performance.now() - started : Number.POSITIVE_INFINITY);
      } catch {
        latencies.push(Number.POSITIVE_INFINITY);
      }
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

function summary(latencies: number[]): { p50Ms: number; p99Ms: number; maxMs: number; samples: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50Ms: nearestRank(sorted, 0.5) ?? Number.NaN,
    p99Ms: nearestRank(sorted, 0.99) ?? Number.NaN,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    samples: sorted.length,
  };
}

export async function runLargeBodies(ctx: SectionContext): Promise<LargeBodiesResult> {
  const { model } = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-large-bodies');
  addToRepository(repo, 'digits', model.path, null);
  const body = oversizedBody(LARGE_BODY_BYTES);
  return withServer(
    () =>
      startTendServer({
        name: 'large-bodies',
        repos: [repo],
        home: join(ctx.workDir, 'home-large-bodies'),
        logDir: ctx.workDir,
      }),
    async (server) => {
      const base = server.baseUrl;
      const admin = await api(base, '/api/v1/tokens', { name: 'bench-admin', scopes: ['admin'] });
      const client = await api(
        base,
        '/api/v1/tokens',
        { name: 'bench-infer', scopes: ['infer'] },
        admin.token,
      );
      // Warm the path once with a valid request, then let the process settle.
      await fetch(`${base}/v2/models/digits/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${client.token}` },
        body: digitsArtifact(ctx).body,
      }).then((r) => r.arrayBuffer());
      await new Promise((r) => setTimeout(r, 2000));
      const quiet = pollLiveness(base);
      await new Promise((r) => setTimeout(r, 3000));
      const before = await quiet.stop();
      const rssBefore = rssMb(server.pid);
      ctx.log(
        `large bodies: ${LARGE_BODY_REQUESTS} × ${(body.length / 2 ** 20).toFixed(1)} MiB, server RSS ${rssBefore.toFixed(0)} MB before`,
      );
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(server.pid));
      }, 100);
      const during = pollLiveness(base);
      const url = new URL(base);
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: LARGE_BODY_REQUESTS }, () =>
          post(url, '/v2/models/digits/infer', body, client.token),
        ),
      );
      const burstSeconds = (performance.now() - started) / 1000;
      // One more second of polling after the last answer.
      await new Promise((r) => setTimeout(r, 1000));
      const duringLatencies = await during.stop();
      clearInterval(sampler);
      await new Promise((r) => setTimeout(r, SETTLE_MS - 1000));
      const rssAfter = rssMb(server.pid);
      ctx.log(
        `large bodies: statuses ${statuses.join(',')}, ${burstSeconds.toFixed(1)} s; RSS ${rssAfter.toFixed(0)} MB 10 s after (peak ${peak.toFixed(0)})`,
      );
      return {
        requests: LARGE_BODY_REQUESTS,
        bodyBytes: body.length,
        statuses,
        burstSeconds,
        liveness: { before: summary(before), during: summary(duringLatencies) },
        rssMb: { before: rssBefore, peak, after: rssAfter },
        livenessFailures: duringLatencies.filter((x) => !Number.isFinite(x)).length,
      };
    },
  );
}
