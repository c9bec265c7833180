/**
 * `npm run soak -- --minutes 10`: the digits demo model served by `tend serve` under steady load for
 * a long time. First its capacity, measured as section 1 of the bench measures it (one wrk at a
 * time, 32 connections, median of 3 runs after a warm-up run); then 80% of that capacity held by a
 * rate-controlled wrk (bench/soak-rate.ts) in 10 s windows back to back, with the server's RSS and
 * open descriptors read after each window. The checks (bench/soak-checks.ts) go into the soak block
 * of BENCHMARKS.md (--out to write elsewhere; `npm run bench` keeps that block); a failed check
 * exits 1.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureLoad } from './http-load.js';
import { readResultsFile, resultsPathFor, section1Figure } from './results-file.js';
import { addToRepository, digitsArtifact, type SectionContext } from './sections.js';
import { REPO_ROOT, startTendServer, stopAllServers } from './servers.js';
import { evaluateSoak, windowPlan, type SoakWindow } from './soak-checks.js';
import { rateLimitLua, targetRate } from './soak-rate.js';
import { soakMarkdown, withSoakBlock } from './soak-report.js';
import { runWrk, writePostScript, wrkVersion } from './wrk.js';

const WINDOW_SECONDS = 10;
/** Section 1's highest connection count (HTTP_CONCURRENCIES), so that the capacity compares with it. */
const CONNECTIONS = 32;
/**
 * Connections of the rate-controlled load: far more than the capacity run's. At a fixed rate the
 * requests in flight are rate × latency whatever the number of connections, so the server sees the
 * same load; but when every connection waits for an answer, wrk cannot send the next scheduled
 * request and the rate falls with the latency (a closed loop again). At 11.5k req/s and the 5.5 ms
 * p50 of a slow window, 64 connections were all busy (the first 10-minute soak: 16 windows below
 * 75%); 256 leave room for a p50 four times that.
 */
const LOAD_CONNECTIONS = 256;
const CAPACITY_RUNS = 3;
const CAPACITY_RUN_SECONDS = 8;
const CAPACITY_WARMUP_SECONDS = 2;

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

/** Section 1's figure at CONNECTIONS from the results file beside `outPath`, when there is one. */
function section1Of(outPath: string): { perSecond: number; date: string } | null {
  const path = resultsPathFor(outPath);
  if (!existsSync(path)) return null;
  const file = readResultsFile(path);
  const perSecond = section1Figure(file, CONNECTIONS);
  return perSecond === null ? null : { perSecond, date: file.run.date };
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
  const windowCount = Math.round((minutes * 60) / WINDOW_SECONDS);
  windowPlan(windowCount); // refuses a run too short for warm-up, first and last windows
  if (wrkVersion() === null) throw new Error('wrk is missing: apt-get install -y wrk');
  const outPath = resolve(values.out ?? join(REPO_ROOT, 'BENCHMARKS.md'));
  const section1 = section1Of(outPath);
  const workDir = mkdtempSync(join(tmpdir(), 'tend-soak-'));
  try {
    // The server, model and request section 1 measures (bench/sections.ts runHttpComparison): a
    // repository folder with the trained digits model, the default config, one test row as the body.
    const ctx: SectionContext = {
      workDir,
      load: {
        runs: CAPACITY_RUNS,
        durationSeconds: CAPACITY_RUN_SECONDS,
        warmupSeconds: CAPACITY_WARMUP_SECONDS,
        log,
      },
      computeRuns: 0,
      computeSecondsPerRun: 0,
      memoryCycles: 0,
      memoryReferenceCycle: 0,
      log,
    };
    const digits = digitsArtifact(ctx);
    const repo = join(workDir, 'repo-digits');
    addToRepository(repo, 'digits', digits.model.path, null);
    const server = await startTendServer({
      name: 'soak',
      repos: [repo],
      home: join(workDir, 'home'),
      logDir: workDir,
    });
    const url = `${server.baseUrl}/v2/models/digits/infer`;
    const body = digits.body;
    const plain = writePostScript(workDir, 'capacity', body);
    // One wrk at a time: two at once would each see part of the server.
    const capacityFigure = await measureLoad('capacity', url, plain, CONNECTIONS, ctx.load);
    if (capacityFigure.failures > 0)
      throw new Error(`${capacityFigure.failures} requests failed while measuring the capacity`);
    const capacity = capacityFigure.requestsPerSecond;
    const target = targetRate(capacity);
    log(
      `capacity ${Math.round(capacity)} req/s` +
        (section1 === null ? '' : ` (section 1: ${section1.perSecond} req/s)`) +
        `; soaking at ${Math.round(target)} req/s for ${windowCount} windows of ${WINDOW_SECONDS} s`,
    );
    const throttled = writePostScript(workDir, 'soak', body);
    appendFileSync(throttled, rateLimitLua(target));
    const windows: SoakWindow[] = [];
    const started = Date.now();
    for (let i = 0; i < windowCount; i++) {
      const r = await runWrk({
        url,
        scriptPath: throttled,
        connections: LOAD_CONNECTIONS,
        durationSeconds: WINDOW_SECONDS,
      });
      const w: SoakWindow = {
        atSeconds: (Date.now() - started) / 1000,
        requestsPerSecond: r.requestsPerSecond,
        p50Ms: r.latencyMs.p50,
        p99Ms: r.latencyMs.p99,
        failures: r.non2xx + r.socketErrors,
        rssBytes: rssOf(server.pid),
        fds: fdsOf(server.pid),
      };
      windows.push(w);
      log(
        `window ${i + 1}/${windowCount} (${Math.round(w.atSeconds)} s): ${Math.round(w.requestsPerSecond)} req/s = ` +
          `${((w.requestsPerSecond / capacity) * 100).toFixed(1)}% of capacity, p50 ${w.p50Ms.toFixed(2)} ms, ` +
          `p99 ${w.p99Ms.toFixed(2)} ms, RSS ${(w.rssBytes / 2 ** 20).toFixed(1)} MiB, fds ${w.fds}, failures ${w.failures}`,
      );
    }
    await server.stop();
    const evaluation = evaluateSoak(windows, capacity, section1?.perSecond ?? null);
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average at end ${loadavg()[0]?.toFixed(2)}`;
    const text = soakMarkdown(windows, evaluation, {
      minutes,
      date: new Date(),
      machine,
      connections: CONNECTIONS,
      loadConnections: LOAD_CONNECTIONS,
      windowSeconds: WINDOW_SECONDS,
      capacity: {
        perSecond: capacity,
        runsPerSecond: capacityFigure.runs.map((run) => run.requestsPerSecond),
        runSeconds: CAPACITY_RUN_SECONDS,
        warmupSeconds: CAPACITY_WARMUP_SECONDS,
      },
      targetPerSecond: target,
      section1,
    });
    const existing = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '# Benchmarks\n';
    writeFileSync(outPath, withSoakBlock(existing, text));
    log(`\n${text}\n\nwritten to ${outPath}`);
    for (const c of evaluation.checks)
      log(`${c.verdict.padEnd(7)} ${c.name}: ${c.value || c.last} (limit ${c.limit})`);
    return evaluation.pass ? 0 : 1;
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
