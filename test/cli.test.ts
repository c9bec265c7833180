/**
 * The `tend` command as a user runs it (a child process): push, models, alias, infer, demo, bench,
 * serve, with --json outputs and exit codes (0 ok, 1 user error with a one-line message).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitOf, digitsTable } from './digits-data.js';
import { CLI, FIXTURE_MODELS, tempDir, runCli, runCliJson, type CliResult } from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');

const AS_TESTER = { env: { TEND_ACTOR: 'tester' } };
const tend = (args: string[], home: string): CliResult => runCli(args, { home, ...AS_TESTER });
const tendJson = (args: string[], home: string): unknown => runCliJson(args, { home, ...AS_TESTER });

let home: string;
let work: string;

before(() => {
  home = tempDir('cli-home');
  work = tempDir('cli-work');
});
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('registry commands', () => {
  test('push prints name, version and sha256; versions count up', () => {
    const first = tendJson(
      ['push', DIGITS_MLP, '--name', 'fraud', '--alias', 'champion', '--tag', 'team=risk'],
      home,
    ) as Record<string, unknown>;
    const sha = createHash('sha256').update(readFileSync(DIGITS_MLP)).digest('hex');
    assert.deepEqual(first, { name: 'fraud', version: 1, sha256: sha });
    const second = tendJson(['push', DIGITS_MLP, '--name', 'fraud'], home) as Record<string, unknown>;
    assert.equal(second['version'], 2);
  });

  test('models list, show and versions', () => {
    const list = tendJson(['models', 'list'], home) as { name: string; aliases: Record<string, number> }[];
    const fraud = list.find((m) => m.name === 'fraud');
    assert.deepEqual(fraud?.aliases, { champion: 1 });
    const shown = tendJson(['models', 'show', 'fraud@champion'], home) as {
      version: number;
      signature: { inputs: { name: string }[] };
      tags: Record<string, string>;
    };
    assert.equal(shown.version, 1);
    assert.equal(shown.signature.inputs[0]?.name, 'pixels');
    assert.deepEqual(shown.tags, { team: 'risk' });
    const versions = tendJson(['models', 'versions', 'fraud'], home) as { version: number }[];
    assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2]);
    const table = tend(['models', 'list'], home);
    assert.equal(table.status, 0);
    assert.match(table.stdout, /^NAME\s+VERSIONS/m);
  });

  test('alias set, history and rm', () => {
    const moved = tendJson(['alias', 'set', 'fraud', 'champion', '2'], home) as Record<string, unknown>;
    assert.deepEqual(moved, { name: 'fraud', alias: 'champion', from_version: 1, to_version: 2 });
    const history = tendJson(['alias', 'history', 'fraud', 'champion'], home) as {
      from_version: number | null;
      to_version: number | null;
      actor: string;
    }[];
    assert.deepEqual(
      history.map((h) => [h.from_version, h.to_version]),
      [
        [null, 1],
        [1, 2],
      ],
    );
    assert.equal(history[1]?.actor, 'tester');
    assert.equal(tend(['alias', 'rm', 'fraud', 'champion'], home).status, 0);
    const after = tendJson(['alias', 'history', 'fraud', 'champion'], home) as unknown[];
    assert.equal(after.length, 3);
  });

  test('user errors exit 1 with one line on stderr', () => {
    for (const args of [
      ['push', join(work, 'missing.onnx'), '--name', 'x'],
      ['push', DIGITS_MLP, '--name', '../evil'],
      ['push', DIGITS_MLP, '--name', 'ok', '--tag', 'novalue'],
      ['models', 'show', 'nope'],
      ['alias', 'set', 'fraud', 'champion', '99'],
      ['alias', 'set', 'fraud', '7', '1'],
      ['serve', '--port', 'eighty'],
      ['bench', 'digits', '--protocol', 'udp'],
      ['bench', 'digits', '--request-rate', 'fast'],
      ['bench', 'digits', '--protocol', 'grpc', '--binary'],
      ['bench', 'digits', '--concurrency', '0'],
      ['no-such-command'],
    ]) {
      const r = tend(args, home);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /m, args.join(' '));
    }
    const bad = join(work, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    const r = tend(['push', bad, '--name', 'bad'], home);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /not an ONNX model/);
  });
});

describe('infer, demo, serve and bench', () => {
  test('demo trains once, then reuses the model', () => {
    const first = tendJson(['demo', '--no-serve'], home) as Record<string, unknown>;
    assert.equal(first['trained'], true);
    assert.ok((first['test_accuracy'] as number) >= 0.97);
    const second = tendJson(['demo', '--no-serve'], home) as Record<string, unknown>;
    assert.equal(second['trained'], false);
    assert.equal(second['version'], first['version']);
  });

  test('infer from a CSV and from a V2 JSON body, in process', () => {
    const header = digitsTable.columns.slice(0, 64).join(',');
    const rows = [0, 1, 2].map((r) => digitsTable.values.subarray(r * 65, r * 65 + 64).join(','));
    const labels = [0, 1, 2].map((r) => digitOf(r));
    const csv = join(work, 'rows.csv');
    writeFileSync(csv, `${header}\n${rows.join('\n')}\n`);
    const out = tendJson(['infer', 'digits@champion', '--data', csv], home) as {
      outputs: { name: string; data: number[] }[];
      model_version: string;
    };
    const label = out.outputs.find((o) => o.name === 'label');
    assert.deepEqual(label?.data, labels);
    const body = join(work, 'req.json');
    writeFileSync(
      body,
      JSON.stringify({
        inputs: [
          { name: 'features', shape: [1, 64], datatype: 'FP32', data: rows[0]!.split(',').map(Number) },
        ],
      }),
    );
    const out2 = tendJson(['infer', 'digits', '--data', body], home) as {
      outputs: { name: string; data: number[] }[];
    };
    assert.equal(out2.outputs.find((o) => o.name === 'label')?.data[0], labels[0]);
    const text = tend(['infer', 'digits', '--data', body], home);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /row 0: probabilities=\[/);
    const wrong = join(work, 'wrong.json');
    writeFileSync(
      wrong,
      JSON.stringify({ inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    );
    const bad = tend(['infer', 'digits', '--data', wrong], home);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /dimension 1 must be 64/);
  });

  test('serve answers over HTTP, bench measures it, SIGTERM stops it with exit 0', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'serve',
        '--home',
        home,
        '--port',
        '0',
        '--grpc-port',
        '0',
        '--log-level',
        'silent',
      ],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m && /ready: yes/.test(out)) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    try {
      const res = await fetch(`${url}/v2/models/digits@champion`);
      assert.equal(res.status, 200);
      const busy = tend(['serve', '--port', new URL(url).port, '--grpc-port', '0'], home);
      assert.equal(busy.status, 1);
      assert.match(busy.stderr, /already in use/);
      const grpcPort = /\(gRPC [^:]+:([0-9]+)\)/.exec(out)?.[1];
      assert.ok(grpcPort, out);
      const busyGrpc = tend(['serve', '--port', '0', '--grpc-port', grpcPort], home);
      assert.equal(busyGrpc.status, 1);
      assert.match(busyGrpc.stderr, /gRPC port [0-9]+ on 127.0.0.1 is already in use/);
      const badMode = tend(['serve', '--port', '0', '--model-control', 'sometimes'], home);
      assert.equal(badMode.status, 1);
      assert.match(badMode.stderr, /model_control_mode/);
      const bench = tendJson(
        ['bench', 'digits', '--url', url, '--concurrency', '1,4', '--duration', '1s', '--warmup', '0s'],
        home,
      ) as {
        levels: {
          concurrency: number;
          requests: number;
          errors: number;
          latency_ms: { p50: number; p99: number };
        }[];
      };
      assert.deepEqual(
        bench.levels.map((l) => l.concurrency),
        [1, 4],
      );
      for (const l of bench.levels) {
        assert.ok(l.requests > 0);
        assert.equal(l.errors, 0);
        assert.ok(l.latency_ms.p50 <= l.latency_ms.p99);
      }
      // gRPC, open loop, one CSV row per request, server-side times from the statistics extension.
      const csvPath = join(work, 'bench.csv');
      const common = ['--url', url, '--duration', '1s', '--warmup', '0s'];
      const grpcBench = tendJson(
        [
          'bench',
          'digits',
          ...common,
          '--protocol',
          'grpc',
          '--grpc-address',
          `127.0.0.1:${grpcPort}`,
          '--request-rate',
          '100',
          '--csv',
          csvPath,
        ],
        home,
      ) as {
        protocol: string;
        levels: {
          request_rate: number;
          requests: number;
          errors: number;
          server: { requests: number; compute_infer_us: number } | null;
        }[];
      };
      const open = grpcBench.levels[0];
      assert.equal(grpcBench.protocol, 'grpc');
      assert.equal(open?.request_rate, 100);
      assert.equal(open?.requests, 100);
      assert.equal(open?.errors, 0);
      assert.equal(open?.server?.requests, 100);
      assert.ok((open?.server?.compute_infer_us ?? 0) > 0);
      const rows = readFileSync(csvPath, 'utf8').trimEnd().split('\n');
      assert.equal(rows[0], 'concurrency,request_rate,send_ms,latency_ms,status');
      assert.equal(rows.length, 101);
      assert.ok(
        rows.slice(1).every((r) => /^,100,[0-9.]+,[0-9.]+,OK$/.test(r)),
        rows[1],
      );
      // HTTP with the binary tensor extension.
      const binary = tendJson(['bench', 'digits', ...common, '--binary', '--concurrency', '2'], home) as {
        binary: boolean;
        levels: { requests: number; errors: number }[];
      };
      assert.equal(binary.binary, true);
      assert.ok((binary.levels[0]?.requests ?? 0) > 0);
      assert.equal(binary.levels[0]?.errors, 0);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });
});
