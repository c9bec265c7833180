/**
 * `npm run bench`: measures tend against baselines taken in the same run and writes BENCHMARKS.md.
 *
 * Options: --quick (the headline sections with short runs: a regression guard in a few minutes),
 * --only a,b (sections: ceiling, digits, compute, batching, memory, protocols, shadow, logging, optimize,
 * isolation, training, auth, bodies, loadgen, commits, explain, tune), --tune-seeds N (default 30; the
 * pruning figure takes at most 10), --runs N, --duration SECONDS, --out FILE,
 * --before REF [--after REF] (the commits section: the request path
 * of REF's build vs HEAD's, interleaved; it runs only when --before is given). Partial runs (--quick or
 * --only) write to a temp file unless --out says otherwise, so they never replace the real report.
 * BENCHMARKS.json (the targets rows, machine-readable) goes beside the report; when the report is
 * the real BENCHMARKS.md, README's benchmark table is regenerated from it (bench/readme.ts).
 * Exit code: 0 when every section ran and no target is a FAIL or INCONCLUSIVE (its A/A control off by
 * more than 5%: too noisy to judge); 1 when a section failed, a target missed or was inconclusive, or
 * wrk is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SOAK_END, SOAK_START, withSoakBlock } from './soak-report.js';
import { gitState, resultsFileOf, resultsFileText, resultsPathFor } from './results-file.js';
import { updateReadme } from './readme.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { describeMachine, measureBusyCores } from './machine.js';
import { modelAvailable, SMALL_CNN, TEXT_ENCODER_6L, TINY_TEXT_ENCODER, type BenchModel } from './models.js';
import {
  BUSY_CORES,
  dataOf,
  evaluateTargets,
  renderMarkdown,
  type BenchResults,
  type BenchSettings,
  type Outcome,
} from './report.js';
import {
  digitsArtifact,
  runBatching,
  runComputeCeilings,
  runHttpComparison,
  runHttpCeiling,
  runMemory,
  type SectionContext,
} from './sections.js';
import { runProtocols } from './protocols.js';
import { runBatchingTarget } from './batching-target.js';
import { runShadow } from './shadow.js';
import { runLogging } from './logging.js';
import { runTraining } from './training.js';
import { runAuth } from './auth.js';
import { runDigitsInt8, runOptimize } from './optimize.js';
import { runOptimizeMethods } from './optimize-methods.js';
import { runIsolation } from './isolation.js';
import { DEFAULT_SHADOW_POLICY } from '../src/engine/traffic/shadow-scheduler.js';

import { REPO_ROOT, stopAllServers } from './servers.js';
import { wrkVersion } from './wrk.js';
import { runLargeBodies } from './large-bodies.js';
import { runCommits } from './commits.js';
import { runLoadgen } from './loadgen.js';
import { runExplain } from './explain.js';
import { runTuneBench } from './tune.js';

const SECTIONS = [
  'ceiling',
  'digits',
  'compute',
  'batching',
  'memory',
  'protocols',
  'shadow',
  'logging',
  'optimize',
  'isolation',
  'training',
  'auth',
  'bodies',
  'commits',
  'loadgen',
  'explain',
  'tune',
] as const;
type Section = (typeof SECTIONS)[number];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * `--quick`: the regression guard — the headline ratios (digits vs Fastify, with a token, vs the Python
 * peer; the batching target; a shadow's cost) with short runs, in a few minutes.
 */
const QUICK_SECTIONS: readonly Section[] = ['digits', 'compute', 'batching', 'shadow'];

function parseSections(text: string | undefined, before: string | undefined, quick: boolean): Set<Section> {
  if (text === undefined && quick)
    return new Set([...QUICK_SECTIONS, ...(before !== undefined ? (['commits'] as const) : [])]);
  if (text === undefined) return new Set(SECTIONS.filter((s) => s !== 'commits' || before !== undefined));
  const picked = new Set<Section>();
  for (const name of text.split(',').map((s) => s.trim())) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new Error(`unknown section '${name}' — choose from ${SECTIONS.join(', ')}`);
    }
    picked.add(name as Section);
  }
  if (picked.has('commits') && before === undefined)
    throw new Error('the commits section needs --before REF (the commit to compare HEAD with)');
  return picked;
}

