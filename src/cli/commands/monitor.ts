/**
 * Monitoring from the command line, on the registry home (no server needed; a running server
 * shares the same files): feedback from a CSV, the prediction log as CSV or JSON lines, reference
 * data sets, the monitor's view of a version, and alerts.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveServerConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { attachReference, Engine, readCsvColumns, type MonitorView } from '../../engine/index.js';
import { existingHome } from '../home.js';
import { printJson, printTable } from '../output.js';
import { actor, parseRef } from './registry.js';

interface CommonOptions {
  home?: string;
  json?: boolean;
}

async function withEngine<T>(home: string | undefined, use: (engine: Engine) => Promise<T>): Promise<T> {
  const config = resolveServerConfig({ flags: { home, logLevel: 'silent' } });
  const engine = await Engine.open({ home: existingHome(home), config, monitoring: true });
  try {
    return await use(engine);
  } finally {
    await engine.close();
  }
}

function readText(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw errors.notFound(`cannot read ${resolve(file)}: ${(err as Error).message}`);
  }
}

/** `tend feedback REF FILE.csv --id-column id --label-column label [--row-column row]`. */
export async function feedbackCommand(
  ref: string,
  file: string,
  opts: CommonOptions & { idColumn: string; labelColumn: string; rowColumn?: string; value?: boolean },
): Promise<void> {
  const { name } = parseRef(ref);
  const table = readCsvColumns(readText(file), resolve(file));
  for (const column of [opts.idColumn, opts.labelColumn, ...(opts.rowColumn ? [opts.rowColumn] : [])]) {
    if (!(column in table.values))
      throw errors.invalidArgument(
        `${resolve(file)} has no column '${column}' (columns: ${table.columns.join(', ')})`,
      );
  }
  const ids = table.values[opts.idColumn] ?? [];
  const labels = table.values[opts.labelColumn] ?? [];
  const rows = opts.rowColumn ? (table.values[opts.rowColumn] ?? []) : undefined;
  const items = ids.map((id, i) => ({
    id: id === null ? null : String(id),
    row: rows ? rows[i] : 0,
    [opts.value ? 'value' : 'label']: labels[i],
  }));
  const result = await withEngine(opts.home, (engine) => engine.monitoring.feedback(name, items));
  if (opts.json) return printJson(result);
  process.stdout.write(
    `${result.accepted} of ${items.length} labels attached to logged predictions of ${name}\n`,
  );
  if (result.unknown_ids.length > 0) {
    process.stdout.write(
      `${result.unknown_ids.length} id(s) match no logged prediction: ${result.unknown_ids.slice(0, 10).join(', ')}${result.unknown_ids.length > 10 ? ', …' : ''}\n`,
    );
  }
  for (const r of result.rejected.slice(0, 20))
    process.stdout.write(`rejected ${r.id ?? '(no id)'}: ${r.error}\n`);
  if (result.rejected.length > 20)
    process.stdout.write(`… and ${result.rejected.length - 20} more rejected\n`);
}

/**
 * `tend log export REF --format csv|jsonl|ndjson [--bulk-index NAME] [--out FILE]`: the logged
 * predictions of a model (or one version).
 */
export async function logExportCommand(
  ref: string,
  opts: { home?: string; format: string; out?: string; since?: string; bulkIndex?: string },
): Promise<void> {
  if (opts.format !== 'csv' && opts.format !== 'jsonl' && opts.format !== 'ndjson')
    throw errors.invalidArgument(`--format '${opts.format}' must be csv, jsonl or ndjson`);
  const format = opts.format;
  if (opts.bulkIndex !== undefined && format !== 'ndjson')
    throw errors.invalidArgument('--bulk-index goes with --format ndjson (an Elasticsearch _bulk body)');
  // Elasticsearch's index names: lowercase, no \ / * ? " < > | , # or space, not starting with - _ +.
  if (opts.bulkIndex !== undefined && !/^[a-z0-9][a-z0-9._-]{0,254}$/.test(opts.bulkIndex))
    throw errors.invalidArgument(
      `--bulk-index '${opts.bulkIndex}' is not an Elasticsearch index name (lowercase letters, digits, . _ -)`,
    );
  const { name, version } = parseRef(ref);
  if (version !== undefined && !/^[0-9]+$/.test(version))
    throw errors.invalidArgument(`'${ref}': give a version number (NAME@3) or none for every version`);
  let sinceMs: number | undefined;
  if (opts.since !== undefined) {
    sinceMs = Date.parse(opts.since);
    if (Number.isNaN(sinceMs))
      throw errors.invalidArgument(
        `--since '${opts.since}' is not a date (e.g. 2026-11-25 or 2026-11-25T10:00:00Z)`,
      );
  }
  const out = opts.out ? createWriteStream(resolve(opts.out)) : process.stdout;
  const count = await withEngine(opts.home, async (engine) => {
    const monitoring = engine.monitoring.app;
    if (!monitoring) throw errors.forbidden('monitoring is off');
    return monitoring.log.export(
      {
        model: name,
        ...(version !== undefined ? { version: Number(version) } : {}),
        ...(sinceMs !== undefined ? { sinceMs } : {}),
      },
      format,
      (chunk) => out.write(chunk),
      undefined,
      undefined,
      opts.bulkIndex !== undefined ? { bulkIndex: opts.bulkIndex } : {},
    );
  });
  if (out !== process.stdout) {
    await new Promise<void>((done, fail) =>
      (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? fail(err) : done())),
    );
    process.stderr.write(`${count} rows written to ${resolve(opts.out as string)}\n`);
  }
}

