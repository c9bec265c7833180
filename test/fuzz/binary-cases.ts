/**
 * Hostile bodies of the binary tensor extension: a JSON header whose length travels in
 * Inference-Header-Content-Length, then raw tensor bytes — with the header length, the
 * binary_data_size values and the bytes themselves lying in every way a client can lie.
 */
import type { HttpCase } from './fuzz-case.js';
import type { FuzzRandom } from './fuzz-random.js';
import { MAX_BATCH, MODELS } from './fuzz-models.js';
import { inferPath } from './v2-json-cases.js';
import { rawBytesOf, validElement, type JsonValue } from './tensor-values.js';

export function binaryCase(r: FuzzRandom): HttpCase {
  const model = r.pick(MODELS);
  const batch = r.int(1, r.chance(0.9) ? 3 : MAX_BATCH);
  const chunks: Buffer[] = [];
  const inputs = model.inputs.map((spec) => {
    const shape = [batch, ...spec.inner];
    const count = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: count }, () => validElement(r, spec.datatype, spec.name));
    const input: Record<string, JsonValue> = { name: spec.name, datatype: spec.datatype, shape };
    if (r.chance(0.75)) {
      const bytes = rawBytesOf(spec.datatype, values);
      chunks.push(bytes);
      input['parameters'] = { binary_data_size: bytes.length };
    } else {
      input['data'] = values;
    }
    return input;
  });
  const body: Record<string, JsonValue> = { inputs };
  if (r.chance(0.4))
    body['parameters'] = { binary_data_output: r.pick<JsonValue>([true, true, false, 'true', 1, null]) };
  if (r.chance(0.3))
    body['outputs'] = model.outputs.map((name) => ({
      name,
      parameters: { binary_data: r.pick<JsonValue>([true, false, 1, 'x']) },
    }));

  const lie = r.weighted<string>([
    [3, 'none'],
    [2, 'header-length'],
    [3, 'binary-size'],
    [2, 'truncate'],
    [1, 'trailing'],
    [1, 'bytes-prefix'],
    [1, 'bool-byte'],
    [1, 'both'],
    [1, 'no-header'],
  ]);
  const withSize = inputs.filter((i) => i['parameters'] !== undefined);
  const target = withSize.length > 0 ? r.pick(withSize) : undefined;
  if (lie === 'binary-size' && target) {
    const params = target['parameters'] as Record<string, JsonValue>;
    const size = params['binary_data_size'] as number;
    params['binary_data_size'] = r.pick<JsonValue>([
      size + 1,
      size - 1,
      size * 2,
      0,
      -1,
      -size,
      1.5,
      String(size),
      null,
      2 ** 31,
      2 ** 53,
      1e300,
      true,
      [size],
      {},
    ]);
  }
  if (lie === 'both' && target) target['data'] = [1, 2, 3];
  let json = Buffer.from(JSON.stringify(body));
  let binary = Buffer.concat(chunks);
  if (lie === 'bytes-prefix' && model.name === 'mixed') {
    // Rewrite the first BYTES length prefix inside the binary part of a mixed request.
    const text = inputs.find((i) => i['name'] === 'text' && i['parameters'] !== undefined);
    if (text) {
      let offset = 0;
      for (const i of inputs) {
        if (i === text) break;
        const p = i['parameters'] as Record<string, number> | undefined;
        if (p) offset += p['binary_data_size'] as number;
      }
      if (offset + 4 <= binary.length)
        binary.writeUInt32LE(r.pick([0xffffffff, 0x7fffffff, binary.length, 5, 0]), offset);
    }
  }
  if (lie === 'bool-byte') {
    const flag = inputs.find((i) => i['name'] === 'flag' && i['parameters'] !== undefined);
    if (flag) {
      let offset = 0;
      for (const i of inputs) {
        if (i === flag) break;
        const p = i['parameters'] as Record<string, number> | undefined;
        if (p) offset += p['binary_data_size'] as number;
      }
      if (offset < binary.length) binary[offset] = r.int(2, 255);
    }
  }
  if (lie === 'truncate') binary = binary.subarray(0, r.int(0, Math.max(0, binary.length - 1)));
  if (lie === 'trailing') binary = Buffer.concat([binary, r.bytes(r.int(1, 16))]);
  if (r.chance(0.05)) json = Buffer.from(json.toString().slice(0, r.int(0, json.length)));

  const headers: Record<string, string | string[]> = {
    'content-type': r.pick(['application/octet-stream', 'application/json', 'application/vnd.x']),
  };
  if (lie !== 'no-header') {
    let length = String(json.length);
    if (lie === 'header-length') {
      length = r.pick([
        String(json.length + 1),
        String(json.length - 1),
        String(json.length + binary.length + 1),
        '-1',
        '0',
        '',
        ' ',
        'abc',
        '1e3',
        '0x10',
        `${json.length}.0`,
        ` ${json.length} `,
        '+5',
        '99999999999999999999999999',
        String(2 ** 53 + 1),
        '١٢',
      ]);
    }
    headers['inference-header-content-length'] = r.chance(0.05) ? [length, length] : length;
  }
  return {
    transport: 'http',
    category: `binary/${lie}`,
    method: 'POST',
    path: inferPath(r, model.name),
    headers,
    body: Buffer.concat([json, binary]),
  };
}
