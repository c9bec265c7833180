/**
 * Optimization II end to end on the registry: the speed half of the gate (a candidate timed slower
 * than its parent at every batch size is refused with the reason, --force registers it; timings
 * injected, so the test checks the decision, not the machine), fp16, int8-static and pruning.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { optimizeVersion } from '../src/engine/index.js';
import { Registry } from '../src/registry/index.js';
import { FIXTURE_MODELS, tempDir } from './helpers.js';

let home: string;
let registry: Registry;

before(async () => {
  home = tempDir('optimize-speed');
  registry = await Registry.open(home, { actor: 'tester' });
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
  await registry.models.push(join(FIXTURE_MODELS, 'tiny_text_encoder.onnx'), { name: 'encoder' });
  await registry.models.push(join(FIXTURE_MODELS, 'small_cnn.onnx'), { name: 'cnn' });
});

after(async () => {
  await registry.close();
  rmSync(home, { recursive: true, force: true });
});

/** Timings as if the candidate ran at `ratio` × the parent's items/s at every batch size. */
function slowed(ratio: number) {
  return async (_p: unknown, _c: unknown, _i: unknown, o: { batches: readonly number[] }) => {
    const side = (scale: number) => {
      const byBatch = new Map(
        o.batches.map((b) => [b, { p50_ms: 1 / scale, p99_ms: 1 / scale, items_per_s: 1000 * b * scale }]),
      );
      return { byBatch, batch1: byBatch.get(1) ?? null, best: null, roundRates: new Map() };
    };
    return { parent: side(1), candidate: side(ratio) };
  };
}

test('a candidate 0.73× as fast as its parent at every batch size is not registered; --force registers it', async () => {
  const options = { method: 'graph' as const, batches: [1, 8], measure: slowed(0.73) };
  const refused = await optimizeVersion(registry, 'digits', '1', options);
  assert.equal(refused.registered, false);
  assert.equal(refused.version, null);
  assert.match(
    refused.reason,
    /^not registered: slower than its parent at every batch size measured \(0\.73× at batch 1, 0\.73× at batch 8; limit 0\.95×/,
  );
  assert.match(refused.reason, /use --force/);
  assert.deepEqual(
    refused.speed_by_batch.map((b) => [b.batch, b.ratio]),
    [
      [1, 0.73],
      [8, 0.73],
    ],
  );
  assert.deepEqual(
    (await registry.models.listVersions('digits')).map((v) => v.version),
    [1],
  );
  const forced = await optimizeVersion(registry, 'digits', '1', { ...options, force: true });
  assert.equal(forced.registered, true);
  assert.match(forced.reason, /registered with --force although slower than its parent/);
  const kept = await optimizeVersion(registry, 'digits', '1', { ...options, measure: slowed(0.97) });
  assert.equal(kept.registered, true, kept.reason);
  assert.match(kept.reason, /speed 0\.97× the parent's/);
});

test('--max-slowdown outside [0, 1] is refused', async () => {
  await assert.rejects(optimizeVersion(registry, 'digits', '1', { method: 'graph', maxSlowdown: 2 }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /--max-slowdown 2/,
  });
});

const QUICK = { rounds: 1, msPerRun: 10, batches: [1, 8], maxSlowdown: 1 };

test('fp16 of the text encoder: registered, file ≤ 0.52×, cosine ≥ 0.999, the report says it saves size on CPU', async () => {
  const report = await optimizeVersion(registry, 'encoder', undefined, { method: 'fp16', ...QUICK });
  assert.equal(report.registered, true, report.reason);
  assert.ok(report.size_ratio <= 0.52, String(report.size_ratio));
  assert.ok((report.mean_cosine ?? 0) >= 0.999, String(report.mean_cosine));
  assert.match(report.notes.join(' '), /mostly saves size/);
  const v = await registry.models.getVersion('encoder', report.version ?? 0);
  assert.deepEqual(
    v.signature.outputs.map((o) => o.datatype),
    ['FP32'],
  );
  assert.equal(v.tags['optimize.method'], 'fp16');
});

/** `requests` requests of one random image each (uniform in [-1, 1)) from `seed`. */
function images(requests: number, seed: number, source: string) {
  let s = seed >>> 0;
  const rows = Array.from({ length: requests }, () => [
    {
      name: 'image',
      datatype: 'FP32' as const,
      shape: [1, 3, 32, 32],
      data: Float32Array.from({ length: 3 * 32 * 32 }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return (s / 2 ** 32) * 2 - 1;
      }),
    },
  ]);
  return { source, synthetic: false, requests: rows, labels: null };
}

test('int8-static of small_cnn: calibrated on 200 inputs, agreement ≥ 0.98 on 500 others, QLinearConv in the report', async () => {
  const report = await optimizeVersion(registry, 'cnn', undefined, {
    method: 'int8-static',
    calibration: images(200, 1, 'calibration'),
    evaluation: images(500, 2, 'eval'),
    ...QUICK,
  });
  assert.equal(report.registered, true, report.reason);
  assert.ok((report.agreement ?? 0) >= 0.98, String(report.agreement));
  assert.ok(
    Object.keys(report.quantized_kernels).some((k) => k.endsWith('QLinearConv')),
    JSON.stringify(report.quantized_kernels),
  );
  assert.equal(report.parameters['calibrate'], 'percentile');
  assert.equal(report.parameters['calibration_requests'], 200);
});

test('int8-static bad input: no calibration file, calibration of the wrong shape, --calibrate elsewhere — nothing registered', async () => {
  const before = (await registry.models.listVersions('cnn')).length;
  await assert.rejects(optimizeVersion(registry, 'cnn', undefined, { method: 'int8-static', ...QUICK }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /int8-static needs --calibration FILE/,
  });
  const wrong = images(2, 1, 'calib.jsonl');
  wrong.requests[1] = [
    { name: 'image', datatype: 'FP32', shape: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16) },
  ];
  await assert.rejects(
    optimizeVersion(registry, 'cnn', undefined, { method: 'int8-static', calibration: wrong, ...QUICK }),
    { code: 'TEND_INVALID_ARGUMENT', message: /calib\.jsonl: request 2 does not fit model 'cnn'/ },
  );
  await assert.rejects(
    optimizeVersion(registry, 'cnn', undefined, { method: 'fp16', calibrate: 'minmax', ...QUICK }),
    { code: 'TEND_INVALID_ARGUMENT', message: /apply to --method int8-static/ },
  );
  assert.equal((await registry.models.listVersions('cnn')).length, before);
});

