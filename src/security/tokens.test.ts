import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TendError } from '../core/errors.js';
import { parseModelGlobs, parseScopes } from './scopes.js';
import {
  MIN_TOKEN_LENGTH,
  deriveTokenId,
  generateToken,
  generateTokenId,
  hashToken,
  isTokenId,
  isWellFormedToken,
  parseAuthorizationHeader,
  parseTokensFile,
} from './tokens.js';

function configError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError);
    assert.equal(err.code, 'TEND_INVALID_CONFIG');
    assert.match(err.message, pattern);
    return true;
  });
}

test('generateToken: tend_ + 43 base64url characters, different every time, well formed', () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^tend_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(Buffer.from(a.slice(5), 'base64url').length, 32);
  assert.ok(isWellFormedToken(a));
  assert.equal(parseAuthorizationHeader(`Bearer ${a}`), a);
});

test('hashToken is the lowercase hex SHA-256 of the token', () => {
  assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(hashToken('x'), createHash('sha256').update('x').digest('hex'));
});

test('token ids: 12 hex characters; derived ids are stable and not a prefix of the hash', () => {
  const id = generateTokenId();
  assert.ok(isTokenId(id));
  assert.notEqual(generateTokenId(), id);
  const hash = hashToken(generateToken());
  assert.equal(deriveTokenId(hash), deriveTokenId(hash));
  assert.ok(isTokenId(deriveTokenId(hash)));
  assert.ok(!hash.startsWith(deriveTokenId(hash)));
  assert.equal(isTokenId('ABCDEF012345'), false);
  assert.equal(isTokenId('abc'), false);
});

test('parseAuthorizationHeader: no header is null; Bearer in any case is accepted', () => {
  assert.equal(parseAuthorizationHeader(undefined), null);
  assert.equal(parseAuthorizationHeader('Bearer abc.DEF-_~+/='), 'abc.DEF-_~+/=');
  assert.equal(parseAuthorizationHeader('bearer tok'), 'tok');
  assert.equal(parseAuthorizationHeader('BEARER tok'), 'tok');
  assert.equal(parseAuthorizationHeader('bEaReR tok=='), 'tok==');
});

test('parseAuthorizationHeader: everything else is malformed', () => {
  const malformed = [
    '',
    'Bearer',
    'Bearer ',
    'Bearer  tok', // two spaces
    ' Bearer tok',
    'Bearer tok ',
    'Bearer tok extra',
    'Bearer\ttok',
    'Bearertok',
    'Basic dXNlcjpwYXNz',
    'Token tok',
    'tok',
    'Bearer tok\u0000',
    'Bearer tok\n',
    'Bearer to\u00e9k',
    'Bearer tok:colon',
    'Bearer t"k',
    'Bearer =tok', // padding only at the end
    'Bearer tok=x',
    `Bearer ${'a'.repeat(506)}`, // 513 characters in all
  ];
  for (const value of malformed) {
    assert.equal(parseAuthorizationHeader(value), 'malformed', JSON.stringify(value));
  }
  assert.equal(parseAuthorizationHeader(`Bearer ${'a'.repeat(505)}`), 'a'.repeat(505)); // exactly 512
});

const T1 = 'tend_' + 'A'.repeat(43);
const T2 = '0123456789abcdef0123456789abcdef';

test('parseTokensFile reads name:scopes:token lines, comments, blanks, CRLF and model globs', () => {
  const text = [
    '# provisioned by the Helm chart',
    '',
    `ci:deploy,read:${T1}`,
    `  app : infer : ${T2} : models=fraud-*,churn  \r`,
    '   # indented comment',
  ].join('\n');
  const tokens = parseTokensFile(text, 'tokens.txt');
  assert.deepEqual(tokens, [
    {
      id: deriveTokenId(hashToken(T1)),
      name: 'ci',
      scopes: ['read', 'deploy'],
      models: null,
      tokenHash: hashToken(T1),
    },
    {
      id: deriveTokenId(hashToken(T2)),
      name: 'app',
      scopes: ['infer'],
      models: ['fraud-*', 'churn'],
      tokenHash: hashToken(T2),
    },
  ]);
  assert.deepEqual(parseTokensFile('', 'x'), []);
  assert.deepEqual(parseTokensFile('# nothing\n\n', 'x'), []);
  assert.deepEqual(parseTokensFile(`a:read:${T1}:models=`, 'x')[0]?.models, null);
});

