/**
 * Configuration as data: one schema per file kind, defaults in one place.
 *
 * - `ModelConfig`: a model's `config.yaml` (Triton-like field names), in a repository folder
 *   `<repo>/<model>/config.yaml` or under `models.<name>` of the server config.
 * - `ServerConfig`: the file given to `tend serve --config FILE`.
 *
 * Precedence for the server: flags > TEND_* environment variables > config file > defaults.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AlertsConfigSchema } from './alert-rules.js';
import { ModelMonitoringSchema } from './model-monitoring-config.js';
import { errors } from './errors.js';

export {
  ModelMonitoringSchema,
  RedactRuleSchema,
  type ModelMonitoringConfig,
  type RedactRule,
} from './model-monitoring-config.js';

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

export const DynamicBatchingSchema = z
  .object({
    /** How long the first request of a batch may wait for others (0: batch what is already waiting). */
    max_queue_delay_microseconds: nonNegativeInt.default(0),
    /** Batch sizes the batcher aims for; it dispatches as soon as one is reached. */
    preferred_batch_size: z.array(positiveInt).default([]),
    /** Requests waiting beyond this answer 503 + Retry-After (0: unbounded). */
    max_queue_size: nonNegativeInt.default(1024),
    /** Requests still queued after this answer 504 (0: no timeout). */
    default_timeout_microseconds: nonNegativeInt.default(0),
    /** Number of priority levels; 1 is highest. Requests pick one with `parameters.priority`. */
    priority_levels: positiveInt.default(1),
    /** Level of requests that name none (defaults to the lowest level). */
    default_priority_level: positiveInt.optional(),
  })
  .strict();

export const InstanceGroupSchema = z
  .object({
    /** Instances (sessions) for this model version. */
    count: positiveInt.default(1),
    /**
     * thread (default, fastest): a worker thread in the server's process; a native crash there takes
     * the whole server down. process: a child process per instance; a crash, a hang past
     * hang_timeout_ms or RSS over memory_limit_mb fails only this model's in-flight requests, and the
     * instance restarts with backoff.
     */
    isolation: z.enum(['thread', 'process']).default('thread'),
    /** process isolation: kill and restart the instance when its resident memory passes this. */
    memory_limit_mb: positiveInt.optional(),
    /** process isolation: kill and restart the instance when one batch runs longer than this. */
    hang_timeout_ms: positiveInt.optional(),
  })
  .strict();

export const GraphOptimizationLevelSchema = z.enum(['disabled', 'basic', 'extended', 'all']);

export const SessionParametersSchema = z
  .object({
    intra_op_thread_count: nonNegativeInt.optional(),
    inter_op_thread_count: nonNegativeInt.optional(),
    graph_optimization_level: GraphOptimizationLevelSchema.default('all'),
  })
  .strict();

export const VersionPolicySchema = z.union([
  z.object({ latest: z.object({ num_versions: positiveInt }).strict() }).strict(),
  z.object({ all: z.object({}).strict() }).strict(),
  z.object({ specific: z.object({ versions: z.array(positiveInt).min(1) }).strict() }).strict(),
]);

export const OnlineLearningSchema = z
  .object({
    /** A new version is cut after this many learned samples. */
    snapshot_every: positiveInt.default(1000),
    /** SGD step size (default: the trainer's online default). */
    learning_rate: z.number().positive().optional(),
    /** Move this alias to every new snapshot (it loads and warms first). */
    publish_alias: z.string().min(1).optional(),
    /** Samples one learn request may carry (each is one SGD step on the server's main thread). */
    max_samples_per_request: positiveInt.max(100_000).default(1000),
    /** Learn from the feedback stream too: each accepted ground truth, with the row's logged features. */
    from_feedback: z.boolean().default(false),
  })
  .strict();

export const ModelConfigSchema = z
  .object({
    /** Largest batch; 0 = the model has no batch dimension and clients send full shapes. */
    max_batch_size: nonNegativeInt.optional(),
    /** Dynamic batching policy; `false` turns it off (each request runs alone). */
    dynamic_batching: z.union([z.literal(false), DynamicBatchingSchema]).optional(),
    instance_group: z.array(InstanceGroupSchema).min(1).optional(),
    parameters: SessionParametersSchema.optional(),
    version_policy: VersionPolicySchema.optional(),
    /** Class names by index for the classification extension (else the model's `classes` metadata). */
    labels: z.array(z.string()).optional(),
    /** `POST /v2/models/{m}/learn`: per-sample SGD on a tend-trained model, snapshots as new versions. */
    online_learning: OnlineLearningSchema.optional(),
    /** What the prediction log keeps of this model's rows (redaction, retention). */
    monitoring: ModelMonitoringSchema.optional(),
  })
  .strict();

