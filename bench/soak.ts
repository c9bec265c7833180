/**
 * `npm run soak -- --minutes 10`: the digits demo model served by `tend serve` under steady load at
 * ~80% of the capacity measured at the start, for a long time. Every 10 s: throughput, p50/p99 (a
 * 10 s wrk run, throttled with wrk's delay() hook), the server's RSS and open file descriptors.
 * Pass: RSS after warm-up grows < 5%; p99 of the last 10% ≤ 1.2 × p99 of the first 10% (medians of
 * the 10 s windows in each). The result replaces the soak block of BENCHMARKS.md (--out to write
 * elsewhere); `npm run bench` keeps that block.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoRequest, ensureDemoModel } from '../src/engine/index.js';
import { median } from './statistics.js';
import { REPO_ROOT, startTendServer, stopAllServers } from './servers.js';
import { runWrk, writePostScript, wrkVersion, type WrkResult } from './wrk.js';

export const SOAK_START = '<!-- soak:start -->';
export const SOAK_END = '<!-- soak:end -->';
const WINDOW_SECONDS = 10;
const CONNECTIONS = 16;
const LOAD_SHARE = 0.8;
const RSS_GROWTH_LIMIT = 0.05;
const P99_RATIO_LIMIT = 1.2;

interface Sample {
  atSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  rssBytes: number;
  fds: number;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A wrk script that waits `delayMs` before each request on a connection (wrk's delay() hook). */
function throttledScript(dir: string, body: string, delayMs: number): string {
  const path = writePostScript(dir, 'soak', body);
  const text = readFileSync(path, 'utf8');
  // wrk's delay() is whole milliseconds: draw floor or ceil so that the mean delay is exact.
  const whole = Math.floor(Math.max(0, delayMs));
  const fraction = Math.max(0, delayMs) - whole;
  writeFileSync(
    path,
    `${text}\nfunction delay()\n  if math.random() < ${fraction.toFixed(4)} then return ${whole + 1} end\n  return ${whole}\nend\n`,
  );
  return path;
}

function failuresOf(r: WrkResult): number {
  return r.non2xx + r.socketErrors;
}

export function soakMarkdown(
  samples: readonly Sample[],
  meta: { capacity: number; target: number; minutes: number; date: Date; machine: string },
): { text: string; pass: boolean } {
  const n = samples.length;
  const tenth = Math.max(1, Math.round(n / 10));
  const first = samples.slice(0, tenth);
  const last = samples.slice(n - tenth);
  const warm = samples[tenth - 1] as Sample;
  const final = samples[n - 1] as Sample;
  const rssGrowth = final.rssBytes / warm.rssBytes - 1;
  const p99First = median(first.map((s) => s.p99Ms));
  const p99Last = median(last.map((s) => s.p99Ms));
  const p99Ratio = p99Last / p99First;
  const failures = samples.reduce((a, s) => a + s.failures, 0);
  const rssOk = rssGrowth < RSS_GROWTH_LIMIT;
  const p99Ok = p99Ratio <= P99_RATIO_LIMIT;
  const pass = rssOk && p99Ok && failures === 0;
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const rows = samples.filter((_, i) => i % Math.max(1, Math.round(n / 20)) === 0 || i === n - 1);
  const lines = [
    SOAK_START,
    '## Soak: steady load for a long time',
    '',
    `\`npm run soak -- --minutes ${meta.minutes}\` on ${meta.machine}, ${meta.date.toISOString().slice(0, 16).replace('T', ' ')} UTC. ` +
      `The digits demo model under \`tend serve\` (defaults: dynamic batching, every request logged); capacity measured first with wrk ` +
      `(${CONNECTIONS} connections, unthrottled): ${Math.round(meta.capacity)} req/s; then ${WINDOW_SECONDS} s wrk windows throttled to ~${Math.round(LOAD_SHARE * 100)}% of it ` +
      `(target ${Math.round(meta.target)} req/s) back to back, the server's RSS and open descriptors sampled after each window.`,
    '',
    '| check | first | last | ratio | limit | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
    `| RSS after warm-up (end of the first 10%) → end | ${mib(warm.rssBytes)} | ${mib(final.rssBytes)} | ${(1 + rssGrowth).toFixed(3)} | < ${(1 + RSS_GROWTH_LIMIT).toFixed(2)} | ${rssOk ? 'PASS' : 'FAIL'} |`,
    `| p99, median of the windows in the first vs last 10% | ${p99First.toFixed(2)} ms | ${p99Last.toFixed(2)} ms | ${p99Ratio.toFixed(2)} | ≤ ${P99_RATIO_LIMIT.toFixed(2)} | ${p99Ok ? 'PASS' : 'FAIL'} |`,
    `| failed requests | | ${failures} | | 0 | ${failures === 0 ? 'PASS' : 'FAIL'} |`,
    '',
    '| t | req/s | p50 | p99 | RSS | open fds |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (s) =>
        `| ${Math.round(s.atSeconds)} s | ${Math.round(s.requestsPerSecond)} | ${s.p50Ms.toFixed(2)} ms | ${s.p99Ms.toFixed(2)} ms | ${mib(s.rssBytes)} | ${s.fds} |`,
    ),
    '',
    SOAK_END,
  ];
  return { text: lines.join('\n'), pass };
}

