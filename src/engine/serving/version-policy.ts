import type { VersionPolicy } from '../../core/config.js';

/** The versions a Triton-style version policy keeps loaded, highest first. */
export function selectVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...new Set(available)].sort((a, b) => b - a);
  if ('latest' in policy) return sorted.slice(0, policy.latest.num_versions);
  if ('all' in policy) return sorted;
  const wanted = new Set(policy.specific.versions);
  return sorted.filter((v) => wanted.has(v));
}