export type DynamicBatchingConfig = z.infer<typeof DynamicBatchingSchema>;
export type InstanceGroupConfig = z.infer<typeof InstanceGroupSchema>;
export type SessionParameters = z.infer<typeof SessionParametersSchema>;
export type GraphOptimizationLevel = z.infer<typeof GraphOptimizationLevelSchema>;
export type VersionPolicy = z.infer<typeof VersionPolicySchema>;
export type OnlineLearningConfig = z.infer<typeof OnlineLearningSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Default largest batch for a model whose first input dimension is symbolic. */
export const DEFAULT_MAX_BATCH_SIZE = 64;
export const DEFAULT_VERSION_POLICY: VersionPolicy = { latest: { num_versions: 1 } };
export const DEFAULT_DYNAMIC_BATCHING: DynamicBatchingConfig = DynamicBatchingSchema.parse({});
export const DEFAULT_SESSION_PARAMETERS: SessionParameters = SessionParametersSchema.parse({});

export const MonitoringConfigSchema = z
  .object({
    /** Log predictions and compute quality, drift and alerts. */
    enabled: z.boolean().default(true),
    /** Fraction of requests logged (every row of a logged request is logged). */
    sampling_rate: z.number().min(0).max(1).default(1),
    /** At most this many logged requests per second (no cap when absent). */
    max_logged_per_second: z.number().positive().optional(),
    /** Logged rows older than this are deleted. */
    retention_days: z.number().positive().max(3650).default(7),
    /** At most this many logged rows are kept, the oldest deleted first. */
    max_rows: positiveInt.default(1_000_000),
    /** The window of the monitor API and the Prometheus gauges when none is asked for: the last N rows. */
    window_last: positiveInt.default(1000),
    /** How often the quality and drift gauges are recomputed. */
    refresh_interval_ms: z.number().int().min(100).max(3_600_000).default(5000),
    /**
     * The salt of `hash` redaction (a file of at least 16 bytes); default: `monitor-hash.salt` in the home,
     * 32 random bytes created at first use. Servers that must join on the same hashes share one file.
     */
    hash_salt_file: z.string().min(1).optional(),
  })
  .strict();

export type MonitoringConfig = z.infer<typeof MonitoringConfigSchema>;

export const SecurityConfigSchema = z
  .object({
    /**
     * Listen on a non-loopback address with no token configured. Off by default: without tokens tend
     * binds 127.0.0.1 only and refuses any other host.
     */
    insecure_no_auth: z.boolean().default(false),
    /** A tokens file, one `name:scopes:token[:models=glob,glob]` per line (also $TEND_TOKENS_FILE). */
    tokens_file: z.string().min(1).optional(),
    /** TLS: PEM certificate and key; with `ca`, clients must present a certificate it signed (mutual TLS). */
    tls_cert: z.string().min(1).optional(),
    tls_key: z.string().min(1).optional(),
    tls_ca: z.string().min(1).optional(),
    /** `require-signature`: a model loads only with a valid ed25519 signature by a key in trusted_keys_dir. */
    trust_policy: z.enum(['none', 'require-signature']).default('none'),
    /** Folder of trusted public keys (*.pub, *.pem) for signatures. */
    trusted_keys_dir: z.string().min(1).optional(),
  })
  .strict();

export const LimitsConfigSchema = z
  .object({
    /** Elements in one input tensor (all dimensions multiplied); beyond: 400 before any memory is taken. */
    max_tensor_elements: positiveInt.default(16 * 1024 * 1024),
    /** Bytes in one BYTES (string) element. */
    max_bytes_element_length: positiveInt.default(1024 * 1024),
    /** Requests per second each token may send (a token bucket with `burst`); unset: no rate limit. */
    rate_limit_per_second: z.number().positive().optional(),
    rate_limit_burst: positiveInt.optional(),
    /** Requests one token may have in flight at once; unset: no limit. */
    max_in_flight_per_token: positiveInt.optional(),
    /** Requests in flight on the whole server; beyond: 503 + Retry-After. */
    max_in_flight: positiveInt.default(4096),
    /** Shed load (503 + Retry-After) while the process's resident memory is above this. */
    shed_rss_mb: positiveInt.optional(),
    /** One request's deadline from arrival to answer, over every stage (queue, batch, outputs). */
    request_timeout_ms: positiveInt.default(60_000),
    /**
     * Request bodies at or above this size are large: each needs one of `max_large_bodies` slots, and
     * large infer bodies are checked against their shapes while they arrive and parsed off the main thread.
     */
    large_body_bytes: positiveInt.default(1024 * 1024),
    /** Large bodies read or parsed at once (default: the number of cores); beyond: 503 + Retry-After. */
    max_large_bodies: positiveInt.optional(),
    /** Model files larger than this are refused at load. */
    max_model_bytes: positiveInt.default(4 * 1024 * 1024 * 1024),
    /** Models with more graph nodes than this are refused at load. */
    max_model_nodes: positiveInt.default(1_000_000),
    /** The most samples (KernelSHAP coalitions, LIME perturbations) one explanation may ask for. */
    max_explain_nsamples: positiveInt.default(100_000),
  })
  .strict();

