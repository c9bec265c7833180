/**
 * BENCHMARKS.md: the targets first (figure, baseline measured in the same run, ratio, verdict),
 * then the detailed tables, then how to reproduce. Verdicts come from the numbers only: a figure
 * with failed requests, or a section that did not run, never passes.
 */
import type { ComputeCeiling } from './compute.js';
import type { LoadFigure } from './http-load.js';
import type { MachineInfo } from './machine.js';
import type { MemoryResult } from './memory.js';
import {
  BATCHING_CLIENTS,
  COMPUTE_INTRA_OP_THREADS,
  HTTP_CONCURRENCIES,
  type BatchingRow,
} from './sections.js';
import { batchingTargets, renderBatchingTarget, type BatchingTargetSection } from './report-batching.js';
import type { ProtocolsResult } from './protocols.js';
import { protocolTargets, renderProtocols } from './report-protocols.js';
import { renderShadow, shadowTargets } from './report-shadow.js';
import { loggingTargets, renderLogging } from './report-logging.js';
import { authTargets, renderAuth } from './report-auth.js';
import type { AuthResult } from './auth.js';
import type { LargeBodiesResult } from './large-bodies.js';
import { largeBodyTargets, renderLargeBodies } from './report-large-bodies.js';
import type { CommitsResult } from './commits.js';
import { commitsTargets, renderCommits } from './report-commits.js';
import type { LoadgenResult } from './loadgen.js';
import { loadgenTargets, renderLoadgen } from './report-loadgen.js';
import type { LoggingResult } from './logging.js';
import { optimizeTargets, renderOptimize } from './report-optimize.js';
import { renderTraining, trainingTargets } from './report-training.js';
import { explainTargets, renderExplain } from './report-explain.js';
import type { ExplainBenchResult } from './explain.js';
import { renderTune, tuneTargets } from './report-tune.js';
import type { TuneBenchResult } from './tune.js';
import type { TrainingResult } from './training.js';
import type { OptimizeSection } from './report-optimize.js';
import type { ShadowResult } from './shadow.js';
import { renderIsolation, type IsolationResult } from './isolation.js';
import { existsSync, readFileSync } from 'node:fs';
import { ratio } from './statistics.js';
import { PROFILE_NOTES } from './profile-notes.js';
import { PEER_PYTHON, PEER_TORCH_THREADS, PEER_WORKERS } from './peer.js';
import {
  dataOf,
  notRun,
  splitHalfControl,
  THROUGHPUT_CONTROL_TOLERANCE,
  type Outcome,
  type TargetRow,
} from './report-rows.js';
import { renderTargetsTable } from './targets-table.js';

export {
  dataOf,
  splitHalfControl,
  THROUGHPUT_CONTROL_TOLERANCE,
  type Outcome,
  type TargetRow,
  type Verdict,
} from './report-rows.js';

export interface BenchSettings {
  quick: boolean;
  runs: number;
  durationSeconds: number;
  warmupSeconds: number;
  computeSecondsPerRun: number;
  command: string;
}

