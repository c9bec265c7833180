/**
 * Bounded previews of client values for error messages: a malformed request can hold anything, and
 * the message must stay short and never throw.
 */
/**
 * A short JSON preview of a client's value for an error message. Bounded in depth and length and
 * never throws: JSON.stringify of a value nested ten thousand deep overflows the stack.
 */
export function previewValue(value: unknown, maxChars = 40): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (text: string): void => {
    parts.push(text);
    length += text.length;
  };
  const walk = (v: unknown, depth: number): void => {
    if (length > maxChars) return;
    if (Array.isArray(v)) {
      if (depth >= 4) return emit('[…]');
      emit('[');
      for (let i = 0; i < v.length && length <= maxChars; i++) {
        if (i > 0) emit(',');
        walk(v[i], depth + 1);
      }
      emit(']');
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= 4) return emit('{…}');
      emit('{');
      let first = true;
      for (const key in v) {
        if (length > maxChars) break;
        if (!first) emit(',');
        first = false;
        emit(`${JSON.stringify(key.slice(0, maxChars))}:`);
        walk((v as Record<string, unknown>)[key], depth + 1);
      }
      emit('}');
    } else if (typeof v === 'string') {
      emit(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars + 1) : v));
    } else {
      emit(String(v));
    }
  };
  walk(value, 0);
  const text = parts.join('');
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
