/**
 * `tend token …`, `tend audit`, `tend keygen`, `tend sign`, `tend verify`: access and integrity from the
 * command line.
 */
import { resolve } from 'node:path';
import { errors } from '../../core/errors.js';
import { createApiToken, generateSigningKeys, signVersion, verifyVersionFile } from '../../engine/index.js';
import { printJson, printTable } from '../output.js';
import { actor, parseRef, withRegistry, withRegistryCreatingHome } from './registry.js';

interface CommonOptions {
  home?: string;
  json?: boolean;
}

export async function tokenCreateCommand(
  opts: CommonOptions & { name: string; scopes: string; models?: string },
): Promise<void> {
  const created = await withRegistryCreatingHome(opts.home, (registry) =>
    createApiToken(registry, {
      name: opts.name,
      scopes: opts.scopes,
      models: opts.models,
      createdBy: actor(),
    }),
  );
  if (opts.json) return printJson({ id: created.id, token: created.token });
  process.stdout.write(
    `token ${created.id} (${created.name}) with scopes ${created.scopes.join(', ')}${created.models ? ` on models ${created.models.join(', ')}` : ''}:\n\n  ${created.token}\n\n` +
      'It is shown this once; tend keeps only its SHA-256. Send it as "Authorization: Bearer <token>".\n',
  );
}

export async function tokenListCommand(opts: CommonOptions): Promise<void> {
  const tokens = await withRegistry(opts.home, (registry) => registry.tokens.list());
  if (opts.json) return printJson({ tokens });
  if (tokens.length === 0) {
    process.stdout.write(
      'no tokens: the server serves 127.0.0.1 only, to anyone on this machine. `tend token create --name NAME --scopes infer,read`\n',
    );
    return;
  }
  printTable(
    ['id', 'name', 'scopes', 'models', 'created', 'by', 'revoked', 'last used'],
    tokens.map((t) => [
      t.id,
      t.name,
      t.scopes.join(','),
      t.models?.join(',') ?? '*',
      t.created_at,
      t.created_by,
      t.revoked_at ?? '',
      t.last_used_at ?? '',
    ]),
  );
}

export async function tokenRevokeCommand(id: string, opts: CommonOptions): Promise<void> {
  const revoked = await withRegistry(opts.home, (registry) => registry.tokens.revoke(id, actor()));
  if (opts.json) return printJson(revoked);
  process.stdout.write(`token ${revoked.id} (${revoked.name}) revoked; servers refuse it within a second\n`);
}

export async function auditCommand(
  opts: CommonOptions & { limit?: string; action?: string; since?: string },
): Promise<void> {
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw errors.invalidArgument(`--limit '${opts.limit}' must be a positive whole number`);
  }
  let since: string | undefined;
  if (opts.since !== undefined) {
    const at = new Date(opts.since);
    if (Number.isNaN(at.getTime()))
      throw errors.invalidArgument(
        `--since '${opts.since}' is not a date (e.g. 2026-11-26 or 2026-11-26T10:00:00Z)`,
      );
    since = at.toISOString();
  }
  const entries = await withRegistry(opts.home, (registry) =>
    registry.audit.list({
      ...(limit !== undefined ? { limit } : {}),
      ...(opts.action !== undefined ? { action: opts.action } : {}),
      ...(since !== undefined ? { since } : {}),
    }),
  );
  if (opts.json) return printJson({ entries });
  if (entries.length === 0) {
    process.stdout.write('no audit entries yet\n');
    return;
  }
  const brief = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v).slice(0, 60));
  printTable(
    ['seq', 'at', 'actor', 'source', 'action', 'target', 'outcome', 'before', 'after'],
    entries.map((e) => [
      e.seq,
      e.at,
      e.actor,
      e.source,
      e.action,
      e.target ?? '',
      e.outcome + (e.detail ? ` (${e.detail.slice(0, 60)})` : ''),
      brief(e.before),
      brief(e.after),
    ]),
  );
}

export async function keygenCommand(opts: { out: string; json?: boolean }): Promise<void> {
  const keys = generateSigningKeys(resolve(opts.out));
  if (opts.json) return printJson(keys);
  process.stdout.write(
    `ed25519 key ${keys.key_id}\n  private: ${keys.private_key} (keep it secret)\n  public:  ${keys.public_key}\n` +
      `sign: tend sign NAME@VERSION --key ${keys.private_key}\ntrust: copy the public key into the folder named by security.trusted_keys_dir\n`,
  );
}

export async function signCommand(ref: string, opts: CommonOptions & { key: string }): Promise<void> {
  const { name, version } = parseRef(ref);
  const signed = await withRegistry(opts.home, (registry) =>
    signVersion(registry, name, version, resolve(opts.key), actor()),
  );
  if (opts.json) return printJson(signed);
  process.stdout.write(
    `${signed.name} version ${signed.version} signed by key ${signed.key_id} (sha256 ${signed.sha256.slice(0, 16)}…)\n`,
  );
}

export async function verifyCommand(ref: string, opts: CommonOptions & { keys?: string }): Promise<void> {
  const { name, version } = parseRef(ref);
  const keysDir = opts.keys ?? process.env['TEND_TRUSTED_KEYS_DIR'];
  const result = await withRegistry(opts.home, async (registry) => {
    const record = await registry.models.resolveVersion(name, version ?? 'latest');
    return {
      record,
      check: await verifyVersionFile(registry, record, keysDir === undefined ? undefined : resolve(keysDir)),
    };
  });
  const { record, check } = result;
  const ok = check.sha256_ok && (check.signature === null || check.signature.ok);
  if (opts.json) {
    printJson({
      name: record.name,
      version: record.version,
      sha256: record.sha256,
      sha256_ok: check.sha256_ok,
      signature:
        check.signature === null
          ? null
          : check.signature.ok
            ? { ok: true, key_id: check.signature.keyId }
            : { ok: false, check: check.signature.check, reason: check.signature.reason },
      ok,
    });
  } else {
    process.stdout.write(
      `${record.name} version ${record.version}: file ${check.sha256_ok ? 'matches' : 'DOES NOT match'} its sha256 ${record.sha256.slice(0, 16)}…\n`,
    );
    if (check.signature === null)
      process.stdout.write('signature: not checked (give --keys DIR with the trusted public keys)\n');
    else
      process.stdout.write(
        check.signature.ok
          ? `signature: valid, key ${check.signature.keyId}\n`
          : `signature: ${check.signature.reason}\n`,
      );
  }
  if (!ok) process.exitCode = 1;
}