/** A section's outcome: its data, the reason it was skipped, or the error that stopped it. */
export interface BenchResults {
  machine: MachineInfo;
  settings: BenchSettings;
  date: Date;
  elapsedSeconds: number;
  ceiling?: Outcome<LoadFigure[]>;
  digits?: Outcome<{ figures: LoadFigure[]; testAccuracy: number }>;
  /** The digits server with a bearer token on every request (section 1). */
  digitsToken?: Outcome<LoadFigure[]>;
  /** FastAPI + PyTorch serving the same network (section 1). */
  peer?: Outcome<{ figures: LoadFigure[]; versions: string }>;
  compute?: Outcome<ComputeCeiling[]>;
  batching?: Outcome<{ rows: BatchingRow[]; skippedModels: string[] }>;
  memory?: Outcome<MemoryResult>;
  /** The batching target: served vs raw ORT (no server running), interleaved, with A/A controls (section 3b). */
  batchingTarget?: Outcome<BatchingTargetSection>;
  /** JSON, binary tensors and gRPC against the raw-ORT ceiling (section 5). */
  protocols?: Outcome<ProtocolsResult>;
  /** Caller latency with a shadow on vs off (section 6). */
  shadow?: Outcome<ShadowResult>;
  /** Throughput with every request logged vs monitoring off (section 7). */
  logging?: Outcome<LoggingResult>;
  /** int8-dynamic vs fp32 per model (section 8). */
  optimize?: Outcome<OptimizeSection>;
  /** Digits MLP epochs/s vs scikit-learn, online-learning samples/s (section 10). */
  training?: Outcome<TrainingResult>;
  tune?: Outcome<TuneBenchResult>;
  /** Throughput with a bearer token on every request vs no auth (section 11). */
  auth?: Outcome<AuthResult>;
  /** Liveness and memory while large bodies arrive (section 12). */
  largeBodies?: Outcome<LargeBodiesResult>;
  /** Process vs thread isolation through the runtime (section 9). */
  isolation?: Outcome<IsolationResult>;
  /** The commit measured (short hash) and whether the files differed from it. */
  git?: { commit: string; dirty: boolean };
  /** The request path of this commit vs an earlier one (section 14, with `--before REF`). */
  commits?: Outcome<CommitsResult>;
  /** tend bench -c8 against wrk -c8 on one server (section 13). */
  loadgen?: Outcome<LoadgenResult>;
  /** KernelSHAP evaluations/s vs onnxruntime in-process, and one explanation's time (section 15). */
  explain?: Outcome<ExplainBenchResult>;
}

/** A 1-minute load average above this at start means something else was running. */
export const BUSY_CORES = 0.2;

export const TARGETS = {
  digitsOverCeiling: 0.8,
  digitsWithTokenOverCeiling: 0.78,
  digitsOverPeer: 6,
  memoryGrowth: 1.1,
} as const;

const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtRate = (x: number): string => (x >= 1000 ? fmtInt(x) : x.toFixed(1));
const fmtBatch = (f: LoadFigure): string => (f.meanBatchSize === null ? '—' : f.meanBatchSize.toFixed(1));
const fmtMs = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
const fmtMiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const failuresNote = (f: LoadFigure): string => (f.failures > 0 ? ` (${f.failures} failed requests)` : '');

function whyMissing(outcome: Outcome<unknown> | undefined): string {
  if (outcome === undefined) return 'section not run';
  if ('skipped' in outcome) return outcome.skipped;
  if ('error' in outcome) return `error: ${outcome.error.split('\n')[0] ?? ''}`;
  return '';
}

/**
 * A throughput target: figure/baseline ≥ target, judged only when both A/A controls are within
 * ±5% (else INCONCLUSIVE, which fails the bench as a FAIL does); failed requests fail it.
 */
function throughputRow(
  name: string,
  figure: LoadFigure | undefined,
  baseline: LoadFigure | undefined,
  baselineLabel: string,
  target: number,
  why: string,
): TargetRow {
  const targetText = `≥ ${target >= 2 ? target.toFixed(1) : target.toFixed(2)}, A/A within ±${(100 * THROUGHPUT_CONTROL_TOLERANCE).toFixed(0)}%`;
  if (figure === undefined || baseline === undefined) return notRun(name, targetText, why);
  const r = ratio(figure.requestsPerSecond, baseline.requestsPerSecond);
  const clean = figure.failures === 0 && baseline.failures === 0;
  const controls = [splitHalfControl(figure), splitHalfControl(baseline)];
  const quiet = controls.every((c) => Math.abs(c - 1) <= THROUGHPUT_CONTROL_TOLERANCE);
  const notes = [`A/A ${controls.map(fmtRatio).join(' and ')} (figure, baseline)`];
  if (!clean) notes.push('requests failed');
  else if (!quiet) notes.push('too noisy to judge: an A/A control is off by more than 5%');
  return {
    name,
    figure: fmtInt(figure.requestsPerSecond) + failuresNote(figure),
    baseline: `${fmtInt(baseline.requestsPerSecond)} (${baselineLabel})${failuresNote(baseline)}`,
    ratio: r,
    target: targetText,
    verdict: !clean ? 'FAIL' : !quiet ? 'INCONCLUSIVE' : r >= target ? 'PASS' : 'FAIL',
    note: notes.join('; '),
  };
}

