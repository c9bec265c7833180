import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeRounds, type BatchingTargetModel, type TargetRound } from './batching-target.js';
import type { ComputeCeiling } from './compute.js';
import { parseBatchCounter, type LoadFigure } from './http-load.js';
import type { MachineInfo } from './machine.js';
import { evaluateTargets, renderMarkdown, type BenchResults } from './report.js';
import { median, ratio } from './statistics.js';

const machine: MachineInfo = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 4,
  node: 'v20.20.0',
  onnxruntime: '1.30.0',
  tend: '0.1.0',
  wrk: '4.1.0',
  busyCoresAtStart: 0.05,
  int8Extensions: 'VNNI (avx512_vnni, avx2)',
};

/** A figure of three runs at `requestsPerSecond` each (or at the rates given): its A/A control is 1. */
function figure(connections: number, requestsPerSecond: number, failures = 0, rates?: number[]): LoadFigure {
  const runs = (rates ?? [requestsPerSecond, requestsPerSecond, requestsPerSecond]).map((rate) => ({
    connections,
    durationSeconds: 8,
    requests: rate * 8,
    requestsPerSecond: rate,
    latencyMs: { p50: 1, p75: 1.5, p90: 1.8, p99: 2 },
    non2xx: 0,
    socketErrors: 0,
  }));
  return { connections, runs, requestsPerSecond, p50Ms: 1, p99Ms: 2, failures, meanBatchSize: null };
}

function compute(model: string, best: number): ComputeCeiling {
  return {
    model,
    intraOpThreads: 2,
    allowSpinning: false,
    perBatch: [{ batch: 8, itemsPerSecond: best }],
    best: { batch: 8, itemsPerSecond: best },
  };
}

function results(overrides: Partial<BenchResults>): BenchResults {
  return {
    machine,
    settings: {
      quick: false,
      runs: 3,
      durationSeconds: 8,
      warmupSeconds: 2,
      computeSecondsPerRun: 1,
      command: 'npm run bench',
    },
    date: new Date('2025-01-01T00:00:00Z'),
    elapsedSeconds: 600,
    ...overrides,
  };
}

/** Rounds with raw samples `raw` (a, b) and served samples `served` (a, b). */
function rounds(raw: [number, number][], served: [number, number][], failures = 0): TargetRound[] {
  const s = (itemsPerSecond: number, f = 0) => ({
    itemsPerSecond,
    disturbed: false,
    attempts: 1,
    failures: f,
  });
  return raw.map((r, i) => ({
    rawFirst: i % 2 === 0,
    raw: [s(r[0]), s(r[1])],
    served: [s(served[i]?.[0] ?? 0, i === 0 ? failures : 0), s(served[i]?.[1] ?? 0)],
  }));
}

function targetModel(model: string, measured: TargetRound[]): BatchingTargetModel {
  return summarizeRounds({
    model,
    preferredBatchSize: 8,
    rawBatch: 8,
    sweepItemsPerSecond: 80,
    delayUs: 0,
    maxBatchSize: 16,
    clients: 16,
    runSeconds: 8,
    rounds: measured,
    meanBatchSize: 15.5,
  });
}

const full = results({
  ceiling: { data: [figure(1, 10_000), figure(8, 25_000), figure(32, 30_000)] },
  digits: { data: { figures: [figure(1, 4000), figure(8, 15_000), figure(32, 24_000)], testAccuracy: 0.95 } },
  compute: { data: [compute('text_encoder_6l', 80)] },
  batching: {
    data: {
      rows: [
        {
          model: 'text_encoder_6l',
          mode: { label: 'on, delay 0 µs', delayUs: 0 },
          maxBatchSize: 16,
          figure: figure(16, 70),
        },
        {
          model: 'text_encoder_6l',
          mode: { label: 'on, delay 2000 µs', delayUs: 2000 },
          maxBatchSize: 16,
          figure: figure(16, 76),
        },
        {
          model: 'text_encoder_6l',
          mode: { label: 'off', delayUs: null },
          maxBatchSize: 16,
          figure: figure(16, 79),
        },
      ],
      skippedModels: [],
    },
  },
  batchingTarget: {
    data: {
      models: [
        targetModel(
          'text_encoder_6l',
          rounds(
            [
              [60, 61],
              [59, 60],
              [62, 60],
            ],
            [
              [58, 59],
              [57, 58],
              [59, 58],
            ],
          ),
        ),
      ],
      skippedModels: [],
    },
  },
  memory: {
    data: {
      model: 'tiny_text_encoder',
      cycles: 50,
      referenceCycle: 5,
      rssBytes: Array.from({ length: 50 }, (_, i) => (i < 5 ? 100 : 105) * 2 ** 20),
    },
  },
});

