import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { JsonInferScanner } from './json-infer-scanner.js';

/** Feed `text` in chunks of `size` bytes; the refusal, or null when the scanner lets it through. */
function scan(text: string, size = 7, max = 1_000_000): TendError | null {
  const scanner = new JsonInferScanner(max);
  const bytes = Buffer.from(text);
  try {
    for (let i = 0; i < bytes.length; i += size) scanner.write(bytes.subarray(i, i + size));
    scanner.end();
    return null;
  } catch (err) {
    assert.ok(err instanceof TendError);
    return err;
  }
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i % 10).join(',');

test('valid requests pass, whatever the key order, nesting, strings with escapes and chunking', () => {
  const bodies = [
    `{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[${numbers(64)}]}]}`,
    `{"id":"a\\"b]}","inputs":[{"data":[[${numbers(32)}],[${numbers(32)}]],"datatype":"FP32","shape":[2,32],"name":"x"}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}`,
    `{"inputs":[{"name":"t","shape":[3],"datatype":"BYTES","data":["a,b","[c]","\\u005d"]},{"name":"u","shape":[2],"datatype":"BOOL","data":[true,false]}]}`,
    ` { "parameters" : { "shape" : [1] , "data" : [1,2,3] } , "inputs" : [ ] } `,
    `{"inputs":[{"name":"e","shape":[0],"datatype":"FP32","data":[]}]}`,
  ];
  for (const body of bodies) {
    for (const size of [1, 3, 64, 100_000])
      assert.equal(scan(body, size), null, `${body} in chunks of ${size}`);
  }
});

test('more elements than the shape declares: refused at the first one over, naming the input', () => {
  const err = scan(
    `{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[${numbers(100_000)}]}]}`,
  );
  assert.equal(err?.code, 'TEND_INVALID_INPUT');
  assert.match(
    err?.message ?? '',
    /input 'pixels': 'data' has more than the 64 elements its shape \[1,64\] declares/,
  );
  // Refused early: the scanner stops at element 65, not at the end of the body.
  const scanner = new JsonInferScanner(1_000_000);
  const head = Buffer.from(`{"inputs":[{"name":"p","shape":[2],"datatype":"FP32","data":[1,2,3`);
  assert.throws(() => scanner.write(head), /more than the 2 elements/);
});

test('data before its shape is checked when the shape arrives; with no shape, against max_tensor_elements', () => {
  const late = scan(`{"inputs":[{"data":[${numbers(10)}],"shape":[1,4],"name":"x","datatype":"FP32"}]}`);
  assert.match(late?.message ?? '', /inputs\[0\]: 'data' has more than the 4 elements/);
  const noShape = scan(`{"inputs":[{"datatype":"FP32","data":[${numbers(101)}]}]}`, 5, 100);
  assert.match(
    noShape?.message ?? '',
    /inputs\[0\]: 'data' has more than limits\.max_tensor_elements \(100\)/,
  );
  // Nested data counts its leaves.
  const nested = scan(`{"inputs":[{"name":"n","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4],[5]]}]}`);
  assert.match(nested?.message ?? '', /more than the 4 elements/);
});

test('each input is counted on its own', () => {
  const body = `{"inputs":[{"name":"a","shape":[3],"datatype":"FP32","data":[1,2,3]},{"name":"b","shape":[2],"datatype":"FP32","data":[1,2,3]}]}`;
  assert.match(scan(body)?.message ?? '', /input 'b'/);
});

test('broken structure is refused as invalid JSON; what it cannot judge is left to the parser', () => {
  assert.equal(scan('{"inputs":[}')?.code, 'TEND_INVALID_JSON');
  assert.equal(scan('{"a":1]')?.code, 'TEND_INVALID_JSON');
  assert.equal(
    scan('{"a":1}}')?.code,
    undefined,
    'after the top value ends, the parser judges the trailing bytes',
  );
  assert.equal(scan('{"a":@}')?.code, 'TEND_INVALID_JSON');
  // Incomplete bodies and malformed numbers are the real parser's to name.
  assert.equal(scan('{"inputs":[{"data":[1.2.3'), null);
});
