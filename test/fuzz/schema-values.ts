import fc from 'fast-check';

/** The subset of JSON Schema (OpenAPI 3.0 flavour) that z.toJSONSchema writes for our routes. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

/**
 * Values that real data rarely has and code often gets wrong: the edges of 32-bit and 53-bit
 * integers, of our 1,000,000,000 quantity cap, and the largest double.
 */
export const NUMERIC_EDGES = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 1_000_000_000, 1_000_000_001, 2 ** 53 - 1, 2 ** 53, 1e308, -1e308] as const;
export const NON_INTEGERS = [0.5, 1.5, -0.5, 1e-9, 2 ** 31 - 0.5] as const;

/**
 * Known-good values by field name (SKUs in the catalogue, registered suppliers, owners), so that
 * most generated requests name things that exist and get past the lookups to the services and
 * workflows behind them.
 */
export type Vocabulary = Readonly<Record<string, readonly unknown[]>>;

const MAX_GENERATED_ITEMS = 3;

/**
 * Values valid for `schema` (as far as JSON Schema can say), mostly drawn from the vocabulary when
 * the field has an entry there and the schema does not fix the value itself (a discriminator).
 */
export function schemaValues(schema: JsonSchema, vocabulary: Vocabulary, field?: string): fc.Arbitrary<unknown> {
  const fixed = schema.enum !== undefined || schema.const !== undefined;
  const known = field !== undefined && !fixed ? vocabulary[field] : undefined;
  const generated = fromSchema(schema, vocabulary);
  return known && known.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated }) : generated;
}

function fromSchema(schema: JsonSchema, vocabulary: Vocabulary): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => schemaValues(s, vocabulary)));
  switch (schema.type) {
    case 'object':
      return objectValues(schema, vocabulary);
    case 'array':
      return fc.array(schemaValues(schema.items ?? {}, vocabulary), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, Math.max(schema.minItems ?? 0, MAX_GENERATED_ITEMS)),
      });
    case 'string':
      return stringValues(schema);
    case 'integer':
      return integerValues(schema);
    case 'number':
      return fc.oneof({ weight: 4, arbitrary: numberValues(schema) }, { weight: 1, arbitrary: fc.constantFrom(...NON_INTEGERS) });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectValues(schema: JsonSchema, vocabulary: Vocabulary): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  if (Object.keys(properties).length === 0 && typeof schema.additionalProperties === 'object') {
    return fc.dictionary(fc.string({ maxLength: 10 }), schemaValues(schema.additionalProperties, vocabulary), { maxKeys: 3 });
  }
  const shape = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, schemaValues(property, vocabulary, name)]));
  return fc.record(shape, { requiredKeys: schema.required ?? [] });
}

function stringValues(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 40;
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern) {
    return fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' }).filter((s) => s.length >= minLength && s.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, Math.max(minLength, 20)) });
}

/**
 * A number's values: whole numbers where its range holds any (zod describes a preprocessed whole
 * number, a feed quantity, as a plain number), else fractions within it (a service level) and its ends.
 */
function numberValues(schema: JsonSchema): fc.Arbitrary<number> {
  const min = schema.minimum ?? Number.MIN_SAFE_INTEGER;
  const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  if (Math.ceil(min) <= Math.floor(max)) return integerValues({ ...schema, minimum: Math.ceil(min), maximum: Math.floor(max) });
  return fc.oneof(fc.double({ min, max, noNaN: true }), fc.constantFrom(min, max));
}

function integerValues(schema: JsonSchema): fc.Arbitrary<number> {
  const lowest = schema.minimum ?? Number.MIN_SAFE_INTEGER;
  const highest = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  const min = schema.exclusiveMinimum === true ? lowest + 1 : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : lowest;
  const max = schema.exclusiveMaximum === true ? highest - 1 : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : highest;
  const edges = [...new Set([min, max, ...NUMERIC_EDGES].filter((n) => n >= min && n <= max))];
  return fc.oneof(
    { weight: 2, arbitrary: fc.integer(clamped(min, max, -100, 100)) },
    { weight: 3, arbitrary: fc.constantFrom(...edges) },
    { weight: 1, arbitrary: fc.integer(clamped(min, max, -(2 ** 31), 2 ** 31 - 1)) },
  );
}

/** The part of [from, to] inside [min, max], or the nearest end of it. */
function clamped(min: number, max: number, from: number, to: number): { min: number; max: number } {
  const lo = Math.min(Math.max(min, from), max);
  return { min: lo, max: Math.max(Math.min(max, to), lo) };
}
