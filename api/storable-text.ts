/**
 * Postgres cannot store a NUL byte in text, nor an unpaired UTF-16 surrogate; letting one through
 * would fail deep in a transaction as a server error. Found at the door instead, with its path.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_REASON = 'must not contain NUL bytes or unpaired surrogates';

/** The path of the first string (or key) in a parsed body that cannot be stored, if any. */
export function unstorableTextPath(body: unknown): string | undefined {
  // Iterative, so a hostile, deeply nested body cannot exhaust the stack.
  const pending: [unknown, string][] = [[body, '']];
  while (pending.length > 0) {
    const [value, path] = pending.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return path || '(body)';
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push([item, path ? `${path}.${i}` : String(i)]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        if (UNSTORABLE.test(key)) return at;
        pending.push([item, at]);
      }
    }
  }
  return undefined;
}
