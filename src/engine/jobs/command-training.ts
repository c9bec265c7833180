/**
 * `tend train --command CMD`: any training program under tend's external command contract
 * (external-command.ts), run once with TEND_PARAMS from `--params`. Its model.onnx is registered as a
 * new version with a run (kind `train:command`) holding its metrics.json and its tend:step= values as
 * epochs. A crash, a malformed metrics.json or no model.onnx fails the run with the reason and
 * registers nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { errors, TendError, toTendError } from '../../core/errors.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Registry } from '../../registry/index.js';
import { runContractCommand } from './external-command.js';
import { pushTrained, sha256Hex } from './training-job.js';

export interface CommandTrainingOptions {
  command: string;
  name: string;
  params?: Record<string, unknown>;
  data?: string;
  target?: string;
  alias?: string;
  actor?: string;
}

export interface CommandTrainingResult {
  name: string;
  version: number;
  run: string;
  metrics: Record<string, number>;
}

export async function trainCommandAndRegister(
  registry: Registry,
  options: CommandTrainingOptions,
): Promise<CommandTrainingResult> {
  if (options.command.trim() === '') throw errors.invalidArgument('--command must not be empty');
  const params = options.params ?? {};
  const data = options.data === undefined ? undefined : resolve(options.data);
  let datasetSha256: string | null = null;
  if (data !== undefined) {
    try {
      datasetSha256 = sha256Hex(readFileSync(data));
    } catch (err) {
      throw errors.invalidArgument(
        `cannot read --data ${data}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  const run = await registry.runs.start({
    modelName: options.name,
    kind: 'train:command',
    parameters: { ...params, command: options.command },
    datasetSha256,
    datasetRows: null,
    datasetSource: data ?? 'command',
    codeVersion: `tend ${TEND_VERSION}`,
    createdBy: options.actor ?? 'local',
  });
  const dir = mkdtempSync(join(tmpdir(), 'tend-command-'));
  const started = performance.now();
  try {
    const result = await runContractCommand({
      command: options.command,
      outputDir: join(dir, 'out'),
      params,
      ...(data !== undefined ? { data } : {}),
      ...(options.target !== undefined ? { target: options.target } : {}),
    }).catch((err: unknown) => {
      throw errors.invalidArgument((err as Error).message, { hint: 'run the command by hand to see why' });
    });
    if (result.metricsError !== null) throw errors.invalidArgument(result.metricsError);
    const model = join(dir, 'out', 'model.onnx');
    if (!existsSync(model))
      throw errors.invalidArgument('the command wrote no model.onnx to TEND_OUTPUT_DIR', {
        hint: 'write the trained model to $TEND_OUTPUT_DIR/model.onnx',
      });
    const last = result.steps.at(-1);
    const metrics = result.metrics ?? (last !== undefined ? { metric: last[1] } : {});
    const version = await pushTrained(registry, readFileSync(model), {
      name: options.name,
      alias: options.alias,
      runId: run.run_id,
      metrics,
      tags: { 'train.command': options.command.slice(0, 200) },
      source: `tend train --command: ${options.command}`,
      actor: options.actor,
    });
    await registry.runs.finish(run.run_id, {
      metrics,
      epochs: result.steps.map(([step, value]) => ({ step, metric: value })),
      producedVersion: version,
      durationMs: Math.round(performance.now() - started),
    });
    return { name: options.name, version, run: run.run_id, metrics };
  } catch (err) {
    const e = err instanceof TendError ? err : toTendError(err);
    await registry.runs.fail(run.run_id, e.message).catch(() => undefined);
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