/** The verdict of each target from the results. */
export function evaluateTargets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];

  const ceiling = dataOf(results.ceiling);
  const digits = dataOf(results.digits);
  const served = digits?.figures.find((f) => f.connections === 32);
  const bare = ceiling?.find((f) => f.connections === 32);
  rows.push(
    throughputRow(
      'Digits model over JSON, c=32 (req/s)',
      served,
      bare,
      'bare Fastify',
      TARGETS.digitsOverCeiling,
      whyMissing(served === undefined ? results.digits : results.ceiling),
    ),
  );
  const withToken = dataOf(results.digitsToken)?.find((f) => f.connections === 32);
  if (results.digitsToken !== undefined)
    rows.push(
      throughputRow(
        'Digits model over JSON, c=32, a token on every request (req/s)',
        withToken,
        bare,
        'bare Fastify',
        TARGETS.digitsWithTokenOverCeiling,
        whyMissing(withToken === undefined ? results.digitsToken : results.ceiling),
      ),
    );
  const peer = dataOf(results.peer)?.figures.find((f) => f.connections === 32);
  if (results.peer !== undefined)
    rows.push(
      throughputRow(
        'Digits model over JSON, c=32, vs FastAPI + PyTorch (req/s)',
        served,
        peer,
        'FastAPI + PyTorch',
        TARGETS.digitsOverPeer,
        whyMissing(served === undefined ? results.digits : results.peer),
      ),
    );

  rows.push(...batchingTargets(results.batchingTarget, whyMissing));

  const memoryName = 'RSS after 50 load/unload cycles';
  const memoryTarget = `≤ ${TARGETS.memoryGrowth.toFixed(2)}`;
  const memory = dataOf(results.memory);
  if (memory === undefined) {
    rows.push(notRun(memoryName, memoryTarget, whyMissing(results.memory)));
  } else {
    const last = memory.rssBytes[memory.rssBytes.length - 1] ?? 0;
    const reference = memory.rssBytes[memory.referenceCycle - 1] ?? 0;
    const r = ratio(last, reference);
    const full = memory.cycles >= 50;
    rows.push({
      name: full ? memoryName : `RSS after ${memory.cycles} load/unload cycles`,
      figure: fmtMiB(last),
      baseline: `${fmtMiB(reference)} (after cycle ${memory.referenceCycle})`,
      ratio: r,
      target: memoryTarget,
      verdict: r <= TARGETS.memoryGrowth ? 'PASS' : 'FAIL',
      note: full ? '' : `only ${memory.cycles} cycles`,
    });
  }
  rows.push(...protocolTargets(results.protocols, whyMissing));
  rows.push(...shadowTargets(results.shadow, whyMissing));
  rows.push(...loggingTargets(results.logging, whyMissing));
  rows.push(...optimizeTargets(results.optimize, whyMissing));
  rows.push(...trainingTargets(results.training, whyMissing));
  rows.push(...tuneTargets(results.tune, whyMissing));
  rows.push(...authTargets(results.auth, whyMissing));
  rows.push(...largeBodyTargets(results.largeBodies, whyMissing));
  rows.push(...commitsTargets(results.commits, whyMissing));
  rows.push(...loadgenTargets(results.loadgen, whyMissing));
  rows.push(...explainTargets(results.explain, whyMissing));
  return rows;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

function missingParagraph(outcome: Outcome<unknown> | undefined): string {
  return `_Not measured: ${whyMissing(outcome)}._`;
}