test('prune: structured 50% of the digits hidden units is smaller with its accuracy reported; magnitude reports compressed size; bad input names the problem', async () => {
  const structured = await optimizeVersion(registry, 'digits', '1', {
    method: 'prune',
    structured: true,
    sparsity: 0.5,
    force: true,
    ...QUICK,
  });
  assert.ok(structured.size_ratio < 0.6, String(structured.size_ratio));
  assert.match(structured.notes.join('\n'), /64 → 32 units/);
  const magnitude = await optimizeVersion(registry, 'digits', '1', {
    method: 'prune',
    sparsity: 0.5,
    force: true,
    ...QUICK,
  });
  const compressed = magnitude.parameters['compressed_bytes'] as { parent: number; candidate: number };
  assert.ok(compressed.candidate < compressed.parent, JSON.stringify(compressed));
  assert.match(magnitude.notes.join('\n'), /saves only compressed size/);
  const before = (await registry.models.listVersions('encoder')).length;
  await assert.rejects(
    optimizeVersion(registry, 'encoder', undefined, { method: 'prune', structured: true, ...QUICK }),
    {
      code: 'TEND_INVALID_ARGUMENT',
      message: /--structured cannot rewrite this graph: node '.+' \(MatMul\)/,
    },
  );
  for (const sparsity of [0, 1, 1.5])
    await assert.rejects(optimizeVersion(registry, 'digits', '1', { method: 'prune', sparsity, ...QUICK }), {
      code: 'TEND_INVALID_ARGUMENT',
      message: /--sparsity .* must be between 0 and 1/,
    });
  assert.equal((await registry.models.listVersions('encoder')).length, before);
});
