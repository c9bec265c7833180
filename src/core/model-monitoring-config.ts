/** A model's own monitoring settings (its config's `monitoring` section): prediction log privacy and retention. */
import { z } from 'zod';

/** What the prediction log keeps of one input feature (privacy): see the README's Monitoring section. */
export const RedactRuleSchema = z
  .object({
    /** The feature: its column index, or its name in the reference data set's header. */
    feature: z.union([z.number().int().nonnegative(), z.string().min(1)]),
    /**
     * `drop`: never stored (logged as missing); `summary`: the row's features are not stored, only their
     * summary (mean, std, min, max, count, over the features not dropped or hashed); `hash`: a salted
     * 24-bit hash of the value is stored instead, for joins.
     */
    action: z.enum(['drop', 'summary', 'hash']),
  })
  .strict();

export const ModelMonitoringSchema = z
  .object({
    /** Redaction rules applied before a logged row leaves the request path. */
    redact: z.array(RedactRuleSchema).default([]),
    /** Logged rows of this model older than this are deleted (overrides the server's retention_days). */
    retention_days: z.number().positive().max(3650).optional(),
  })
  .strict();

export type RedactRule = z.infer<typeof RedactRuleSchema>;
export type ModelMonitoringConfig = z.infer<typeof ModelMonitoringSchema>;