/** Section 1's second table: the same server with a token, and the Python peer. */
function renderTokenAndPeer(results: BenchResults): string[] {
  const ceiling = dataOf(results.ceiling);
  const digits = dataOf(results.digits);
  const token = dataOf(results.digitsToken);
  const peer = dataOf(results.peer);
  const out: string[] = [
    'Beside them, interleaved in the same rounds: a second `tend serve` (same repository and defaults) whose ' +
      'clients send a bearer token (scopes `infer`, `read`) on every request, and the Python peer: FastAPI + ' +
      `PyTorch serving the same network (\`bench/fastapi_peer.py\`: the ONNX file's weights in \`torch.nn.Linear\` ` +
      `layers, an \`async\` endpoint under \`torch.inference_mode()\`, \`${PEER_PYTHON} -m uvicorn\` (uvloop, httptools) with ` +
      `${PEER_WORKERS} worker processes, no access log, ${PEER_TORCH_THREADS} PyTorch thread per worker; ` +
      `${peer?.versions ?? 'not run'}). Its answers were checked against tend's before the runs.`,
    '',
  ];
  if (results.peer !== undefined && !('data' in results.peer)) out.push(missingParagraph(results.peer), '');
  const rows = HTTP_CONCURRENCIES.map((c) => {
    const bare = ceiling?.find((f) => f.connections === c);
    const served = digits?.figures.find((f) => f.connections === c);
    const t = token?.find((f) => f.connections === c);
    const p = peer?.figures.find((f) => f.connections === c);
    const rate = (f: LoadFigure | undefined): string =>
      f ? fmtInt(f.requestsPerSecond) + failuresNote(f) : '—';
    const r = (a: LoadFigure | undefined, b: LoadFigure | undefined): string =>
      a && b ? fmtRatio(ratio(a.requestsPerSecond, b.requestsPerSecond)) : '—';
    return [
      String(c),
      rate(t),
      t ? fmtMs(t.p50Ms) : '—',
      r(t, bare),
      rate(p),
      p ? fmtMs(p.p50Ms) : '—',
      p ? fmtMs(p.p99Ms) : '—',
      r(served, p),
    ];
  });
  out.push(
    table(
      [
        'connections',
        'tend + token req/s',
        'p50 ms',
        'vs Fastify',
        'FastAPI + PyTorch req/s',
        'p50 ms',
        'p99 ms',
        'tend / FastAPI',
      ],
      rows,
    ),
    '',
  );
  return out;
}

