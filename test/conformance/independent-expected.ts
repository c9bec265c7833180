/**
 * Checks tend's decoding of the expected outputs against ONNX's own Python reader
 * (expected_outputs.py under /usr/bin/python3), so that a bug in tend's TensorProto reader cannot turn
 * cases into excused "direct failures". Exact comparison: both sides decode the same bits.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { halfBitsToFloat } from '../../src/core/fp16.js';
import type { Tensor } from '../../src/core/tensor.js';

export const PYTHON = '/usr/bin/python3';

interface PythonTensor {
  datatype: string;
  shape: number[];
  values: (number | string | boolean)[] | null;
}

/** Why the independent reader cannot run here, or undefined. */
export function independentReaderMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import onnx, numpy'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import onnx and numpy (apt-get install python3-onnx)`;
  return undefined;
}

/** Decode every case's expected outputs with ONNX's Python reader. */
export function pythonExpected(dataDir: string, cases: readonly string[]): Map<string, PythonTensor[]> {
  const script = join(import.meta.dirname, 'expected_outputs.py');
  const run = spawnSync(PYTHON, [script, dataDir], {
    input: cases.join('\n'),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (run.status !== 0) throw new Error(`expected_outputs.py failed: ${run.stderr}`);
  return new Map(Object.entries(JSON.parse(run.stdout) as Record<string, PythonTensor[]>));
}

function tendValue(t: Tensor, i: number): number | string | boolean {
  const data = t.data;
  if (Array.isArray(data)) return data[i] as string;
  const v = (data as ArrayLike<number | bigint>)[i] as number | bigint;
  if (typeof v === 'bigint') return v.toString();
  if (t.datatype === 'BOOL') return v !== 0;
  const f = t.datatype === 'FP16' ? halfBitsToFloat(v) : v;
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return 'Infinity';
  if (f === Number.NEGATIVE_INFINITY) return '-Infinity';
  return f;
}

/** Differences between tend's decoding and Python's, per output; empty when they agree exactly. */
export function compareWithPython(expected: readonly Tensor[], python: readonly PythonTensor[]): string[] {
  if (expected.length !== python.length)
    return [`${expected.length} outputs decoded by tend, ${python.length} by onnx`];
  const diffs: string[] = [];
  expected.forEach((t, k) => {
    const p = python[k] as PythonTensor;
    if (p.values === null)
      return diffs.push(`output ${k}: onnx gives dtype ${p.datatype}, which V2 cannot carry`);
    if (t.datatype !== p.datatype)
      return diffs.push(`output ${k}: datatype ${t.datatype} (tend) vs ${p.datatype} (onnx)`);
    if (t.shape.join(',') !== p.shape.join(','))
      return diffs.push(`output ${k}: shape [${t.shape.join(',')}] (tend) vs [${p.shape.join(',')}] (onnx)`);
    for (let i = 0; i < p.values.length; i++) {
      if (tendValue(t, i) !== p.values[i])
        return diffs.push(
          `output ${k} element ${i}: ${String(tendValue(t, i))} (tend) vs ${String(p.values[i])} (onnx)`,
        );
    }
    return undefined;
  });
  return diffs;
}