test('parseTokensFile names the source and line of each bad line', () => {
  const ok = `ok:read:${T2}\n`;
  configError(
    () => parseTokensFile(`${ok}just-one-field`, 'tokens.txt'),
    /^tokens\.txt line 2: expected name:scopes:token/,
  );
  configError(() => parseTokensFile(`${ok}a:read`, 'f'), /line 2: expected .* \(found 2 field/);
  configError(
    () => parseTokensFile(`a:read:${T1}:models=x:extra`, 'f'),
    /line 1: expected .* \(found 5 field/,
  );
  configError(() => parseTokensFile(`-bad:read:${T1}`, 'f'), /line 1: invalid token name/);
  configError(() => parseTokensFile(`:read:${T1}`, 'f'), /line 1: invalid token name/);
  configError(() => parseTokensFile(`a:reed:${T1}`, 'f'), /line 1: unknown scope 'reed'; valid scopes/);
  configError(() => parseTokensFile(`a::${T1}`, 'f'), /line 1: no scopes given/);
  configError(
    () => parseTokensFile('a:read:short', 'f'),
    new RegExp(`line 1: the token must be ${MIN_TOKEN_LENGTH} to 512`),
  );
  configError(() => parseTokensFile(`a:read:${'x'.repeat(31)}`, 'f'), /the token must be/);
  configError(() => parseTokensFile(`a:read:${T1.slice(0, 20)} ${T1.slice(20)}`, 'f'), /the token must be/);
  configError(() => parseTokensFile(`a:read:${T1}:fraud-*`, 'f'), /line 1: the 4th field must be models=/);
  configError(() => parseTokensFile(`a:read:${T1}:models=a/b`, 'f'), /line 1: invalid model glob 'a\/b'/);
  configError(
    () => parseTokensFile(`a:read:${T1}\na:infer:${T2}`, 'f'),
    /line 2: the token name is already used on line 1/,
  );
  configError(
    () => parseTokensFile(`a:read:${T1}\n\nb:infer:${T1}`, 'f'),
    /line 3: the token already appears on line 1/,
  );
});

test('no error message ever contains a token, whatever field it lands in', () => {
  const secrets = [generateToken(), '0123456789abcdef0123456789abcdef0123', 'tend_' + 'z'.repeat(43)];
  const attempts: Array<() => unknown> = [];
  for (const s of secrets) {
    attempts.push(
      () => parseTokensFile(s, 'f'),
      () => parseTokensFile(`${s}:read`, 'f'),
      () => parseTokensFile(`name:${s}:${s}`, 'f'), // token pasted into the scopes field
      () => parseTokensFile(`name:read,${s}:${T1}`, 'f'),
      () => parseTokensFile(`${s}:read:short`, 'f'), // fields swapped
      () => parseTokensFile(`name:read:${s}:models=${s}/x`, 'f'),
      () => parseTokensFile(`name:read:${s}:${s}`, 'f'),
      () => parseTokensFile(`${s}:read:${T1}\n${s}:read:${T2}`, 'f'), // duplicate name that is a token
      () => parseTokensFile(`a:read:${s}\nb:read:${s}`, 'f'),
      () => parseTokensFile(`a:read:${s}x y`, 'f'),
      () => parseTokensFile(`a:read:${s}\u0000`, 'f'),
      () => parseScopes(s),
      () => parseScopes(`read,${s}`),
      () => parseModelGlobs(`${s}/`),
    );
  }
  let failures = 0;
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (err) {
      failures++;
      const text = err instanceof Error ? `${err.message} ${String(err.stack)}` : String(err);
      for (const s of secrets) {
        // Not even a recognizable piece of it.
        assert.ok(
          !text.includes(s.slice(0, 16)) && !text.includes(s.slice(-16)),
          `leaked in: ${text.split('\n')[0]}`,
        );
      }
    }
  }
  assert.equal(failures, attempts.length);
  // A malformed header is reported as such, never thrown with its content.
  for (const s of secrets) assert.equal(parseAuthorizationHeader(`Basic ${s}`), 'malformed');
});
