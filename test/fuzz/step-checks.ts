/**
 * What one registry command may have done, judged from the registry before and after it, whether
 * it finished or was killed: a push leaves its version with every alias it asked for and its 'ok'
 * audit entry, or none of them; `alias set` leaves the alias where it was or where it was asked
 * to go; `token revoke` leaves the token revoked or not; an 'ok' audit entry always describes work
 * that committed. Problems are returned, not thrown.
 */
import type { RegistryState } from './crash-checks.js';

/** What the command was asked to do (the parts that can be checked afterwards). */
export type StepIntent =
  | { kind: 'push'; model: string; aliases: string[] }
  | { kind: 'alias'; model: string; alias: string; version: number }
  | { kind: 'revoke'; id: string }
  | { kind: 'other' };

export interface StepRun {
  killed: boolean;
  code: number | null;
}

const versionKey = (model: string, version: unknown): string => `${model}:${String(version)}`;

function aliasOf(state: RegistryState, model: string, alias: string): number | undefined {
  return state.aliases.find((a) => a.model_name === model && a.alias === alias)?.version;
}

function revokedAt(state: RegistryState, id: string): string | null | undefined {
  const token = state.tokens.find((t) => t.id === id);
  return token === undefined ? undefined : token.revoked_at;
}

/** Check the step from `before` to `after` (bystander commands included: they are audited too). */
export function checkStep(
  before: RegistryState,
  after: RegistryState,
  intent: StepIntent,
  run: StepRun,
): string[] {
  const problems: string[] = [];
  const lastSeq = before.audit.at(-1)?.seq ?? 0;
  const entries = after.audit.filter((e) => e.seq > lastSeq);
  const ok = (action: string) => entries.filter((e) => e.action === action && e.outcome === 'ok');

  // Every version made in this step has its 'ok' push entry and every 'ok' push entry its version:
  // the two commit in one transaction.
  const known = new Set(before.versions.map((v) => versionKey(v.model_name, v.version)));
  const created = after.versions.filter((v) => !known.has(versionKey(v.model_name, v.version)));
  const createdKeys = created.map((v) => versionKey(v.model_name, v.version)).sort();
  const auditedKeys = ok('model.push')
    .map((e) => versionKey(e.target ?? '?', (e.after as { version?: unknown } | null)?.version))
    .sort();
  if (JSON.stringify(createdKeys) !== JSON.stringify(auditedKeys)) {
    problems.push(
      `versions created ${JSON.stringify(createdKeys)} but 'ok' push entries for ${JSON.stringify(auditedKeys)}`,
    );
  }

  for (const e of ok('alias.move')) {
    const [model = '', alias = ''] = (e.target ?? '').split('@');
    const to = (e.after as { version?: number } | null)?.version;
    if (aliasOf(after, model, alias) !== to)
      problems.push(
        `an 'ok' alias.move says ${e.target} → ${String(to)}, the alias is at ${String(aliasOf(after, model, alias))}`,
      );
  }
  for (const e of ok('token.revoke')) {
    if (!revokedAt(after, e.target ?? ''))
      problems.push(`an 'ok' token.revoke for ${e.target} but the token is not revoked`);
  }
  for (const t of before.tokens) {
    if (t.revoked_at !== null && revokedAt(after, t.id) !== t.revoked_at)
      problems.push(`token ${t.id} was revoked and no longer is`);
  }

  const finishedOk = !run.killed && run.code === 0;
  const failed = !run.killed && run.code !== 0;
  switch (intent.kind) {
    case 'push': {
      const mine = created.filter((v) => v.model_name === intent.model);
      if (mine.length > 1) problems.push(`one push made ${mine.length} versions of ${intent.model}`);
      if (finishedOk && mine.length !== 1)
        problems.push(`push of ${intent.model} exited 0 but made no version`);
      if (failed && mine.length > 0)
        problems.push(
          `push of ${intent.model} failed (exit ${run.code}) but made version ${mine[0]?.version}`,
        );
      const version = mine[0]?.version;
      if (version !== undefined) {
        const missing = intent.aliases.filter((a) => aliasOf(after, intent.model, a) !== version);
        if (missing.length > 0)
          problems.push(
            `${intent.model} version ${version} exists without alias(es) ${missing.join(', ')} its push asked for`,
          );
      }
      break;
    }
    case 'alias': {
      const was = aliasOf(before, intent.model, intent.alias);
      const now = aliasOf(after, intent.model, intent.alias);
      if (now !== was && now !== intent.version)
        problems.push(
          `${intent.model}@${intent.alias} went from ${String(was)} to ${String(now)}, asked ${intent.version}`,
        );
      if (finishedOk && now !== intent.version)
        problems.push(
          `alias set exited 0 but ${intent.model}@${intent.alias} is at ${String(now)}, not ${intent.version}`,
        );
      break;
    }
    case 'revoke': {
      const was = revokedAt(before, intent.id);
      const now = revokedAt(after, intent.id);
      if (now === undefined) problems.push(`token ${intent.id} disappeared`);
      if (finishedOk && !now)
        problems.push(`token revoke ${intent.id} exited 0 but the token is not revoked`);
      if (failed && was === null && now)
        problems.push(`token revoke ${intent.id} failed (exit ${run.code}) but the token is revoked`);
      break;
    }
    case 'other':
      break;
  }
  return problems;
}