/** `tend monitor reference set REF FILE.csv`. */
export async function referenceSetCommand(ref: string, file: string, opts: CommonOptions): Promise<void> {
  const { name, version } = parseRef(ref);
  const result = await withEngine(opts.home, (engine) =>
    attachReference(engine.registry, name, version, readText(file), resolve(file), actor()),
  );
  if (opts.json) return printJson(result);
  process.stdout.write(
    `reference of ${result.name} version ${result.version}: ${result.rows} rows, ${result.features} features${result.target ? `, target '${result.target}'` : ''}\n`,
  );
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined
    ? '—'
    : Math.abs(x) >= 100 || Number.isInteger(x)
      ? String(x)
      : x.toPrecision(4);
}

/** `tend monitor show REF [--window 1h | --last N] [--json]`. */
export async function monitorShowCommand(
  ref: string,
  opts: CommonOptions & { window?: string; last?: string },
): Promise<void> {
  const { name, version } = parseRef(ref);
  const view: MonitorView = await withEngine(opts.home, (engine) =>
    engine.monitoring.view(name, {
      ...(version !== undefined ? { version } : {}),
      ...(opts.window !== undefined ? { window: opts.window } : {}),
      ...(opts.last !== undefined ? { last: opts.last } : {}),
    }),
  );
  if (opts.json) return printJson(view);
  process.stdout.write(
    `${view.model} version ${view.version}, ${view.window}: ${view.predictions} predictions, ${view.labelled} with ground truth\n`,
  );
  if (view.quality) {
    const q = view.quality as unknown as Record<string, unknown>;
    const keys = Object.keys(q).filter((k) => typeof q[k] === 'number' && k !== 'count');
    printTable(
      ['metric', 'value'],
      keys.map((k) => [k, fmt(q[k] as number)]),
    );
  } else process.stdout.write('quality: no ground truth in the window yet (send feedback)\n');
  if (view.drift) {
    const d = view.drift;
    process.stdout.write(
      `drift: ${d.number_of_drifted} of ${d.number_of_tested} features drifted (share ${fmt(d.drifted_share)}); dataset drift: ${d.dataset_drift ? 'YES' : 'no'}\n`,
    );
    printTable(
      ['feature', 'test', 'statistic', 'p-value', 'threshold', 'drifted'],
      d.features
        .filter((f) => f.drifted)
        .map((f) => [f.name, f.stattest, fmt(f.statistic), fmt(f.p_value), fmt(f.threshold), 'yes']),
    );
  } else if (view.drift_note) process.stdout.write(`drift: ${view.drift_note}\n`);
  for (const a of view.alerts)
    process.stdout.write(
      `alert ${a.rule}: ${a.state} (${a.metric} ${fmt(a.value)} ${a.op} ${a.threshold})\n`,
    );
}

/** `tend alerts [--json]`: pending and firing alerts, then the latest events. */
export async function alertsCommand(opts: CommonOptions & { limit?: string }): Promise<void> {
  const limit = opts.limit === undefined ? 20 : Number(opts.limit);
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw errors.invalidArgument(`--limit '${opts.limit ?? ''}' must be a positive whole number`);
  const alerts = await withEngine(opts.home, (engine) => Promise.resolve(engine.monitoring.alerts(limit)));
  if (opts.json) return printJson(alerts);
  if (alerts.active.length === 0) process.stdout.write('no alert is firing\n');
  else
    printTable(
      ['rule', 'model', 'version', 'state', 'value', 'since'],
      alerts.active.map((a) => [
        a.rule,
        a.model,
        a.version,
        a.state,
        fmt(a.value),
        a.fired_at ?? a.active_at,
      ]),
    );
  if (alerts.events.length > 0) {
    process.stdout.write('\nlatest events:\n');
    printTable(
      ['at', 'rule', 'model', 'version', 'state', 'value'],
      alerts.events.map((e) => [e.at, e.rule, e.model, e.version, e.state, fmt(e.value)]),
    );
  }
}