test('evaluateTargets passes figures that meet their targets', () => {
  const rows = evaluateTargets(full);
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['PASS', 'PASS', 'PASS'],
  );
  assert.equal(rows[0]?.ratio, 0.8);
  // The batching target divides the served median by the raw median of the same interleaved rounds,
  // never by the sweep of section 2 nor by a batching row of section 3.
  assert.equal(rows[1]?.ratio, 58 / 60);
  assert.match(rows[1]?.baseline ?? '', /no server running/);
  assert.match(rows[1]?.note ?? '', /A\/A raw 1\.000, tend 1\.000/);
  assert.equal(rows[2]?.ratio, 1.05);
});

test('a throughput target is judged only when both A/A controls are within 5%', () => {
  // Runs 1 and 3 against run 2 of the same server: 26,000 / 24,000 = 1.083, off by more than 5%.
  const noisy = results({
    ...full,
    digits: {
      data: { figures: [figure(32, 24_000, 0, [26_000, 24_000, 26_000])], testAccuracy: 0.95 },
    },
  });
  const row = evaluateTargets(noisy)[0];
  assert.equal(row?.verdict, 'INCONCLUSIVE');
  assert.match(row?.note ?? '', /A\/A 1\.08 and 1\.00 \(figure, baseline\); too noisy to judge/);
  const steady = results({
    ...full,
    digits: {
      data: { figures: [figure(32, 24_000, 0, [24_500, 24_000, 24_300])], testAccuracy: 0.95 },
    },
  });
  assert.equal(evaluateTargets(steady)[0]?.verdict, 'PASS');
});

test('evaluateTargets fails figures below target or with failed requests', () => {
  const slow = results({ ...full, digits: { data: { figures: [figure(32, 20_000)], testAccuracy: 0.95 } } });
  assert.equal(evaluateTargets(slow)[0]?.verdict, 'FAIL');
  const failing = results({
    ...full,
    digits: { data: { figures: [figure(32, 29_000, 3)], testAccuracy: 0.95 } },
  });
  const row = evaluateTargets(failing)[0];
  assert.equal(row?.verdict, 'FAIL');
  assert.match(row?.figure ?? '', /3 failed requests/);
  const leaking = results({
    ...full,
    memory: {
      data: {
        model: 'm',
        cycles: 50,
        referenceCycle: 5,
        rssBytes: Array.from({ length: 50 }, (_, i) => 100 + i * 10),
      },
    },
  });
  assert.equal(evaluateTargets(leaking)[2]?.verdict, 'FAIL');
});

test('evaluateTargets never passes what did not run', () => {
  const rows = evaluateTargets(
    results({
      ceiling: { error: 'fastify ceiling server exited with 1' },
      batching: { data: { rows: [], skippedModels: ['text_encoder_6l'] } },
      batchingTarget: { data: { models: [], skippedModels: ['text_encoder_6l'] } },
      compute: { data: [] },
    }),
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['NOT RUN', 'NOT RUN', 'NOT RUN'],
  );
  assert.match(rows[1]?.note ?? '', /absent/);
  assert.equal(rows[2]?.note, 'section not run');
});

test('renderMarkdown has the header, the targets, the sections and how to reproduce', () => {
  const text = renderMarkdown(full);
  for (const part of [
    '# tend benchmarks',
    'Test CPU, 2 cores',
    'onnxruntime-node 1.30.0',
    '`npm run bench`',
    '2025-01-01T00:00:00Z',
    '## Targets',
    '**PASS**',
    '## How to reproduce',
  ]) {
    assert.ok(text.includes(part), `missing: ${part}`);
  }
  assert.ok(!text.includes('Quick run'));
  assert.ok(!text.includes('not idle'));
  assert.match(
    renderMarkdown(results({ ...full, machine: { ...machine, busyCoresAtStart: 1.5 } })),
    /not idle/,
  );
  assert.match(
    renderMarkdown(results({ ...full, settings: { ...full.settings, quick: true } })),
    /Quick run/,
  );
});

