/**
 * Structured logs (pino). One logger per process; modules take a child with their own bindings.
 * Two shapes: pino's own JSON lines (`json`), or the Elastic Common Schema (`ecs`), whose field
 * names Filebeat, Elasticsearch, Kibana and Loki's ECS pipelines read without mapping.
 */
import { hostname } from 'node:os';
import {
  pino,
  destination,
  type DestinationStream,
  type Logger,
  type LevelWithSilent,
  type LoggerOptions,
  type Bindings,
  type ChildLoggerOptions,
} from 'pino';
import { TEND_VERSION } from './version.js';

export type { Logger };

export type LogFormat = 'json' | 'ecs';

/** The ECS version the `ecs` format follows. */
export const ECS_VERSION = '8.11.0';

/**
 * tend's log fields that have an ECS field of their own, and that field. Every other field of a
 * log call goes under `tend.` (ECS asks custom fields to live in a namespace of their own).
 */
export const ECS_FIELD_MAP: Readonly<Record<string, string>> = Object.freeze({
  err: 'error.message',
  stack: 'error.stack_trace',
  code: 'error.code',
  url: 'url.path',
  method: 'http.request.method',
  status: 'http.response.status_code',
  req_id: 'http.request.id',
  source: 'source.address',
});

/** Every top-level field an `ecs` line may hold besides `tend.*` (the README's table lists them). */
export const ECS_FIELDS: readonly string[] = Object.freeze([
  '@timestamp',
  'message',
  'log.level',
  'log.logger',
  'ecs.version',
  'service.name',
  'service.version',
  'process.pid',
  'host.hostname',
  ...Object.values(ECS_FIELD_MAP),
]);

const ECS_FIELD_SET = new Set(ECS_FIELDS);

/** pino's options for ECS lines: the level, time and message under their ECS names, fields mapped. */
function ecsOptions(level: LevelWithSilent): LoggerOptions {
  return {
    level,
    messageKey: 'message',
    timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
    base: {
      'process.pid': process.pid,
      'host.hostname': hostname(),
      'service.name': 'tend',
      'service.version': TEND_VERSION,
      'ecs.version': ECS_VERSION,
    },
    formatters: {
      level: (label) => ({ 'log.level': label }),
      bindings: (bindings) => toEcs(bindings),
      log: (fields) => toEcs(fields),
    },
  };
}

/** One log call's fields in ECS names (see ECS_FIELD_MAP); the rest under `tend.`. */
export function toEcs(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (ECS_FIELD_SET.has(key)) out[key] = value;
    else if (key === 'component') out['log.logger'] = value;
    else if (key === 'err' && value instanceof Error) {
      out['error.message'] = value.message;
      if (value.stack !== undefined) out['error.stack_trace'] = value.stack;
    } else out[ECS_FIELD_MAP[key] ?? `tend.${key}`] = value;
  }
  return out;
}

/**
 * pino passes a child's bindings ({ component: 'runtime' }: the part of tend that logs) through no
 * formatter: they are mapped here, for the child's children too.
 */
function withEcsChildren(logger: Logger): Logger {
  const child = logger.child.bind(logger);
  logger.child = ((bindings: Bindings, options?: ChildLoggerOptions) =>
    withEcsChildren(child(toEcs(bindings), options))) as unknown as Logger['child'];
  return logger;
}

/** A logger to stderr (stdout stays for command output), as JSON lines or ECS lines. */
export function createLogger(
  level: LevelWithSilent = 'info',
  format: LogFormat = 'json',
  stream: DestinationStream = destination({ fd: 2, sync: false }),
): Logger {
  if (format === 'ecs') return withEcsChildren(pino(ecsOptions(level), stream));
  return pino({ level, base: { pid: process.pid } }, stream);
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