/** Render the whole document. */
export function renderMarkdown(results: BenchResults): string {
  const { machine: m, settings: s } = results;
  const out: string[] = [];
  out.push('# tend benchmarks', '');
  if (s.quick)
    out.push(
      `> **Quick run** (the headline sections, ${s.runs} interleaved runs of ${s.durationSeconds} s per figure): a regression ` +
        'guard that shows a change costing 10–20% on the day it lands; quote the figures of a full run.',
      '',
    );
  out.push(
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB memory`,
    `- int8 extensions of the CPU: ${m.int8Extensions}`,
    `- Software: Node ${m.node}, onnxruntime-node ${m.onnxruntime}, tend ${m.tend}, wrk ${m.wrk}`,
    `- Cores busy with other work in the 2 s before the bench started: ${m.busyCoresAtStart.toFixed(2)}` +
      (m.busyCoresAtStart > BUSY_CORES
        ? ' — **the machine was not idle; other processes competed for the cores and the figures are lower and noisier than they should be**'
        : ''),
    `- Command: \`${s.command}\``,
    `- Commit: ${results.git === undefined ? 'unknown' : `\`${results.git.commit}\`${results.git.dirty ? ' with uncommitted changes' : ''}`}`,
    `- Date: ${results.date.toISOString().replace(/\.\d+Z$/, 'Z')} (took ${(results.elapsedSeconds / 60).toFixed(1)} min)`,
    `- Method: every HTTP figure is the median of ${s.runs} wrk run(s) of ${s.durationSeconds} s (1 wrk thread, after a ${s.warmupSeconds} s warm-up run), ` +
      `against a server running as a separate process on the same machine; every baseline was measured in the same run.`,
    '',
  );

  out.push('## Targets', '');
  out.push(renderTargetsTable(evaluateTargets(results)), '');

  out.push('## 1. HTTP: digits model over JSON vs a bare Fastify server', '');
  out.push(
    'The ceiling is a bare Fastify 5 server (`bench/ceiling-server.ts`) that parses the same V2 JSON request and answers a constant ' +
      "response shaped like the digits model's. The digits model (trained by `tend demo`'s trainer, 64 → 32 → 10) is served by " +
      '`tend serve` from a repository with no config.yaml (server defaults, default log level `info`). Requests carry one row of 64 pixel values. Both servers run side by side and their wrk runs alternate (Fastify, tend, Fastify, tend, …), so a slow moment of the machine hits both.',
    '',
  );
  const ceiling = dataOf(results.ceiling);
  const digits = dataOf(results.digits);
  if (ceiling === undefined && digits === undefined) {
    out.push(missingParagraph(results.digits ?? results.ceiling), '');
  } else {
    const rows = HTTP_CONCURRENCIES.map((c) => {
      const bare = ceiling?.find((f) => f.connections === c);
      const served = digits?.figures.find((f) => f.connections === c);
      return [
        String(c),
        served ? fmtInt(served.requestsPerSecond) + failuresNote(served) : '—',
        served ? fmtMs(served.p50Ms) : '—',
        served ? fmtMs(served.p99Ms) : '—',
        served ? fmtBatch(served) : '—',
        bare ? fmtInt(bare.requestsPerSecond) + failuresNote(bare) : '—',
        bare ? fmtMs(bare.p50Ms) : '—',
        bare ? fmtMs(bare.p99Ms) : '—',
        served && bare ? fmtRatio(ratio(served.requestsPerSecond, bare.requestsPerSecond)) : '—',
      ];
    });
    out.push(
      table(
        [
          'connections',
          'tend req/s',
          'tend p50 ms',
          'tend p99 ms',
          'tend mean batch',
          'Fastify req/s',
          'Fastify p50 ms',
          'Fastify p99 ms',
          'ratio',
        ],
        rows,
      ),
      '',
    );
    if (ceiling === undefined) out.push(missingParagraph(results.ceiling), '');
    if (digits === undefined) out.push(missingParagraph(results.digits), '');
    out.push(...renderTokenAndPeer(results));
  }

  out.push('## 2. Compute ceilings: onnxruntime in-process', '');
  out.push(
    `\`createDirectSession\` (onnxruntime-node in the bench process, intra-op threads ${COMPUTE_INTRA_OP_THREADS}, no spinning, ` +
      `graph optimization \`all\`, the same session settings as the served models), items/s at each batch size, median of ${s.runs} run(s) of ` +
      `${s.computeSecondsPerRun} s. No HTTP, no queue, no worker: what perfect batching could reach at most.`,
    '',
  );
  const compute = dataOf(results.compute);
  if (compute === undefined) {
    out.push(missingParagraph(results.compute), '');
  } else {
    const batches = [...new Set(compute.flatMap((c) => c.perBatch.map((b) => b.batch)))].sort(
      (a, b) => a - b,
    );
    const rows = compute.map((c) => [
      c.model,
      ...batches.map((b) => {
        const hit = c.perBatch.find((p) => p.batch === b);
        return hit ? fmtInt(hit.itemsPerSecond) : '';
      }),
      `**${fmtInt(c.best.itemsPerSecond)}** (batch ${c.best.batch})`,
    ]);
    out.push(table(['model', ...batches.map((b) => `batch ${b}`), 'best'], rows), '');
  }

  out.push('## 3. Dynamic batching on vs off', '');
  out.push(
    `${BATCHING_CLIENTS} wrk connections send batch-1 requests (V2 JSON) to \`tend serve\`; each model has one instance ` +
      `(worker thread, intra-op threads ${COMPUTE_INTRA_OP_THREADS}). Batching on: \`max_batch_size\` as in the table and the stated ` +
      "`max_queue_delay_microseconds`; off: `dynamic_batching: false`. The ratio is to the model's raw onnxruntime best-batch items/s of section 2, measured at another time: " +
      'for orientation only; the target is judged in 3b, where both sides are measured interleaved.',
    '',
  );
  const batching = dataOf(results.batching);
  if (batching === undefined) {
    out.push(missingParagraph(results.batching), '');
  } else {
    const rows = batching.rows.map((r) => {
      const c = compute?.find((x) => x.model === r.model);
      return [
        r.model,
        r.mode.delayUs === null ? 'off' : 'on',
        r.mode.delayUs === null ? '—' : String(r.maxBatchSize),
        r.mode.delayUs === null ? '—' : String(r.mode.delayUs),
        fmtRate(r.figure.requestsPerSecond) + failuresNote(r.figure),
        fmtMs(r.figure.p50Ms),
        fmtMs(r.figure.p99Ms),
        fmtBatch(r.figure),
        c ? `${fmtRate(c.best.itemsPerSecond)} (batch ${c.best.batch})` : '—',
        c ? fmtRatio(ratio(r.figure.requestsPerSecond, c.best.itemsPerSecond)) : '—',
      ];
    });
    out.push(
      table(
        [
          'model',
          'batching',
          'max batch',
          'delay µs',
          'items/s',
          'p50 ms',
          'p99 ms',
          'mean batch',
          'raw ORT best items/s',
          'ratio',
        ],
        rows,
      ),
      '',
    );
    for (const name of batching.skippedModels) {
      out.push(
        `_${name}: skipped, its ONNX file is absent (the bench reads it from ../shared/models/ only, it is too big for the repository)._`,
        '',
      );
    }
  }

  out.push(...renderBatchingTarget(results.batchingTarget, whyMissing));

  out.push('## 4. Memory across load/unload cycles', '');
  const memory = dataOf(results.memory);
  if (memory === undefined) {
    out.push(missingParagraph(results.memory), '');
  } else {
    out.push(
      `\`Runtime.load\` (one worker thread) → one inference → \`unload()\` → \`global.gc()\`, ${memory.cycles} times in the bench process with ` +
        `${memory.model}; RSS of the process after each cycle.`,
      '',
    );
    const picks = [1, memory.referenceCycle, 10, 20, 30, 40, 50].filter(
      (c, i, all) => c <= memory.cycles && all.indexOf(c) === i,
    );
    if (!picks.includes(memory.cycles)) picks.push(memory.cycles);
    const reference = memory.rssBytes[memory.referenceCycle - 1] ?? 0;
    out.push(
      table(
        ['after cycle', 'RSS', `ratio to cycle ${memory.referenceCycle}`],
        picks.map((c) => [
          String(c),
          fmtMiB(memory.rssBytes[c - 1] ?? 0),
          fmtRatio(ratio(memory.rssBytes[c - 1] ?? 0, reference)),
        ]),
      ),
      '',
    );
  }

  out.push(...renderProtocols(results.protocols, s.runs, whyMissing));
  out.push(...renderShadow(results.shadow, s.runs, whyMissing));
  out.push(...renderLogging(results.logging, s.runs, whyMissing));
  out.push(...renderOptimize(results.optimize, m.int8Extensions, whyMissing));
  out.push(...renderIsolation(results.isolation, whyMissing));
  out.push(...renderTraining(results.training, whyMissing));
  out.push(...renderAuth(results.auth, s.runs, whyMissing));
  out.push(...renderLargeBodies(results.largeBodies, whyMissing));
  out.push(...renderCommits(results.commits, whyMissing));
  out.push(...renderLoadgen(results.loadgen, whyMissing));
  out.push(...renderExplain(results.explain, whyMissing));
  out.push(...renderTune(results.tune, whyMissing));

  // The profile notes come from `npm run bench:profile` (its own run, dated inside).
  if (existsSync(PROFILE_NOTES)) out.push(readFileSync(PROFILE_NOTES, 'utf8').trimEnd(), '');

  out.push(
    '## How to reproduce',
    '',
    '```sh',
    'apt-get install -y wrk      # the load generator',
    'npm ci',
    'npm run bench               # writes BENCHMARKS.md (about half an hour on 2 cores)',
    'npm run bench -- --quick    # one short run per figure, to check the harness',
    'npm run bench -- --only batching   # one section (see --help in bench/main.ts for the list), e.g. auth, bodies',
    'npm run bench -- --only commits --before c8a2e62   # the request path of HEAD vs an earlier commit',
    '```',
    '',
    'Run it on an otherwise idle machine: the server, wrk and onnxruntime share the same cores, and anything else running ' +
      'shows up in the figures. The text_encoder_6l rows need `../shared/models/text_encoder_6l.onnx` beside the repository.',
    '',
  );
  return out.join('\n');
}
