/**
 * Online learning of a served, tend-trained model: `POST /v2/models/{m}/learn` sends labelled
 * samples; each is first predicted (progressive validation) then learned with one SGD step. The
 * learner works on its own copy of the weights (copy-on-write: the served version never changes)
 * and every `snapshot_every` samples cuts a new registry version — lineage to the version it grew
 * from, one run per snapshot — and optionally moves an alias to it, which loads and warms it first.
 *
 * One learner per model; requests for a model are applied one after another, in arrival order.
 */
import { createHash, type Hash } from 'node:crypto';
import type { OnlineLearningConfig } from '../../core/config.js';
import { OnlineLearningSchema } from '../../core/config.js';
import { errors, toTendError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Registry } from '../../registry/index.js';
import { exportTrainedModel, OnlineLearner, type TrainedModel } from '../../train/index.js';
import { pushTrained } from './training-job.js';
import { loadTrainedVersion } from './update-job.js';

export interface LearnSnapshot {
  version: number;
  run: string;
  samples: number;
}

export interface LearnResult {
  model: string;
  /** The version the current learner started from. */
  base_version: number;
  learned: number;
  samples_seen: number;
  progressive: Record<string, number>;
  /** Versions cut by this request. */
  snapshots: LearnSnapshot[];
}

interface LearnerState {
  learner: OnlineLearner;
  model: TrainedModel;
  baseVersion: number;
  /** The version the next snapshot derives from: the last snapshot, else the base. */
  parentVersion: number;
  runId: string;
  sinceSnapshot: number;
  samplesSeen: number;
  segmentHash: Hash;
  segmentStarted: number;
}

export interface OnlineLearningHost {
  registry: Registry;
  logger: Logger;
  /** The model's online_learning config (defaults when the model has none). */
  configOf(model: string): OnlineLearningConfig | undefined;
  /** Move an alias to a version once it serves (the engine's moveAlias). */
  publish(model: string, alias: string, version: number): Promise<unknown>;
}

function parseSamples(
  body: unknown,
  model: TrainedModel,
  name: string,
  max: number,
): { features: Float64Array[]; labels: number[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw errors.invalidInput(
      'the body must be a JSON object {"samples": [{"features": [...], "label": ...}]}',
    );
  const samples = (body as { samples?: unknown }).samples;
  if (!Array.isArray(samples) || samples.length === 0)
    throw errors.invalidInput('\'samples\' must be a non-empty array of {"features": [...], "label": ...}');
  if (samples.length > max)
    throw errors.invalidInput(
      `${samples.length} samples in one request; at most ${max} (online_learning.max_samples_per_request)`,
    );
  const width = model.featureColumns.length;
  const features: Float64Array[] = [];
  const labels: number[] = [];
  samples.forEach((sample: unknown, i) => {
    const at = `samples[${i}]`;
    if (typeof sample !== 'object' || sample === null)
      throw errors.invalidInput(`${at} must be an object with 'features' and 'label'`);
    const { features: f, label } = sample as { features?: unknown; label?: unknown };
    if (!Array.isArray(f) || f.length !== width)
      throw errors.invalidInput(
        `${at}.features must be an array of ${width} numbers (${model.featureColumns.slice(0, 4).join(', ')}${width > 4 ? ', …' : ''}) for model '${name}'`,
      );
    const row = new Float64Array(width);
    f.forEach((v: unknown, k) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw errors.invalidInput(`${at}.features[${k}] must be a finite number, got ${JSON.stringify(v)}`);
      row[k] = v;
    });
    features.push(row);
    labels.push(labelIndex(label, model, at));
  });
  return { features, labels };
}

/** A class name, or a number naming a class (digits' classes are '0'..'9'), or a regression value. */
function labelIndex(label: unknown, model: TrainedModel, at: string): number {
  if (model.task === 'regression') {
    if (typeof label !== 'number' || !Number.isFinite(label))
      throw errors.invalidInput(`${at}.label must be a finite number (the regression target)`);
    return label;
  }
  const classes = model.classes ?? [];
  if (typeof label === 'string' || typeof label === 'number') {
    const byName = classes.indexOf(String(label));
    if (byName >= 0) return byName;
    if (typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < classes.length)
      return label;
  }
  throw errors.invalidInput(
    `${at}.label ${JSON.stringify(label)} is not one of the model's classes (${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''}) nor a class index`,
  );
}

