/** Checking feedback items before they reach the store: a bad item is reported, the others still count. */
import { MAX_REQUEST_ID_BYTES, isOverBytes } from '../core/input-limits.js';
import type { ValidFeedback } from './log-writer-protocol.js';
import type { FeedbackResult } from './prediction-log-types.js';

export interface CheckedFeedback {
  valid: ValidFeedback[];
  rejected: FeedbackResult['rejected'];
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

function checkItem(raw: unknown): ValidFeedback | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return 'a feedback item must be an object';
  const item = raw as Record<string, unknown>;
  const { id, row, label, value } = item;
  if (typeof id !== 'string' || id.length === 0) return 'id must be a non-empty string (the request id)';
  if (isOverBytes(id, MAX_REQUEST_ID_BYTES))
    return `id is ${Buffer.byteLength(id)} bytes; the limit is ${MAX_REQUEST_ID_BYTES} (request ids are no longer)`;
  if (row !== undefined && !(Number.isSafeInteger(row) && (row as number) >= 0)) {
    return `row must be a non-negative integer, got ${describe(row)}`;
  }
  const hasLabel = label !== undefined && label !== null;
  const hasValue = value !== undefined && value !== null;
  if (hasLabel === hasValue) {
    return hasLabel
      ? 'give either label or value, not both'
      : 'give label (a class) or value (a regression target)';
  }
  if (hasLabel && !(Number.isSafeInteger(label) && (label as number) >= 0)) {
    return `label must be a class index (a non-negative integer), got ${describe(label)}`;
  }
  if (hasValue && !(typeof value === 'number' && Number.isFinite(value))) {
    return `value must be a finite number, got ${describe(value)}`;
  }
  return {
    id,
    row: (row as number | undefined) ?? 0,
    label: hasLabel ? (label as number) : null,
    value: hasValue ? (value as number) : null,
  };
}

/** Split feedback items into those to store and those rejected, each with a message naming its position. */
export function checkFeedback(items: readonly unknown[]): CheckedFeedback {
  const valid: ValidFeedback[] = [];
  const rejected: FeedbackResult['rejected'] = [];
  items.forEach((raw, index) => {
    const checked = checkItem(raw);
    if (typeof checked !== 'string') {
      valid.push(checked);
      return;
    }
    const id = (raw as { id?: unknown } | null)?.id;
    // An id over the limit is not echoed back.
    rejected.push({
      id: typeof id === 'string' && !isOverBytes(id, MAX_REQUEST_ID_BYTES) ? id : null,
      error: `item ${index}: ${checked}`,
    });
  });
  return { valid, rejected };
}
