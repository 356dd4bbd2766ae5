/** What a client sends in place of an id it did not have (`/suppliers/${undefined}`). */
const PLACEHOLDERS = new Set(['null', 'undefined', 'nan']);

/** An id as every route takes it, in the body or the path: a placeholder word is refused, not registered. */
export const notPlaceholder = (value: string) => !PLACEHOLDERS.has(value.toLowerCase());
export const PLACEHOLDER_REASON = 'must be a real id, not a placeholder such as "null" or "undefined"';
