/**
 * The protocols part of BENCHMARKS.md: each protocol's throughput as a share of the raw-onnxruntime
 * ceiling measured in the same rounds, compared with the share JSON reaches. Binary and gRPC pass
 * when their throughput is at least 0.95 × JSON's (relative), with no failed request and outputs
 * bit-identical to JSON's.
 */
import { MAX_ATTEMPTS, OTHER_CORES_LIMIT } from './cpu-accounting.js';
import {
  undisturbed,
  type ProtocolFigure,
  type ProtocolKey,
  type ProtocolModelResult,
  type ProtocolsResult,
} from './protocols.js';
import {
  controlledVerdict,
  controlsNote,
  controlTarget,
  splitHalf,
  tooNoisy,
  type Outcome,
  type TargetRow,
  type Verdict,
} from './report-rows.js';
import { ratio } from './statistics.js';

/** Binary and gRPC may fall short of JSON's ratio to the ceiling by at most this much (absolute). */
export const PROTOCOL_TOLERANCE = 0.05;

/** The gRPC figure the target uses: the plain client, one channel. */
export const GRPC_TARGET_PROTOCOL: ProtocolKey = 'grpc';

export interface ProtocolRow {
  model: string;
  figure: ProtocolFigure;
  /** Served items/s over the raw-ORT ceiling (batch-1 requests: req/s = items/s). */
  ratioToCeiling: number;
  /** ratioToCeiling over JSON's. */
  relativeToJson: number;
  /** null for JSON itself, the baseline. */
  verdict: Verdict | null;
  /** The stricter relative reading: ratio ≥ (1 − tolerance) × JSON's ratio (null for JSON). */
  meetsRelative: boolean | null;
  /** A/A control of this protocol's runs (split-half of its req/s in the order measured). */
  control: number;
  note: string;
}

/** A figure's A/A control over the runs its medians use (disturbed runs left out as there). */
function runsControl(figure: ProtocolFigure): number {
  return splitHalf(undisturbed(figure.runs).map((run) => run.requestsPerSecond));
}

/** One row per model and protocol, with the verdict of the rule. */
export function protocolRows(model: ProtocolModelResult): ProtocolRow[] {
  const json = model.figures.find((f) => f.protocol === 'json');
  const jsonRatio = json ? ratio(json.requestsPerSecond, model.ceilingItemsPerSecond) : Number.NaN;
  return model.figures.map((figure) => {
    const r = ratio(figure.requestsPerSecond, model.ceilingItemsPerSecond);
    const relativeToJson = ratio(r, jsonRatio);
    const control = runsControl(figure);
    if (figure.protocol === 'json') {
      return {
        model: model.model,
        figure,
        ratioToCeiling: r,
        relativeToJson,
        verdict: null,
        meetsRelative: null,
        control,
        note: figure.failures > 0 ? `${figure.failures} failed requests` : '',
      };
    }
    const notes: string[] = [];
    if (figure.failures > 0) notes.push(`${figure.failures} failed requests`);
    if ((json?.failures ?? 0) > 0) notes.push('JSON requests failed');
    if (!model.check.protocolsIdentical) notes.push('outputs differ from JSON');
    // Relative, not absolute: 5 points below JSON's share cannot fail a model whose JSON share is 0.06.
    const meetsRelative = Number.isFinite(relativeToJson) && relativeToJson >= 1 - PROTOCOL_TOLERANCE;
    // The target divides this protocol's runs by JSON's: both A/A controls must hold for it to be judged.
    const jsonControl = json ? runsControl(json) : Number.NaN;
    const verdict = controlledVerdict(notes.length === 0, [jsonControl, control], meetsRelative);
    if (verdict === 'INCONCLUSIVE') notes.push(tooNoisy());
    return {
      model: model.model,
      figure,
      ratioToCeiling: r,
      relativeToJson,
      verdict,
      meetsRelative,
      control,
      note: notes.join(', '),
    };
  });
}

const fmtRate = (x: number): string => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const fmtMs = (x: number): string =>
  !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');

const TARGET_NAME = (model: string, what: string): string =>
  `${model}: ${what} vs JSON at c=16 (share of the raw-ORT ceiling)`;
const TARGET_TEXT = `≥ ${(1 - PROTOCOL_TOLERANCE).toFixed(2)} × JSON, ${controlTarget()}`;