function positiveNumber(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/s$/, ''));
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got '${text}'`);
  return value;
}

async function outcome<T>(name: string, run: () => Promise<T>): Promise<Outcome<T>> {
  log(`\n== ${name}`);
  try {
    return { data: await run() };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`!! ${name} failed: ${message}`);
    return { error: message };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      before: { type: 'string' },
      after: { type: 'string', default: 'HEAD' },
      'tune-seeds': { type: 'string' },
    },
    allowPositionals: false,
  });
  const wrk = wrkVersion();
  if (wrk === null) {
    process.stderr.write('wrk not found — install wrk: apt-get install -y wrk\n');
    return 1;
  }
  const quick = values.quick ?? false;
  const sections = parseSections(values.only, values.before, values.quick ?? false);
  const settings: BenchSettings = {
    quick,
    // Quick runs keep three interleaved runs per figure (a median, not one sample), only shorter.
    runs: Math.round(positiveNumber(values.runs, 3, 'runs')),
    durationSeconds: Math.round(positiveNumber(values.duration, quick ? 3 : 8, 'duration')),
    warmupSeconds: quick ? 1 : 2,
    // The sweep picks each model's best batch, which the batching rows use as preferred size and
    // ceiling: 0.3 s per run picked a batch noise favoured, so quick runs keep 1 s.
    computeSecondsPerRun: quick ? 1 : 2,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
  };
  const partial = quick || values.only !== undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
  const outPath = resolve(
    values.out ??
      (partial ? join(tmpdir(), `tend-benchmarks-${Date.now()}.md`) : join(REPO_ROOT, 'BENCHMARKS.md')),
  );
  const ctx: SectionContext = {
    workDir,
    load: {
      runs: settings.runs,
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      log,
    },
    computeRuns: settings.runs,
    computeSecondsPerRun: settings.computeSecondsPerRun,
    memoryCycles: quick ? 20 : 50,
    memoryReferenceCycle: 5,
    log,
  };
  const started = performance.now();
  const git = gitState(REPO_ROOT);
  const results: Omit<BenchResults, 'elapsedSeconds'> = {
    machine: describeMachine(wrk, await measureBusyCores()),
    settings,
    date: new Date(),
    git,
  };
  log(`tend bench: sections ${[...sections].join(', ')}; scratch ${workDir}`);
  if (results.machine.busyCoresAtStart > BUSY_CORES) {
    log(
      `warning: other processes kept ${results.machine.busyCoresAtStart.toFixed(2)} cores busy — the machine is not idle, figures will be low and noisy`,
    );
  }

  try {
    const batchingModels: BenchModel[] = (
      quick ? [TINY_TEXT_ENCODER, TEXT_ENCODER_6L] : [SMALL_CNN, TINY_TEXT_ENCODER, TEXT_ENCODER_6L]
    ).filter(modelAvailable);
    const skippedModels = modelAvailable(TEXT_ENCODER_6L) ? [] : [TEXT_ENCODER_6L.name];
    // Baselines run with their figures: digits needs the ceiling, batching the compute ceilings.
    const wantCompute = sections.has('compute') || sections.has('batching');
    const wantCeiling = sections.has('ceiling') || sections.has('digits');

    // The in-process measurements go first, while no server runs.
    if (wantCompute) {
      const models = sections.has('compute')
        ? [digitsArtifact(ctx).model, ...batchingModels]
        : batchingModels;
      results.compute = await outcome('compute ceilings (onnxruntime in-process)', () =>
        runComputeCeilings(ctx, models),
      );
    }
    if (sections.has('memory')) {
      results.memory = await outcome('memory across load/unload cycles', () =>
        runMemory(ctx, TINY_TEXT_ENCODER),
      );
    }
    if (sections.has('digits')) {
      // The figure and its baseline run side by side, interleaved.
      const both = await outcome('HTTP: bare Fastify and the digits model over JSON, interleaved', () =>
        runHttpComparison(ctx),
      );
      if (!('data' in both)) {
        results.ceiling = both;
        results.digits = both;
        results.digitsToken = both;
        results.peer = both;
      } else {
        results.ceiling = { data: both.data.ceiling };
        results.digits = {
          data: { figures: both.data.digits, testAccuracy: digitsArtifact(ctx).testAccuracy },
        };
        results.digitsToken = { data: both.data.token };
        results.peer =
          'skipped' in both.data.peer ? { skipped: both.data.peer.skipped } : { data: both.data.peer };
      }
    } else if (wantCeiling) {
      results.ceiling = await outcome('HTTP ceiling (bare Fastify)', () => runHttpCeiling(ctx));
    }
    if (sections.has('batching')) {
      results.batching = await outcome('dynamic batching on vs off (tend serve)', async () => ({
        rows: await runBatching(ctx, batchingModels),
        skippedModels,
      }));
      // The target's raw side needs each model's best batch from the sweep; it runs while no server does.
      const ceilings = dataOf(results.compute);
      results.batchingTarget =
        ceilings === undefined
          ? { error: 'the compute ceilings did not run, so no best batch is known' }
          : await outcome(
              'the batching target: served vs raw onnxruntime, interleaved, with A/A controls',
              async () => ({
                models: await runBatchingTarget(
                  ctx,
                  // The compute-bound models: small_cnn's per-item compute is below an HTTP request's cost, so
                  // its served/raw ratio measures the frontend (section 5 judges that), not the batcher.
                  [TINY_TEXT_ENCODER, TEXT_ENCODER_6L].filter(modelAvailable),
                  ceilings,
                  // Two rounds at least: an A/A control from one sample against one says little.
                  quick ? 2 : Math.max(3, settings.runs),
                ),
                skippedModels,
              }),
            );
    }
    if (sections.has('protocols')) {
      // Its own ceilings come from the compute section when that ran, else it measures them first.
      const protocolModels = [SMALL_CNN, TEXT_ENCODER_6L].filter(modelAvailable);
      results.protocols = await outcome(
        'protocols: JSON, binary and gRPC at 16 clients vs raw onnxruntime',
        () => runProtocols(ctx, protocolModels, dataOf(results.compute), skippedModels),
      );
    }
    if (sections.has('shadow')) {
      results.shadow = await outcome('deployments: caller latency with a shadow on vs off', () =>
        runShadow(ctx, {
          maxPending: DEFAULT_SHADOW_POLICY.maxPending,
          maxWaitMs: DEFAULT_SHADOW_POLICY.maxWaitMs,
          maxBatchMs: DEFAULT_SHADOW_POLICY.maxBatchMs,
          maxLoopShare: DEFAULT_SHADOW_POLICY.maxLoopShare,
          loopWindowMs: DEFAULT_SHADOW_POLICY.loopWindowMs,
        }),
      );
    }
    if (sections.has('logging')) {
      results.logging = await outcome('monitoring: every request logged vs monitoring off', () =>
        runLogging(ctx),
      );
    }
    if (sections.has('optimize')) {
      const optimizeModels = [TINY_TEXT_ENCODER, TEXT_ENCODER_6L];
      results.optimize = await outcome(
        'optimization: int8-dynamic, int8-static, fp16, pruning vs fp32',
        async () => ({
          rows: await runOptimize(ctx, optimizeModels.filter(modelAvailable), quick ? 1 : 5),
          skipped: optimizeModels.filter((m) => !modelAvailable(m)).map((m) => m.name),
          digits: await runDigitsInt8(ctx),
          methods: await runOptimizeMethods(
            ctx,
            SMALL_CNN,
            modelAvailable(TEXT_ENCODER_6L) ? TEXT_ENCODER_6L : null,
            quick ? 1 : 5,
          ),
        }),
      );
    }
    if (sections.has('auth')) {
      results.auth = await outcome('security: a bearer token on every request vs no auth', () =>
        runAuth(ctx),
      );
    }
    if (sections.has('bodies')) {
      results.largeBodies = await outcome(
        'security: liveness and memory while 8 concurrent ~60 MiB bodies arrive',
        () => runLargeBodies(ctx),
      );
    }
    if (sections.has('loadgen')) {
      results.loadgen = await outcome('load generator: tend bench -c8 vs wrk -c8, interleaved', () =>
        runLoadgen(ctx),
      );
    }
    if (sections.has('isolation')) {
      results.isolation = await outcome('isolation: a child process per instance vs a worker thread', () =>
        runIsolation(ctx),
      );
    }
    if (sections.has('training')) {
      results.training = await outcome(
        'training: digits MLP epochs/s vs scikit-learn, online learning samples/s',
        () =>
          runTraining({
            runs: settings.runs,
            epochs: quick ? 20 : 100,
            typescriptEpochs: quick ? 3 : 10,
            onlinePasses: quick ? 1 : 3,
            log,
          }),
      );
    }
    if (sections.has('explain')) {
      results.explain = await outcome(
        'explanations: KernelSHAP evaluations/s vs onnxruntime in-process, interleaved',
        () => runExplain({ workDir, runs: settings.runs, log }),
      );
    }
    if (sections.has('tune')) {
      const seeds = Math.round(positiveNumber(values['tune-seeds'], quick ? 10 : 30, 'tune-seeds'));
      results.tune = await outcome('tuning: tend TPE vs Optuna on Branin and Hartmann-6', () =>
        runTuneBench({ seeds, trials: 50, pruningSeeds: Math.min(seeds, 10), log }),
      );
    }
    if (sections.has('commits') && values.before !== undefined) {
      const [before, after] = [values.before, values.after ?? 'HEAD'];
      results.commits = await outcome(`request path: ${before} vs ${after}, interleaved`, () =>
        runCommits(ctx, before, after),
      );
    }
  } finally {
    await stopAllServers();
    if (!values.keep) rmSync(workDir, { recursive: true, force: true });
  }

  const full: BenchResults = { ...results, elapsedSeconds: (performance.now() - started) / 1000 };
  // The soak block comes from `npm run soak` (a separate, long run): keep it.
  const previous = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '';
  const soak = previous.slice(previous.indexOf(SOAK_START), previous.indexOf(SOAK_END) + SOAK_END.length);
  writeFileSync(
    outPath,
    previous.includes(SOAK_START) && previous.includes(SOAK_END)
      ? withSoakBlock(renderMarkdown(full), soak)
      : renderMarkdown(full),
  );
  // BENCHMARKS.json beside it; README's table follows the real report only.
  const resultsPath = resultsPathFor(outPath);
  writeFileSync(resultsPath, resultsFileText(resultsFileOf(full, evaluateTargets(full), git)));
  let readmeFailed = false;
  if (outPath === join(REPO_ROOT, 'BENCHMARKS.md')) {
    try {
      updateReadme(resultsPath);
      log(`README.md's benchmark table regenerated from ${resultsPath}`);
    } catch (err) {
      readmeFailed = true;
      log(`!! README.md's benchmark table not updated: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  log('\n== targets');
  for (const t of evaluateTargets(full)) {
    const r = Number.isFinite(t.ratio) ? t.ratio.toFixed(2) : '—';
    log(
      `${t.verdict.padEnd(7)} ${t.name}: ${t.figure} vs ${t.baseline} = ${r} (target ${t.target})${t.note ? ` — ${t.note}` : ''}`,
    );
  }
  log(`\nreport written to ${outPath} (and ${resultsPath})`);
  const failed = [
    full.ceiling,
    full.digits,
    full.digitsToken,
    full.compute,
    full.batching,
    full.batchingTarget,
    full.memory,
    full.protocols,
    full.shadow,
    full.logging,
    full.optimize,
    full.isolation,
    full.training,
    full.auth,
    full.largeBodies,
    full.commits,
    full.loadgen,
    full.explain,
    full.tune,
  ].some((o) => o !== undefined && 'error' in o);
  // A missed target fails the run like a broken section: a regression must not exit 0. So does an
  // INCONCLUSIVE one (its A/A control moved more than the margin): a target not shown to pass is not passed.
  const missed = evaluateTargets(full).filter((t) => t.verdict === 'FAIL' || t.verdict === 'INCONCLUSIVE');
  if (missed.length > 0) log(`\n${missed.length} target(s) missed or inconclusive: npm run bench exits 1`);
  return failed || readmeFailed || missed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    await stopAllServers();
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