export type SecurityConfig = z.infer<typeof SecurityConfigSchema>;
export type LimitsConfig = z.infer<typeof LimitsConfigSchema>;

export const ServerConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8000),
    /** gRPC port (KServe V2 `inference.GRPCInferenceService`); 0 picks a free one. */
    grpc_port: z.number().int().min(0).max(65535).default(8001),
    /** Serve gRPC beside HTTP. */
    grpc: z.boolean().default(true),
    /**
     * `explicit`: every model loads at start and the repository API may load, reload and unload them.
     * `none`: the set of models is fixed at start; load and unload answer 403.
     * `poll`: the repositories and the registry are watched every `poll_interval_ms`; new, changed and
     * removed versions are applied with the zero-downtime rule; load and unload answer 403.
     */
    model_control_mode: z.enum(['none', 'explicit', 'poll']).default('explicit'),
    /** How often `poll` mode looks at the repositories and the registry. */
    poll_interval_ms: z.number().int().min(50).max(3_600_000).default(1000),
    /** Registry home (database + model files). */
    home: z.string().min(1).optional(),
    /** Triton-like repositories served in place. */
    repos: z.array(z.string().min(1)).default([]),
    /** Largest request body accepted, in bytes (413 beyond). */
    body_limit_bytes: positiveInt.default(64 * 1024 * 1024),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `json`: pino's JSON lines; `ecs`: Elastic Common Schema field names (for Filebeat, Elastic, Loki). */
    log_format: z.enum(['json', 'ecs']).default('json'),
    /**
     * On SIGTERM/SIGINT: readiness turns false, no new connection is accepted, and requests in flight
     * or queued get this long to finish before the server stops anyway (exit 1).
     */
    shutdown_timeout_ms: z.number().int().min(0).max(3_600_000).default(30_000),
    /** The prediction log, feedback and the quality, drift and alert computations. */
    monitoring: MonitoringConfigSchema.prefault({}),
    /** Tokens, TLS, signatures: see the README's security section. */
    security: SecurityConfigSchema.prefault({}),
    /** Limits on every input and on load: see the README's limits section. */
    limits: LimitsConfigSchema.prefault({}),
    /** Alert rules over the monitor's values and the webhooks they notify. */
    alerts: AlertsConfigSchema.prefault({}),
    /** Shadow deployments (mirrored traffic). */
    shadows: z
      .object({
        /**
         * Mirrored work waits while the main thread's event loop was busy more than this share of the
         * last 100 ms (requests are skipped, counted as `skipped_busy`): callers come first. 1 turns
         * the guard off (every request mirrored whatever it costs the callers).
         */
        max_main_thread_share: z.number().gt(0).max(1).default(0.7),
      })
      .strict()
      .prefault({}),
    /** Config applied to every model unless its own config says otherwise. */
    model_defaults: ModelConfigSchema.default({}),
    /** Per-model config for registry models (repository models use their config.yaml). */
    models: z.record(z.string(), ModelConfigSchema).default({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof ServerConfigSchema>;
/**
 * Server settings as written (a config file, the library's `startServer`): every field with a default may be
 * left out.
 */
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

/** Format zod issues as one line: `path: problem; path: problem`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validate a parsed object against a schema, throwing TEND_INVALID_CONFIG naming the source. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, source: string): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw errors.invalidConfig(`${source}: ${describeIssues(result.error)}`);
  return result.data;
}

/** Read and validate a YAML (or JSON) config file. */
export function loadYamlFile<T extends z.ZodType>(schema: T, path: string): z.infer<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw errors.invalidConfig(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw errors.invalidConfig(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseWith(schema, value, path);
}

/** Merge a model's own config over defaults, one field at a time. */
export function mergeModelConfig(base: ModelConfig, over: ModelConfig): ModelConfig {
  return { ...base, ...over };
}

/** Server settings given on the command line; undefined means "not given". */
export interface ServerFlags {
  host?: string | undefined;
  port?: number | undefined;
  grpcPort?: number | undefined;
  grpc?: boolean | undefined;
  modelControl?: string | undefined;
  pollIntervalMs?: number | undefined;
  home?: string | undefined;
  repos?: string[] | undefined;
  logLevel?: string | undefined;
  logFormat?: string | undefined;
  shutdownTimeoutMs?: number | undefined;
  insecureNoAuth?: boolean | undefined;
  tokensFile?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsCa?: string | undefined;
}

/**
 * The effective server config: flags > TEND_* environment variables > config file > defaults.
 * Environment: TEND_HOST, TEND_PORT, TEND_GRPC_PORT, TEND_HOME, TEND_REPOS (paths separated by ':'),
 * TEND_LOG_LEVEL, TEND_LOG_FORMAT, TEND_BODY_LIMIT_BYTES, TEND_MODEL_CONTROL, TEND_SHUTDOWN_TIMEOUT_MS.
 */
export function resolveServerConfig(options: {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: ServerFlags;
}): ServerConfig {
  const env = options.env ?? process.env;
  const fromFile = options.file
    ? (loadYamlFile(ServerConfigSchema.partial(), options.file) as Partial<ServerConfig>)
    : {};
  const layered: Record<string, unknown> = { ...fromFile };
  const envNumber = (key: string): number | undefined => {
    const raw = env[key];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw errors.invalidConfig(`${key}=${raw} is not a number`);
    return n;
  };
  if (env['TEND_HOST']) layered['host'] = env['TEND_HOST'];
  if (envNumber('TEND_PORT') !== undefined) layered['port'] = envNumber('TEND_PORT');
  if (envNumber('TEND_GRPC_PORT') !== undefined) layered['grpc_port'] = envNumber('TEND_GRPC_PORT');
  if (env['TEND_MODEL_CONTROL']) layered['model_control_mode'] = env['TEND_MODEL_CONTROL'];
  if (env['TEND_HOME']) layered['home'] = env['TEND_HOME'];
  if (env['TEND_REPOS']) layered['repos'] = env['TEND_REPOS'].split(':').filter((p) => p !== '');
  if (env['TEND_LOG_LEVEL']) layered['log_level'] = env['TEND_LOG_LEVEL'];
  if (env['TEND_LOG_FORMAT']) layered['log_format'] = env['TEND_LOG_FORMAT'];
  if (envNumber('TEND_BODY_LIMIT_BYTES') !== undefined)
    layered['body_limit_bytes'] = envNumber('TEND_BODY_LIMIT_BYTES');
  if (envNumber('TEND_SHUTDOWN_TIMEOUT_MS') !== undefined)
    layered['shutdown_timeout_ms'] = envNumber('TEND_SHUTDOWN_TIMEOUT_MS');
  const flags = options.flags ?? {};
  if (flags.host !== undefined) layered['host'] = flags.host;
  if (flags.port !== undefined) layered['port'] = flags.port;
  if (flags.grpcPort !== undefined) layered['grpc_port'] = flags.grpcPort;
  if (flags.grpc !== undefined) layered['grpc'] = flags.grpc;
  if (flags.modelControl !== undefined) layered['model_control_mode'] = flags.modelControl;
  if (flags.pollIntervalMs !== undefined) layered['poll_interval_ms'] = flags.pollIntervalMs;
  if (flags.home !== undefined) layered['home'] = flags.home;
  if (flags.repos !== undefined && flags.repos.length > 0) layered['repos'] = flags.repos;
  if (flags.logLevel !== undefined) layered['log_level'] = flags.logLevel;
  if (flags.logFormat !== undefined) layered['log_format'] = flags.logFormat;
  if (flags.shutdownTimeoutMs !== undefined) layered['shutdown_timeout_ms'] = flags.shutdownTimeoutMs;
  const security: Record<string, unknown> = {
    ...(layered['security'] as Record<string, unknown> | undefined),
  };
  if (env['TEND_TOKENS_FILE']) security['tokens_file'] = env['TEND_TOKENS_FILE'];
  if (env['TEND_INSECURE_NO_AUTH'] === '1' || env['TEND_INSECURE_NO_AUTH'] === 'true')
    security['insecure_no_auth'] = true;
  if (flags.insecureNoAuth) security['insecure_no_auth'] = true;
  if (flags.tokensFile !== undefined) security['tokens_file'] = flags.tokensFile;
  if (flags.tlsCert !== undefined) security['tls_cert'] = flags.tlsCert;
  if (flags.tlsKey !== undefined) security['tls_key'] = flags.tlsKey;
  if (flags.tlsCa !== undefined) security['tls_ca'] = flags.tlsCa;
  if (Object.keys(security).length > 0) layered['security'] = security;
  return parseWith(ServerConfigSchema, layered, options.file ?? 'server settings');
}