/** The target rows (binary and gRPC of each model); none when the section was not asked for. */
export function protocolTargets(
  outcome: Outcome<ProtocolsResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  if (!('data' in outcome)) {
    return [
      {
        name: TARGET_NAME('small_cnn, text_encoder_6l', 'binary and gRPC'),
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target: TARGET_TEXT,
        verdict: 'NOT RUN',
        note: whyMissing(outcome),
      },
    ];
  }
  const rows: TargetRow[] = [];
  for (const model of outcome.data.models) {
    const all = protocolRows(model);
    const json = all.find((r) => r.figure.protocol === 'json');
    for (const key of ['binary', GRPC_TARGET_PROTOCOL] as const) {
      const row = all.find((r) => r.figure.protocol === key);
      if (row === undefined || json === undefined || row.verdict === null) continue;
      rows.push({
        name: TARGET_NAME(model.model, row.figure.label),
        figure: `${fmtRate(row.figure.requestsPerSecond)} req/s = ${fmtRatio(row.ratioToCeiling)} of the ceiling`,
        baseline: `JSON ${fmtRate(json.figure.requestsPerSecond)} req/s = ${fmtRatio(json.ratioToCeiling)}; raw ORT ${fmtRate(model.ceilingItemsPerSecond)} items/s (batch ${model.ceilingBatch})`,
        ratio: row.relativeToJson,
        target: TARGET_TEXT,
        verdict: row.verdict,
        note: [
          controlsNote([
            ['JSON', json.control],
            [row.figure.label, row.control],
          ]),
          row.note,
          `share of the ceiling ${fmtRatio(row.ratioToCeiling)} vs JSON's ${fmtRatio(json.ratioToCeiling)}`,
        ]
          .filter((n) => n !== '')
          .join('; '),
      });
    }
  }
  for (const name of outcome.data.skippedModels) {
    rows.push({
      name: TARGET_NAME(name, 'binary and gRPC'),
      figure: '—',
      baseline: '—',
      ratio: Number.NaN,
      target: TARGET_TEXT,
      verdict: 'NOT RUN',
      note: `${name}.onnx is absent`,
    });
  }
  return rows;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

/** The section's Markdown (heading included). */
export function renderProtocols(
  outcome: Outcome<ProtocolsResult> | undefined,
  runs: number,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 5. Protocols: JSON, binary tensors and gRPC at 16 clients', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const data = outcome.data;
  out.push(
    `One \`tend serve\` (HTTP and gRPC on) serves the models with dynamic batching on (max batch ${data.maxBatchSize}, delay ${data.delayUs} µs, ` +
      `one instance). ${data.clients} clients send batch-1 requests, the same input over every protocol: V2 JSON (wrk, ${data.clients} connections); ` +
      `the binary tensor extension (wrk: a JSON header with \`binary_data_size\` and \`binary_data_output: true\`, then the raw bytes); ` +
      `gRPC \`ModelInfer\` with \`raw_input_contents\` from tend's load generator (\`bench/grpc-load.ts\`, @grpc/grpc-js, a separate process, ` +
      `${data.clients} calls kept in flight on one HTTP/2 channel, or split over two channels; the request is encoded once and answers are not decoded, as wrk does not parse bodies). ` +
      `The ceiling is raw onnxruntime in the bench process at the model's best batch of the compute sweep. Each round measures the ceiling ` +
      `(half a run) and then every protocol (one run each) in turn; figures are medians of ${runs} round(s). Runs last ` +
      data.models.map((m) => `${m.runSeconds} s for ${m.model}`).join(', ') +
      ' (a slow model gets longer runs: its requests complete in whole batches, and a short run would count too few of them).',
    '',
    `**Rule:** ratio = served req/s (= items/s) ÷ ceiling items/s. Binary and gRPC **PASS** when their ratio ≥ ${(1 - PROTOCOL_TOLERANCE).toFixed(2)} × JSON's ratio ` +
      "(relative: at most 5% below JSON, or better), with no failed request and outputs bit-identical to JSON's; the target rows use gRPC on one channel. " +
      "**A/A** is the median of a protocol's odd-numbered runs over the median of its even-numbered ones (the same server and client against themselves): " +
      'a row is judged only when the A/A controls of both JSON and the protocol are within ±5%, and says INCONCLUSIVE otherwise (which fails the bench). ' +
      '"vs JSON" is the ratio divided by JSON\'s. The last column reads the acceptance as relative (≥ 0.95 × JSON\'s ratio), ' +
      "which is stricter wherever JSON's ratio is below 1: it is shown for information and does not change the result. " +
      '"Server CPU ms/req" is the tend process\'s CPU (all threads, inference included) per request served; "client cores" is the load generator\'s CPU ' +
      '(wrk: its whole process; gRPC: its measured window); "other cores" is what the rest of the machine used meanwhile (medians over the runs).',
    '',
  );
  const rows = data.models.flatMap((m) => protocolRows(m));
  out.push(
    table(
      [
        'model',
        'protocol',
        'req/s',
        'p50 ms',
        'p99 ms',
        'mean batch',
        'server CPU ms/req',
        'client cores',
        'other cores',
        'ceiling items/s',
        'ratio to ceiling',
        'vs JSON',
        'A/A (runs split in half)',
        'result (rule above)',
        `relative reading (≥ ${(1 - PROTOCOL_TOLERANCE).toFixed(2)} × JSON)`,
      ],
      rows.map((r) => {
        const model = data.models.find((m) => m.model === r.model);
        return [
          r.model,
          r.figure.label,
          fmtRate(r.figure.requestsPerSecond) +
            (r.figure.failures > 0 ? ` (${r.figure.failures} failed)` : ''),
          fmtMs(r.figure.p50Ms),
          fmtMs(r.figure.p99Ms),
          r.figure.meanBatchSize === null ? '—' : r.figure.meanBatchSize.toFixed(1),
          r.figure.serverCpuMsPerRequest === null ? '—' : r.figure.serverCpuMsPerRequest.toFixed(3),
          r.figure.clientCpuCores === null ? '—' : r.figure.clientCpuCores.toFixed(2),
          (r.figure.otherCores === null ? '—' : r.figure.otherCores.toFixed(2)) +
            (r.figure.disturbedRuns > 0 ? ` (${r.figure.disturbedRuns} run(s) disturbed)` : ''),
          model ? `${fmtRate(model.ceilingItemsPerSecond)} (batch ${model.ceilingBatch})` : '—',
          fmtRatio(r.ratioToCeiling),
          fmtRatio(r.relativeToJson),
          fmtRatio(r.control),
          r.verdict === null ? 'baseline' : `**${r.verdict}**${r.note ? ` — ${r.note}` : ''}`,
          r.meetsRelative === null ? '—' : r.meetsRelative ? 'meets' : 'misses',
        ];
      }),
    ),
    '',
  );
  out.push(
    'Outputs for one fixed batch-1 input, compared byte for byte (the only check of text_encoder_6l, whose file the tests may not read):',
    '',
    table(
      ['model', 'outputs', 'JSON = binary = gRPC', '= raw onnxruntime', 'differences'],
      data.models.map((m) => [
        m.model,
        m.check.outputs.join(', '),
        m.check.protocolsIdentical ? 'bit-identical' : '**differ**',
        m.check.matchesRawOrt ? 'bit-identical' : 'differ',
        m.check.differences.join('; ') || '—',
      ]),
    ),
    '',
  );
  for (const name of data.skippedModels)
    out.push(`_${name}: skipped, its ONNX file is absent (read from ../shared/models/ only)._`, '');
  out.push(
    'Notes: the machine has 2 cores. wrk and the gRPC load generator run on them beside the server (and the ceiling runs on them alone), so ' +
      "every protocol pays for its client out of the server's CPU: a heavier client (the Node gRPC one vs the C wrk) lowers its own figure. " +
      `Other jobs share this machine in bursts: a run (or ceiling sample) during which other processes used more than ${OTHER_CORES_LIMIT} cores was measured again, ` +
      `up to ${MAX_ATTEMPTS} times in all, and a run still disturbed after that is left out of the medians (unless every run of the figure was); ` +
      data.models
        .map((m) => {
          const attempts = m.figures.reduce((n, f) => n + f.attempts, 0);
          const runs = m.figures.reduce((n, f) => n + f.runs.length, 0);
          const disturbed =
            m.figures.reduce((n, f) => n + f.disturbedRuns, 0) +
            m.ceilingSamples.filter((c) => c.disturbed).length;
          return `${m.model}: ${attempts} protocol runs measured for ${runs} kept, ${disturbed} run(s) and ceiling sample(s) still disturbed`;
        })
        .join('; ') +
      '. Per-round ceilings (* = disturbed): ' +
      data.models
        .map(
          (m) =>
            `${m.model} ${m.ceilingSamples.map((c) => fmtRate(c.itemsPerSecond) + (c.disturbed ? '*' : '')).join(', ')} items/s (sweep best ${fmtRate(m.ceilingSweepItemsPerSecond)})`,
        )
        .join('; ') +
      '.',
    '',
  );
  return out;
}
