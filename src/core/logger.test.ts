import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, ECS_FIELDS, ECS_VERSION, toEcs } from './logger.js';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, stream };
}

/** The ECS field names the README documents (its "Logs" table, first column). */
function documentedFields(): Set<string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('<!-- ecs-fields:start -->');
  const end = readme.indexOf('<!-- ecs-fields:end -->');
  assert.ok(start >= 0 && end > start, 'README has the ECS field table');
  const names = [...readme.slice(start, end).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string);
  return new Set(names);
}

test('log_format ecs: every field of a line is an ECS field the README documents, or under tend.', () => {
  const { lines, stream } = capture();
  const logger = createLogger('info', 'ecs', stream);
  logger.info(
    {
      req_id: 'r-1',
      url: '/v2/models/m/infer',
      status: 400,
      code: 'TEND_INVALID_INPUT',
      err: 'bad',
      model: 'm',
    },
    'request refused',
  );
  logger.child({ component: 'runtime' }).warn({ err: new Error('boom') }, 'worker exited');
  logger.debug('not at info');
  const [refused, exited, ...rest] = lines();
  assert.equal(rest.length, 0);
  assert.ok(refused && exited);
  assert.equal(refused['message'], 'request refused');
  assert.equal(refused['log.level'], 'info');
  assert.equal(refused['ecs.version'], ECS_VERSION);
  assert.equal(refused['service.name'], 'tend');
  assert.equal(refused['process.pid'], process.pid);
  assert.ok(!Number.isNaN(Date.parse(String(refused['@timestamp']))));
  assert.equal(refused['http.request.id'], 'r-1');
  assert.equal(refused['http.response.status_code'], 400);
  assert.equal(refused['error.code'], 'TEND_INVALID_INPUT');
  assert.equal(refused['url.path'], '/v2/models/m/infer');
  assert.equal(refused['tend.model'], 'm');
  assert.equal(exited['log.logger'], 'runtime');
  assert.equal(exited['error.message'], 'boom');
  assert.match(String(exited['error.stack_trace']), /Error: boom/);
  const documented = documentedFields();
  assert.deepEqual(
    [...documented].sort(),
    [...ECS_FIELDS].sort(),
    'the README table lists exactly ECS_FIELDS',
  );
  for (const line of [refused, exited])
    for (const key of Object.keys(line))
      assert.ok(documented.has(key) || key.startsWith('tend.'), `'${key}' is neither documented nor tend.*`);
});

test('log_format json keeps pino lines; toEcs leaves ECS names and drops undefined', () => {
  const { lines, stream } = capture();
  createLogger('info', 'json', stream).info({ req_id: 'r' }, 'hello');
  const [line] = lines();
  assert.equal(line?.['msg'], 'hello');
  assert.equal(line?.['req_id'], 'r');
  assert.equal(line?.['level'], 30);
  assert.deepEqual(toEcs({ 'url.path': '/a', source: 'b', gone: undefined, x: { y: 1 } }), {
    'url.path': '/a',
    'source.address': 'b',
    'tend.x': { y: 1 },
  });
});
