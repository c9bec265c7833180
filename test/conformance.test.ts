/**
 * ONNX conformance: every node test case of ONNX's backend suite (Debian's libonnx-testdata) that V2
 * can carry runs through onnxruntime-node directly and through a real tend server over the binary
 * tensor extension; the server must lose no case that onnxruntime passes. Writes
 * test-artifacts/conformance.json.
 *
 * TEND_CONFORMANCE_FILTER=substring runs the cases whose name contains it (e.g. `resize`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import {
  type CarriableCase,
  NODE_CASES_DIR,
  discoverCases,
  loadCase,
  reasonCategory,
} from './conformance/cases.js';
import { DEFAULT_TOLERANCE, compareOutputs } from './conformance/compare.js';
import { runDirect } from './conformance/direct.js';
import {
  compareWithPython,
  independentReaderMissing,
  pythonExpected,
} from './conformance/independent-expected.js';
import { runChunkThroughServer } from './conformance/server-run.js';
import { type CaseResult, type Verdict, countsLine, summarize } from './conformance/summary.js';
import type { Tensor } from '../src/core/tensor.js';

/**
 * Models per server. Each model costs a worker thread (~30 MB, a few hundred ms of CPU to start
 * under tsx); 40 keeps memory near 1 GB while loading stays parallel.
 */
const CASES_PER_SERVER = 40;

const filter = process.env['TEND_CONFORMANCE_FILTER'];
/**
 * Direct passes the suite must reach (onnxruntime 1.30 passes 859 of the 902 countable cases here):
 * a floor, so that a broken runner or reader cannot pass by failing everything on both sides.
 */
const DIRECT_PASS_FLOOR = 850;
const inCi = process.env['CI'] === 'true';
const missingData = existsSync(NODE_CASES_DIR)
  ? undefined
  : `${NODE_CASES_DIR} is missing: install Debian's libonnx-testdata (apt-get install libonnx-testdata)`;
const missingReader = independentReaderMissing();
const missing = missingData ?? missingReader;
// Under CI a missing reference fails the run: CI installs both, and a silent skip would hide it.
const skip = missing !== undefined && !inCi ? missing : false;

/** Pass when the run succeeded and every expected output agrees; else the reason. */
function judge(
  outcome: { ok: true; outputs: Tensor[] } | { ok: false; error: string },
  expected: readonly Tensor[],
): { verdict: Verdict; error?: string } {
  if (!outcome.ok) return { verdict: 'fail', error: outcome.error };
  const diffs = compareOutputs(outcome.outputs, expected);
  return diffs.length === 0 ? { verdict: 'pass' } : { verdict: 'fail', error: diffs.join('; ') };
}

test(
  'ONNX backend node cases: the server loses none that onnxruntime-node passes directly',
  { skip, timeout: 15 * 60_000 },
  async () => {
    assert.equal(missing, undefined, `CI=true and a reference is missing: ${missing ?? ''}`);
    const started = performance.now();
    const names = discoverCases(NODE_CASES_DIR, filter);
    assert.ok(names.length > 0, `no case matches TEND_CONFORMANCE_FILTER=${filter ?? ''}`);
    const carriable: CarriableCase[] = [];
    const notCarriable: { case: string; reason: string; category: string }[] = [];
    for (const name of names) {
      const c = loadCase(NODE_CASES_DIR, name);
      if (c.carriable) carriable.push(c);
      else notCarriable.push({ case: name, reason: c.reason, category: reasonCategory(c.reason) });
    }

    // tend's reader of the expected outputs against ONNX's own (Python): they must agree exactly.
    const python = pythonExpected(
      NODE_CASES_DIR,
      carriable.map((c) => c.name),
    );
    const readerDiffs = carriable.flatMap((c) =>
      compareWithPython(c.expected, python.get(c.name) ?? []).map((d) => `  ${c.name}: ${d}`),
    );
    assert.equal(
      readerDiffs.length,
      0,
      `tend decodes ${readerDiffs.length} expected output(s) differently from onnx's numpy_helper:\n${readerDiffs.slice(0, 20).join('\n')}`,
    );

    const results = new Map<string, CaseResult>();
    for (const c of carriable) {
      const direct = judge(await runDirect(c), c.expected);
      const result: CaseResult = { case: c.name, direct: direct.verdict, server: 'fail' };
      if (direct.error !== undefined) result.direct_error = direct.error;
      results.set(c.name, result);
    }

    for (let i = 0; i < carriable.length; i += CASES_PER_SERVER) {
      const chunk = carriable.slice(i, i + CASES_PER_SERVER);
      const outcomes = await runChunkThroughServer(chunk);
      for (const c of chunk) {
        const result = results.get(c.name) as CaseResult;
        const server = judge(
          outcomes.get(c.name) ?? { ok: false, error: 'no answer from the server' },
          c.expected,
        );
        result.server = server.verdict;
        if (server.error !== undefined) result.server_error = server.error;
      }
    }

    const summary = summarize({
      dataDir: NODE_CASES_DIR,
      filter,
      tolerance: DEFAULT_TOLERANCE,
      durationSeconds: (performance.now() - started) / 1000,
      notCarriable,
      results: [...results.values()],
    });
    const artifacts = join(ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'conformance.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(countsLine(summary));

    const lost = summary.server_lost.map((r) => `  ${r.case}: ${(r.server_error ?? '').slice(0, 400)}`);
    assert.equal(
      lost.length,
      0,
      `the server loses ${lost.length} case(s) that onnxruntime-node passes directly:\n${lost.join('\n')}`,
    );
    if (filter === undefined) {
      const directPasses = [...results.values()].filter((r) => r.direct === 'pass').length;
      assert.ok(
        directPasses >= DIRECT_PASS_FLOOR,
        `only ${directPasses} of ${carriable.length} countable cases pass directly; the floor is ${DIRECT_PASS_FLOOR}`,
      );
    }
  },
);
