import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOGUE, FIX_IN_MESSAGE, errors } from '../core/errors.js';
import { reportError } from './output.js';

/** What reportError writes to stderr, and its exit code. */
function report(t: TestContext, err: unknown): { line: string; exitCode: number } {
  let line = '';
  const stderr = t.mock.method(process.stderr, 'write', (chunk: string) => {
    line += chunk;
    return true;
  });
  try {
    return { exitCode: reportError(err), line };
  } finally {
    stderr.mock.restore();
  }
}

test("an error prints as one line with its code's hint from the catalogue", (t) => {
  const { line, exitCode } = report(t, errors.modelNotFound('iris'));
  assert.equal(line, `error: model 'iris' not found — ${ERROR_CATALOGUE.TEND_MODEL_NOT_FOUND.hint}\n`);
  assert.equal(exitCode, 1);
  const imported = report(t, errors.invalidModel('m.onnx is not a valid ONNX model; nothing was imported'));
  assert.equal(
    imported.line,
    `error: m.onnx is not a valid ONNX model; nothing was imported — ${ERROR_CATALOGUE.TEND_INVALID_MODEL.hint}\n`,
  );
});

test("an error's own hint wins over its code's", (t) => {
  const { line } = report(t, errors.invalidArchive('a.tar is not a tar archive', { hint: 'copy it again' }));
  assert.equal(line, 'error: a.tar is not a tar archive — copy it again\n');
});

test("a message that says how to fix it after ' — ', or with an empty hint of its own, gets no second hint", (t) => {
  const { line } = report(t, errors.invalidArgument("invalid URL 'x' — give the full infer URL"));
  assert.equal(line, "error: invalid URL 'x' — give the full infer URL\n");
  const taken = report(
    t,
    errors.conflict(
      "model 'digits' already exists; import it under another name (--as NAME)",
      FIX_IN_MESSAGE,
    ),
  );
  assert.equal(
    taken.line,
    "error: model 'digits' already exists; import it under another name (--as NAME)\n",
  );
});

test("tend's own faults exit 2; anything not a TendError prints without a hint", (t) => {
  assert.equal(report(t, errors.internal('broken')).exitCode, 2);
  const { line, exitCode } = report(t, new Error('boom'));
  assert.equal(line, 'error: boom\n');
  assert.equal(exitCode, 2);
});