export class OnlineLearning {
  private readonly learners = new Map<string, LearnerState>();
  /** Per-model chain: requests for one model apply in order. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly host: OnlineLearningHost) {}

  /** Learn the samples of one request on `name`'s learner (created from `versionRef`, else champion, else latest). */
  learn(name: string, versionRef: string | undefined, body: unknown): Promise<LearnResult> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.learnNow(name, versionRef, body));
    this.queues.set(name, next);
    return next;
  }

  private async learnNow(name: string, versionRef: string | undefined, body: unknown): Promise<LearnResult> {
    const config = OnlineLearningSchema.parse(this.host.configOf(name) ?? {});
    const state = await this.stateFor(name, versionRef, config);
    const { features, labels } = parseSamples(body, state.model, name, config.max_samples_per_request);
    const snapshots: LearnSnapshot[] = [];
    for (let i = 0; i < features.length; i++) {
      const row = features[i] as Float64Array;
      const label = labels[i] as number;
      state.learner.learn(row, label);
      state.segmentHash
        .update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength))
        .update(String(label));
      state.sinceSnapshot += 1;
      state.samplesSeen += 1;
      if (state.sinceSnapshot >= config.snapshot_every)
        snapshots.push(await this.snapshot(name, state, config));
    }
    return {
      model: name,
      base_version: state.baseVersion,
      learned: features.length,
      samples_seen: state.samplesSeen,
      progressive: numeric(state.learner.progressive()),
      snapshots,
    };
  }

  private async stateFor(
    name: string,
    versionRef: string | undefined,
    config: OnlineLearningConfig,
  ): Promise<LearnerState> {
    const known = this.learners.get(name);
    if (known && (versionRef === undefined || versionRef === String(known.baseVersion))) return known;
    let ref = versionRef;
    if (ref === undefined) {
      const champion = await this.host.registry.models.resolveVersion(name, 'champion').catch(() => null);
      ref = champion === null ? 'latest' : String(champion.version);
    }
    const base = await loadTrainedVersion(this.host.registry, name, ref);
    const state: LearnerState = {
      learner: new OnlineLearner(
        base.model,
        config.learning_rate !== undefined ? { learningRate: config.learning_rate } : {},
      ),
      model: base.model,
      baseVersion: base.version,
      parentVersion: base.version,
      runId: await this.startSegment(name, base.version, config),
      sinceSnapshot: 0,
      samplesSeen: 0,
      segmentHash: createHash('sha256'),
      segmentStarted: performance.now(),
    };
    this.learners.set(name, state);
    return state;
  }

  private async startSegment(name: string, parent: number, config: OnlineLearningConfig): Promise<string> {
    const run = await this.host.registry.runs.start({
      modelName: name,
      kind: 'update:online',
      parameters: {
        mode: 'online',
        snapshot_every: config.snapshot_every,
        ...(config.learning_rate !== undefined ? { learning_rate: config.learning_rate } : {}),
      },
      datasetSha256: null,
      datasetRows: null,
      datasetSource: 'stream',
      parentVersion: parent,
      codeVersion: `tend ${TEND_VERSION}`,
      createdBy: 'tend',
    });
    return run.run_id;
  }

  /** Cut a version from the learner's current weights; the learner goes on from them. */
  private async snapshot(
    name: string,
    state: LearnerState,
    config: OnlineLearningConfig,
  ): Promise<LearnSnapshot> {
    const samples = state.sinceSnapshot;
    const progressive = numeric(state.learner.progressive());
    const model = state.learner.snapshot();
    const runId = state.runId;
    try {
      const version = await pushTrained(
        this.host.registry,
        exportTrainedModel(model, { 'tend.run': runId }),
        {
          name,
          runId,
          parentVersion: state.parentVersion,
          metrics: Object.fromEntries(Object.entries(progressive).map(([k, v]) => [`progressive_${k}`, v])),
          tags: { 'train.model': model.kind, 'train.task': model.task, 'update.mode': 'online' },
          source: `tend online learning: ${samples} samples`,
          actor: 'tend',
        },
      );
      await this.host.registry.runs.finish(runId, {
        metrics: progressive,
        epochs: [{ samples, ...progressive }],
        producedVersion: version,
        durationMs: Math.round(performance.now() - state.segmentStarted),
        datasetSha256: state.segmentHash.digest('hex'),
        datasetRows: samples,
      });
      if (config.publish_alias !== undefined) await this.host.publish(name, config.publish_alias, version);
      this.host.logger.info(
        { model: name, version, parent_version: state.parentVersion, samples, run: runId },
        'online learning snapshot registered',
      );
      state.parentVersion = version;
      return { version, run: runId, samples };
    } catch (err) {
      const e = toTendError(err);
      await this.host.registry.runs.fail(runId, e.message).catch(() => undefined);
      throw e;
    } finally {
      state.sinceSnapshot = 0;
      state.segmentHash = createHash('sha256');
      state.segmentStarted = performance.now();
      state.runId = await this.startSegment(name, state.parentVersion, config);
    }
  }
}

function numeric(values: object): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)),
  ) as Record<string, number>;
}
