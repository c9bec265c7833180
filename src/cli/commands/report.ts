/**
 * `tend report REF --reference A.csv --current B.csv [--labels] --out report.html [--json]`: drift,
 * data quality and quality of a current file against a reference file, with the model run in this
 * process, as one self-contained HTML page. The page is written to a temporary file and renamed at
 * the end, so a failed report leaves no file behind.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveServerConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import {
  buildMonitorReport,
  driftedFeatures,
  Engine,
  monitorReportHtml,
  type MonitorReport,
} from '../../engine/index.js';
import { existingHome } from '../home.js';
import { printJson } from '../output.js';
import { parseRef } from './registry.js';

export interface ReportOptions {
  reference: string;
  current: string;
  labels?: boolean;
  out?: string;
  json?: boolean;
  home?: string;
}

function readCsv(file: string, flag: string): { text: string; source: string } {
  const path = resolve(file);
  try {
    return { text: readFileSync(path, 'utf8'), source: path };
  } catch (err) {
    throw errors.notFound(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Write `text` to `file` through a temporary file in the same folder, so readers never see half a page. */
function writeWhole(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw errors.invalidArgument(`--out: cannot write ${file}: ${(err as Error).message}`);
  }
}

function summaryLine(report: MonitorReport): string {
  const d = report.drift;
  const drift = d
    ? `${d.number_of_drifted} of ${d.number_of_tested} features drifted (data set drift: ${d.dataset_drift ? 'yes' : 'no'}${d.prediction ? `, prediction drift: ${d.prediction.drifted ? 'yes' : 'no'}` : ''})`
    : `drift not computed: ${report.drift_note ?? 'unknown reason'}`;
  const q = report.quality;
  const quality =
    q && 'accuracy' in q && q.accuracy !== null
      ? `; accuracy ${(q.accuracy * 100).toFixed(1)}% on ${report.labelled} labelled rows`
      : '';
  return `${report.model} version ${report.version}: ${drift}${quality}`;
}

export async function reportCommand(ref: string, opts: ReportOptions): Promise<void> {
  if (opts.out === undefined && !opts.json)
    throw errors.invalidArgument('give --out report.html (and/or --json to print the report)');
  const { name, version } = parseRef(ref);
  const out = opts.out === undefined ? undefined : resolve(opts.out);
  const reference = readCsv(opts.reference, '--reference');
  const current = readCsv(opts.current, '--current');
  const config = resolveServerConfig({ flags: { home: opts.home, logLevel: 'silent' } });
  const engine = await Engine.open({
    home: existingHome(opts.home),
    config,
    monitoring: false,
    only: [name],
  });
  let report: MonitorReport;
  try {
    report = await buildMonitorReport(engine, {
      model: name,
      version,
      reference,
      current,
      labels: Boolean(opts.labels),
    });
  } finally {
    await engine.close();
  }
  if (out !== undefined) writeWhole(out, monitorReportHtml(report));
  // With --json, stdout holds the JSON alone; the human lines go to stderr.
  const say = (line: string) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  if (opts.json) printJson(report);
  say(summaryLine(report));
  const drifted = driftedFeatures(report);
  if (drifted.length > 0)
    say(
      `drifted: ${drifted.slice(0, 20).join(', ')}${drifted.length > 20 ? `, … (${drifted.length - 20} more)` : ''}`,
    );
  if (out !== undefined) say(`report written to ${out}\nopen it in a browser: ${pathToFileURL(out).href}`);
}
