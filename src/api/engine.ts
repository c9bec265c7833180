/**
 * The engine in a script's own process: models of a registry home (and repositories) loaded on
 * onnxruntime, requests run through the same batching, validation and outputs as the servers use,
 * with no HTTP in between.
 */
import { parseWith, ServerConfigSchema, type ServerConfig, type ServerConfigInput } from '../core/config.js';
import type { ModelSignature } from '../core/signature.js';
import { Engine as ServingEngine, type InferRequest, type InferResponse } from '../engine/index.js';
import { resolveHomeDir } from './registry.js';

/** How `Engine.open` opens the engine. */
export interface EngineOpenOptions {
  /** Registry home (default: `$TEND_HOME`, else `./.tend`). */
  home?: string;
  /** Triton-like model repositories served in place, beside the registry's models. */
  repos?: string[];
  /** Open only these models (default: every model of the registry and the repositories). */
  models?: string[];
  /** Server settings (batching, limits, per-model config…); `TEND_*` environment variables are not read. */
  config?: ServerConfigInput;
  /** Log predictions to the home's prediction log for monitoring (default false). */
  monitoring?: boolean;
}

/** The settings the library applies: the given config over the defaults, quiet unless asked. */
export function libraryConfig(
  input: ServerConfigInput | undefined,
  home: string,
  repos: readonly string[] | undefined,
): ServerConfig {
  return parseWith(
    ServerConfigSchema,
    { log_level: 'silent', ...input, home, ...(repos !== undefined ? { repos: [...repos] } : {}) },
    'server config',
  );
}

/**
 * In-process inference on the models of a registry home. A version loads on its first request.
 * @example
 * const engine = await Engine.open({ home: './.tend' });
 * try {
 *   const response = await engine.infer('digits', {
 *     inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) }],
 *   });
 *   console.log(response.outputs[0]?.shape); // [1, 10]
 * } finally {
 *   await engine.close();
 * }
 */
export class Engine {
  readonly #engine: ServingEngine;

  private constructor(engine: ServingEngine) {
    this.#engine = engine;
  }

  /** Open the registry of a home and find its models (and the repositories'); nothing loads yet. */
  static async open(options: EngineOpenOptions = {}): Promise<Engine> {
    const home = resolveHomeDir(options.home);
    const config = libraryConfig(options.config, home, options.repos);
    const engine = await ServingEngine.open({
      home,
      repos: config.repos,
      config,
      monitoring: options.monitoring ?? false,
      ...(options.models !== undefined ? { only: options.models } : {}),
    });
    return new Engine(engine);
  }

  /**
   * Run one request on a model. `version` is a number (`'2'`), an alias (`'production'`) or, by default,
   * what the model's version policy serves. Inputs are validated against the version's signature.
   */
  async infer(model: string, request: InferRequest, version?: string): Promise<InferResponse> {
    const target = await this.#engine.resolve(model, version);
    return this.#engine.infer(target, request);
  }

  /** The inputs and outputs a model's version takes and returns (loads the version). */
  async signature(model: string, version?: string): Promise<ModelSignature> {
    return (await this.#engine.resolve(model, version)).signature;
  }

  /** Finish queued requests, unload every model, stop the workers and close the registry. */
  close(): Promise<void> {
    return this.#engine.close();
  }
}