test('median and ratio', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
  assert.equal(ratio(1, 4), 0.25);
  assert.ok(Number.isNaN(ratio(1, 0)));
});

test('parseBatchCounter sums the batch-size histogram of one model', () => {
  const text = [
    '# HELP tend_batch_size Items per executed batch.',
    'tend_batch_size_bucket{le="1",model="digits",version="1"} 10',
    'tend_batch_size_sum{model="digits",version="1"} 40',
    'tend_batch_size_count{model="digits",version="1"} 10',
    'tend_batch_size_sum{model="digits",version="2"} 8',
    'tend_batch_size_count{model="digits",version="2"} 2',
    'tend_batch_size_sum{model="other",version="1"} 99',
    'tend_batch_size_count{model="other",version="1"} 9',
  ].join('\n');
  assert.deepEqual(parseBatchCounter(text, 'digits'), { batches: 12, items: 48 });
  assert.equal(parseBatchCounter(text, 'absent'), null);
});

test('the batching target fails below 0.95, with failed requests, and is INCONCLUSIVE when an A/A control is off', () => {
  const judge = (model: BatchingTargetModel) =>
    evaluateTargets(
      results({ ...full, batchingTarget: { data: { models: [model], skippedModels: [] } } }),
    )[1];
  const slow = judge(
    targetModel(
      'tiny_text_encoder',
      rounds(
        [
          [100, 100],
          [100, 100],
        ],
        [
          [94, 94],
          [94, 94],
        ],
      ),
    ),
  );
  assert.equal(slow?.verdict, 'FAIL');
  assert.equal(slow?.ratio, 0.94);
  const failed = judge(
    targetModel(
      'tiny_text_encoder',
      rounds(
        [
          [100, 100],
          [100, 100],
        ],
        [
          [99, 99],
          [99, 99],
        ],
        3,
      ),
    ),
  );
  assert.equal(failed?.verdict, 'FAIL');
  assert.match(failed?.figure ?? '', /3 failed/);
  // Served passes against raw, but the raw A/A control says the machine moved by 10%.
  const noisy = judge(
    targetModel(
      'tiny_text_encoder',
      rounds(
        [
          [110, 100],
          [110, 100],
        ],
        [
          [104, 104],
          [104, 104],
        ],
      ),
    ),
  );
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  assert.match(noisy?.note ?? '', /too noisy/);
  const text = renderMarkdown(results({ ...full }));
  assert.match(text, /3b\. The batching target/);
  assert.match(text, /A\/A 1\.000/);
});

test('a batching target whose samples other processes mostly disturbed is INCONCLUSIVE', () => {
  const measured = rounds(
    [
      [100, 100],
      [100, 100],
    ],
    [
      [99, 99],
      [99, 99],
    ],
  );
  for (const round of measured) round.served = [{ ...round.served[0], disturbed: true }, round.served[1]];
  const first = measured[0];
  assert.ok(first !== undefined);
  first.served[1] = { ...first.served[1], disturbed: true };
  const row = evaluateTargets(
    results({
      ...full,
      batchingTarget: { data: { models: [targetModel('tiny_text_encoder', measured)], skippedModels: [] } },
    }),
  )[1];
  assert.equal(row?.verdict, 'INCONCLUSIVE');
  assert.match(row?.note ?? '', /most samples of one side/);
});

test('the batching target is judged on the samples other processes did not disturb', () => {
  const measured = rounds(
    [
      [100, 100],
      [100, 100],
    ],
    [
      [97, 97],
      [97, 97],
    ],
  );
  const first = measured[0];
  assert.ok(first !== undefined);
  first.raw[0] = { itemsPerSecond: 50, disturbed: true, attempts: 3, failures: 0 };
  const model = targetModel('tiny_text_encoder', measured);
  assert.equal(model.rawItemsPerSecond, 100);
  assert.equal(model.rawControl, 1);
});
