import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { checkParams, isActive, parseSpaceText, spaceToJson } from './space.js';

const GOOD = `
lr: {type: float, low: 0.0001, high: 0.1, log: true}
batch_size: {type: int, low: 16, high: 256, step: 16}
optimizer: {type: categorical, choices: [adam, sgd]}
momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
`;

test('a YAML space parses, conditions after the parameters they name', () => {
  const space = parseSpaceText(
    `momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}\n${GOOD}`.replace(
      /\nmomentum.*\n$/,
      '\n',
    ),
  );
  const names = space.params.map((p) => p.name);
  assert.ok(names.indexOf('optimizer') < names.indexOf('momentum'));
  const momentum = space.params.find((p) => p.name === 'momentum')!;
  assert.equal(isActive(momentum, { optimizer: 'sgd' }), true);
  assert.equal(isActive(momentum, { optimizer: 'adam' }), false);
  const lr = space.params.find((p) => p.name === 'lr')!;
  assert.deepEqual(lr, { type: 'float', name: 'lr', when: null, low: 0.0001, high: 0.1, log: true });
});

test('a JSON space parses the same as its YAML twin, and round-trips through spaceToJson', () => {
  const yaml = parseSpaceText(GOOD);
  const json = parseSpaceText(JSON.stringify(spaceToJson(yaml)));
  assert.deepEqual(json, yaml);
});

test('checkParams accepts a valid point and names what is wrong with a bad one', () => {
  const space = parseSpaceText(GOOD);
  assert.equal(checkParams(space, { lr: 0.01, batch_size: 32, optimizer: 'adam' }), null);
  assert.match(checkParams(space, { lr: 0.01, batch_size: 33, optimizer: 'adam' }) ?? '', /batch_size/);
  assert.match(
    checkParams(space, { lr: 0.01, batch_size: 32, optimizer: 'adam', momentum: 0.9 }) ?? '',
    /inactive/,
  );
});

const BAD: [string, RegExp][] = [
  ['lr: {type: double, low: 0, high: 1}', /unknown type 'double'/],
  ['lr: {type: float, low: 1, high: 1}', /low \(1\) must be less than high \(1\)/],
  ['lr: {type: float, low: 2, high: 1}', /low \(2\) must be less than high \(1\)/],
  ['lr: {type: float, low: 0, high: 1, log: true}', /log scale needs low > 0/],
  ['n: {type: int, low: -3, high: 10, log: true}', /log scale needs low > 0/],
  ['n: {type: int, low: 1.5, high: 10}', /whole-number low and high/],
  ['n: {type: int, low: 0, high: 10, step: 3}', /multiple of step/],
  ['n: {type: int, low: 1, high: 10, step: 2, log: true}', /step and log cannot be combined/],
  ['c: {type: categorical, choices: []}', /non-empty list/],
  ['c: {type: categorical, choices: [a, a]}', /must not repeat/],
  ['lr: {type: float, low: 0, high: 1, lgo: true}', /unknown key 'lgo'/],
  ['lr: {type: float, low: 0, high: 1, when: {opt: sgd}}', /'opt', which is not a parameter/],
  [
    'o: {type: categorical, choices: [a, b]}\nm: {type: float, low: 0, high: 1, when: {o: c}}',
    /not a value 'o' can take/,
  ],
  [
    'a: {type: categorical, choices: [x, y], when: {b: x}}\nb: {type: categorical, choices: [x, y], when: {a: x}}',
    /conditions form a loop/,
  ],
  ['[1, 2]', /mapping from parameter name/],
  ['', /mapping from parameter name/],
  ['lr: {type: float, low: 0, high: [1', /not valid YAML or JSON/],
];

for (const [text, message] of BAD) {
  test(`an invalid space is one clear error: ${message.source}`, () => {
    assert.throws(
      () => parseSpaceText(text, 'space.yaml'),
      (err: unknown) =>
        err instanceof TendError &&
        err.code === 'TEND_INVALID_ARGUMENT' &&
        message.test(err.message) &&
        err.message.startsWith('space.yaml'),
    );
  });
}
