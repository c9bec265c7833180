/**
 * Feedback labels given as class names, mapped to the class indices the prediction log stores.
 * A name the model does not have is rejected per item (with the item's id), not for the request.
 */
import { MAX_LABEL_BYTES, MAX_REQUEST_ID_BYTES, isOverBytes } from '../../core/input-limits.js';
import type { FeedbackResult } from '../../monitor/prediction-log.js';

/**
 * The feedback items with string labels replaced by their class index (other items unchanged), and
 * the items rejected for a label that is not a class of `model`.
 */
export function labelsToIndices(
  model: string,
  items: readonly unknown[],
  classNames: readonly string[] | undefined,
): { mapped: unknown[]; rejected: FeedbackResult['rejected'] } {
  const rejected: FeedbackResult['rejected'] = [];
  const mapped: unknown[] = [];
  for (const item of items) {
    if (
      item !== null &&
      typeof item === 'object' &&
      typeof (item as Record<string, unknown>)['label'] === 'string'
    ) {
      const it = item as Record<string, unknown>;
      const name = it['label'] as string;
      const index = classNames ? classNames.indexOf(name) : -1;
      if (index < 0) {
        const id =
          typeof it['id'] === 'string' && !isOverBytes(it['id'], MAX_REQUEST_ID_BYTES) ? it['id'] : null;
        if (isOverBytes(name, MAX_LABEL_BYTES)) {
          rejected.push({
            id,
            error: `label is ${Buffer.byteLength(name)} bytes; the limit is ${MAX_LABEL_BYTES}`,
          });
          continue;
        }
        rejected.push({
          id,
          error: classNames
            ? `label '${name}' is not a class of model '${model}' (classes: ${classNames.slice(0, 20).join(', ')}${classNames.length > 20 ? ', …' : ''})`
            : `label '${name}' is a class name, but model '${model}' has no class names: send the class index as a number`,
        });
        continue;
      }
      mapped.push({ ...it, label: index });
    } else mapped.push(item);
  }
  return { mapped, rejected };
}