/** Replace (or append) the soak block of a markdown file. */
export function withSoakBlock(markdown: string, block: string): string {
  const start = markdown.indexOf(SOAK_START);
  const end = markdown.indexOf(SOAK_END);
  if (start >= 0 && end > start)
    return `${markdown.slice(0, start)}${block}${markdown.slice(end + SOAK_END.length)}`;
  return `${markdown.trimEnd()}\n\n${block}\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 24 * 60))
    throw new Error(`--minutes '${values.minutes}' must be a number of minutes above 0`);
  if (wrkVersion() === null) throw new Error('wrk is missing: apt-get install -y wrk');
  const outPath = resolve(values.out ?? join(REPO_ROOT, 'BENCHMARKS.md'));
  const workDir = mkdtempSync(join(tmpdir(), 'tend-soak-'));
  try {
    const home = join(workDir, 'home');
    log('training the digits demo model…');
    await ensureDemoModel(home);
    const server = await startTendServer({ name: 'soak', repos: [], home, logDir: workDir });
    const url = `${server.baseUrl}/v2/models/digits/infer`;
    const { body } = demoRequest();
    const plain = writePostScript(workDir, 'capacity', body);
    await runWrk({ url, scriptPath: plain, connections: CONNECTIONS, durationSeconds: 5 });
    const capacity = Math.max(
      ...(await Promise.all(
        [0, 1].map(
          async () =>
            (
              await runWrk({
                url,
                scriptPath: plain,
                connections: CONNECTIONS,
                durationSeconds: WINDOW_SECONDS,
              })
            ).requestsPerSecond,
        ),
      )),
    );
    const target = capacity * LOAD_SHARE;
    log(`capacity ${Math.round(capacity)} req/s; soaking at ~${Math.round(target)} req/s for ${minutes} min`);
    // Each connection waits `delay` before a request: rate ≈ connections / (delay + latency).
    let delayMs = Math.max(0, (CONNECTIONS * 1000) / target - (CONNECTIONS * 1000) / capacity);
    const samples: Sample[] = [];
    const started = Date.now();
    while (Date.now() - started < minutes * 60_000) {
      const r = await runWrk({
        url,
        scriptPath: throttledScript(workDir, body, delayMs),
        connections: CONNECTIONS,
        durationSeconds: WINDOW_SECONDS,
      });
      const sample: Sample = {
        atSeconds: (Date.now() - started) / 1000,
        requestsPerSecond: r.requestsPerSecond,
        p50Ms: r.latencyMs.p50,
        p99Ms: r.latencyMs.p99,
        failures: failuresOf(r),
        rssBytes: rssOf(server.pid),
        fds: fdsOf(server.pid),
      };
      samples.push(sample);
      log(
        `${Math.round(sample.atSeconds)} s: ${Math.round(sample.requestsPerSecond)} req/s, p50 ${sample.p50Ms.toFixed(2)} ms, p99 ${sample.p99Ms.toFixed(2)} ms, RSS ${(sample.rssBytes / 1048576).toFixed(1)} MiB, fds ${sample.fds}, failures ${sample.failures}`,
      );
      // Steer the delay toward the target rate (the latency part of a request's cycle stays as measured).
      const cycleMs = (CONNECTIONS * 1000) / Math.max(1, sample.requestsPerSecond);
      const latencyPartMs = Math.max(0, cycleMs - delayMs);
      // Half-way steps: the latency part moves with the load, so a full step overshoots.
      delayMs = Math.max(0, (delayMs + Math.max(0, (CONNECTIONS * 1000) / target - latencyPartMs)) / 2);
    }
    await server.stop();
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average at end ${loadavg()[0]?.toFixed(2)}`;
    const { text, pass } = soakMarkdown(samples, { capacity, target, minutes, date: new Date(), machine });
    const existing = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '# Benchmarks\n';
    writeFileSync(outPath, withSoakBlock(existing, text));
    log(`\n${text}\n\nwritten to ${outPath}`);
    return pass ? 0 : 1;
  } finally {
    await stopAllServers();
    if (!values.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

if (
  process.argv[1] !== undefined &&
  resolve(process.argv[1]).replace(/\.ts$/, '.js').endsWith(join('bench', 'soak.js'))
) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
