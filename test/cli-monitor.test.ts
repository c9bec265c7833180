/** `tend monitor …`, `tend feedback`, `tend log export` and `tend alerts` against a home a server is using. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import {
  FIXTURE_MODELS,
  postJson,
  seededRandom,
  startTestServer,
  tempDir,
  type TestServer,
  runCli,
  type CliResult,
} from './helpers.js';

let home: string;
let dir: string;
let srv: TestServer;

const tend = (...args: string[]): CliResult => runCli(args, { home });

function json(...args: string[]): Record<string, unknown> {
  const r = tend(...args, '--json');
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const r = seededRandom(9);
const rows = Array.from({ length: 40 }, () => Array.from({ length: 64 }, () => Math.round(r() * 16) / 16));

before(async () => {
  home = tempDir('cli-monitor');
  dir = tempDir('cli-monitor-files');
  const registry = await Registry.open(home);
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
  await registry.close();
  const header = [...Array.from({ length: 64 }, (_, i) => `p${i}`), 'digit'].join(',');
  writeFileSync(
    join(dir, 'ref.csv'),
    `${header}\n${rows.map((row, i) => [...row, i % 10].join(',')).join('\n')}\n`,
  );
  writeFileSync(join(dir, 'narrow.csv'), 'a,b\n1,2\n');
  srv = await startTestServer({ home });
});

after(async () => {
  await srv.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('reference set, feedback from CSV, log export, monitor show, alerts', async () => {
  const ref = json('monitor', 'reference', 'set', 'digits', join(dir, 'ref.csv'));
  assert.deepEqual(
    { ...ref, sha256: undefined },
    { name: 'digits', version: 1, rows: 40, features: 64, target: 'digit', sha256: undefined },
  );
  const narrow = tend('monitor', 'reference', 'set', 'digits', join(dir, 'narrow.csv'));
  assert.notEqual(narrow.status, 0);
  assert.match(narrow.stderr, /2 columns, but the model takes 64 features/);

  const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
    id: 'req-a',
    inputs: [
      { name: 'pixels', datatype: 'FP32', shape: [2, 64], data: [...(rows[0] ?? []), ...(rows[1] ?? [])] },
    ],
  });
  assert.equal(res.status, 200);
  await srv.engine.monitoring.app?.log.flush();
  writeFileSync(join(dir, 'fb.csv'), 'request,row,truth\nreq-a,0,3\nreq-a,1,5\nreq-zzz,0,1\n');
  const fb = json(
    'feedback',
    'digits',
    join(dir, 'fb.csv'),
    '--id-column',
    'request',
    '--label-column',
    'truth',
    '--row-column',
    'row',
  );
  assert.deepEqual(fb, { accepted: 2, unknown_ids: ['req-zzz'], rejected: [] });
  const missing = tend(
    'feedback',
    'digits',
    join(dir, 'fb.csv'),
    '--id-column',
    'nope',
    '--label-column',
    'truth',
  );
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no column 'nope'/);

  const exported = tend('log', 'export', 'digits', '--format', 'jsonl');
  assert.equal(exported.status, 0, exported.stderr);
  const lines = exported.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((l) => [l['request_id'], l['row'], l['label']]),
    [
      ['req-a', 0, 3],
      ['req-a', 1, 5],
    ],
  );
  const csv = tend('log', 'export', 'digits', '--format', 'csv');
  assert.equal(csv.stdout.trim().split('\n').length, 3, csv.stdout.slice(0, 500));
  assert.match(tend('log', 'export', 'digits', '--format', 'xml').stderr, /must be csv, jsonl or ndjson/);
  const bulk = tend('log', 'export', 'digits', '--format', 'ndjson', '--bulk-index', 'tend-digits');
  assert.equal(bulk.status, 0, bulk.stderr);
  assert.deepEqual(
    bulk.stdout
      .trim()
      .split('\n')
      .map((l) => Object.keys(JSON.parse(l) as object)[0]),
    ['index', '@timestamp', 'index', '@timestamp'],
  );
  const badIndex = tend('log', 'export', 'digits', '--format', 'ndjson', '--bulk-index', 'Bad Name');
  assert.equal(badIndex.status, 1);
  assert.match(badIndex.stderr, /not an Elasticsearch index name/);
  assert.match(
    tend('log', 'export', 'digits', '--format', 'csv', '--bulk-index', 'x').stderr,
    /--bulk-index goes with --format ndjson/,
  );

  const view = json('monitor', 'show', 'digits');
  assert.equal(view['predictions'], 2);
  assert.equal(view['labelled'], 2);
  assert.deepEqual(view['reference'], { version: 1, rows: 40, source: 'reference of digits version 1' });
  const text = tend('monitor', 'show', 'digits');
  assert.match(text.stdout, /digits version 1, last 1000: 2 predictions, 2 with ground truth/);
  assert.deepEqual(json('alerts'), { active: [], events: [] });
});

test('log delete: refused without a selector (exit 1), by ids removes the rows, audited as the user', () => {
  const none = tend('log', 'delete', 'digits');
  assert.equal(none.status, 1, none.stderr);
  assert.match(none.stderr, /error: say what to delete: --ids FILE, --before DATE or --where FEATURE=VALUE/);
  const badWhere = tend('log', 'delete', 'digits', '--where', 'p3');
  assert.equal(badWhere.status, 1);
  assert.match(badWhere.stderr, /must be FEATURE=NUMBER/);
  writeFileSync(join(dir, 'empty-ids.txt'), '# nobody\n\n');
  assert.match(
    tend('log', 'delete', 'digits', '--ids', join(dir, 'empty-ids.txt')).stderr,
    /holds no request id/,
  );
  assert.match(tend('log', 'delete', 'digits', '--ids', join(dir, 'missing.txt')).stderr, /cannot read/);
  const before = tend('log', 'export', 'digits', '--format', 'jsonl').stdout.trim().split('\n').length;
  assert.ok(before >= 2);

  writeFileSync(join(dir, 'ids.txt'), 'req-a\nnever-logged\n');
  const deleted = runCli(['log', 'delete', 'digits', '--ids', join(dir, 'ids.txt'), '--json'], {
    home,
    env: { TEND_ACTOR: 'dpo-alice' },
  });
  assert.equal(deleted.status, 0, deleted.stderr);
  const result = JSON.parse(deleted.stdout) as Record<string, unknown>;
  assert.equal(result['deleted'], 2);
  assert.equal(result['with_feedback'], 2);
  const left = tend('log', 'export', 'digits', '--format', 'jsonl').stdout;
  assert.equal(left.includes('req-a'), false, left);

  const audit = json('audit', '--action', 'prediction_log.delete');
  const entries = audit['entries'] as { actor: string; source: string; target: string; detail: string }[];
  const entry = entries.find((e) => e.actor === 'dpo-alice');
  assert.ok(entry, JSON.stringify(entries));
  assert.deepEqual([entry.source, entry.target], ['cli', 'digits']);
  assert.match(entry.detail, /deleted 2 row\(s\) \(2 with feedback\) selected by 2 request id\(s\)/);
});
