import fc from 'fast-check';
import { NON_INTEGERS, NUMERIC_EDGES } from './schema-values';

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\t',
  'null',
  'undefined',
  '..',
  '../../etc/passwd',
  "'; DROP TABLE stock_movements; --",
  '<script>alert(1)</script>',
  '%s%s%n',
  '__proto__',
  'NaN',
  '1e309',
  '-0',
  '5',
  'été',
  '🧦'.repeat(20),
  '\u202eevil',
  'x'.repeat(500),
  'x'.repeat(10_000),
] as const;

function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Marks a field to be left out of the request. */
const OMITTED = Symbol('omitted');

/** Any JSON value a careless or malicious client might put where a field belongs. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(...NUMERIC_EDGES, ...NON_INTEGERS) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [1], { $gt: '' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map(nested) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A replacement for one field: a hostile value, or the field left out. */
export const fieldReplacement: fc.Arbitrary<unknown> = fc.oneof({ weight: 5, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant(OMITTED) });

/**
 * Path segments as sent on the wire (already percent-encoded where that is the point): ids that
 * are really a client's bug (`null`, `undefined`, blanks), traversal, encoded slashes, unicode,
 * broken encodings, and the numeric edges written as text.
 */
const HOSTILE_SEGMENTS = [
  'null',
  'undefined',
  '%20',
  '%20%20%20',
  '%09',
  'x'.repeat(500),
  '..',
  '%2E%2E',
  '%2F',
  'a%2Fb',
  '..%2F..%2Fetc',
  '%C3%A9t%C3%A9',
  '%F0%9F%A7%A6',
  '%E2%80%AE',
  '%00',
  '%ED%A0%80',
  '%',
  '%zz',
  'NaN',
  'Infinity',
  ...[...NUMERIC_EDGES, ...NON_INTEGERS].map(String),
] as const;

export const hostileSegment: fc.Arbitrary<string> = fc.constantFrom(...HOSTILE_SEGMENTS);

/** Whole request bodies that are not what any route expects. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{"unterminated": [', '1e309', '', 'null', '[]', '"text"', '{"a":1,"a":2}', `${'['.repeat(5000)}${']'.repeat(5000)}`),
  hostileValue.map((value) => JSON.stringify(value) ?? 'null'),
);

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

const at = (value: unknown, path: Path): unknown => path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);

/** Where a value holds numbers, nested ones included. */
export function numericPathsOf(value: unknown): Path[] {
  return pathsOf(value).filter((path) => typeof at(value, path) === 'number');
}

/** A copy of the value with the field at `path` set to `replacement`, or left out when it is OMITTED. */
export function withFieldSet(value: unknown, path: Path, replacement: unknown): unknown {
  const copy = structuredClone(value);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1];
  if (replacement !== OMITTED) parent[key] = replacement;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return copy;
}

/**
 * The value with the field at `pick` (modulo the number of fields, nested ones included) replaced,
 * or left out when the replacement is OMITTED. A value without fields gets an unexpected one.
 */
export function withOneFieldMutated(value: unknown, pick: number, replacement: unknown): unknown {
  const paths = pathsOf(value);
  if (paths.length > 0) return withFieldSet(value, paths[pick % paths.length], replacement);
  if (value !== null && typeof value === 'object') return { ...value, unexpected: replacement === OMITTED ? null : replacement };
  return replacement === OMITTED ? undefined : replacement;
}
