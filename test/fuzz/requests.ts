import fc from 'fast-check';
import { fieldReplacement, hostileBody, hostileSegment, numericPathsOf, withFieldSet, withOneFieldMutated } from './hostile';
import { schemaValues, type JsonSchema, type Vocabulary } from './schema-values';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: JsonSchema;
}

/** A route as the OpenAPI document describes it. */
export interface Operation {
  method: Method;
  /** The path template, `/v1/suppliers/{supplierId}/feeds`. */
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  /** Answers 202: it accepts work that goes on after the answer. */
  accepts: boolean;
}

/** How a route takes a body the OpenAPI document does not describe, or a CSV form of its JSON body. */
export interface BodyForm {
  json?: JsonSchema;
  /** CSV columns, each rendered from a field of the JSON body's `lines`. */
  csv?: { header: string; fields: string[] };
}

/** One request as sent: the body already serialised, so a counterexample prints exactly what went over the wire. */
export interface HostileRequest {
  method: Method;
  url: string;
  contentType?: string;
  payload?: string;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> }; responses: Record<string, unknown> }>>;
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase() as Method,
      path,
      parameters: operation.parameters ?? [],
      body: operation.requestBody?.content['application/json']?.schema,
      accepts: '202' in operation.responses,
    })),
  );
}

export function describeOperation(operation: Pick<Operation, 'method' | 'path'>): string {
  return `${operation.method} ${operation.path}`;
}

/** A valid-looking value for a parameter, sent as text, or a hostile segment (already encoded). */
function parameterText(parameter: Parameter, vocabulary: Vocabulary): fc.Arbitrary<string> {
  const valid = schemaValues(parameter.schema, vocabulary, parameter.name).map((value) => encodeURIComponent(String(value)));
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostileSegment });
}

function queryString(parameters: Parameter[], vocabulary: Vocabulary): fc.Arbitrary<string> {
  const named = parameters.map((parameter) => fc.option(parameterText(parameter, vocabulary).map((text) => `${parameter.name}=${text}`), { nil: undefined, freq: 2 }));
  const stray = fc.option(fc.tuple(fc.constantFrom('__proto__', 'a[b]', '', ...parameters.map((p) => p.name)), hostileSegment).map(([name, text]) => `${name}=${text}`), { nil: undefined, freq: 4 });
  return fc.tuple(fc.tuple(...named), stray).map(([pairs, extra]) => {
    const all = [...pairs, extra].filter((pair): pair is string => pair !== undefined);
    return all.length > 0 ? `?${all.join('&')}` : '';
  });
}

function csvOf(body: unknown, csv: NonNullable<BodyForm['csv']>): string {
  const lines = (body as { lines?: unknown } | null)?.lines;
  const rows = Array.isArray(lines) ? lines : [lines];
  const cell = (value: unknown) => (value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  return [csv.header, ...rows.map((row) => csv.fields.map((field) => cell((row as Record<string, unknown> | null)?.[field])).join(','))].join('\n');
}

/**
 * Bodies for one route: mostly shaped by its schema, either valid or with exactly one field
 * (nested ones included) replaced or left out, so that most requests pass the parser and reach
 * the services and workflows; sometimes something that is not the route's body at all.
 */
function bodies(schema: JsonSchema, form: BodyForm | undefined, vocabulary: Vocabulary): fc.Arbitrary<{ contentType: string; payload: string }> {
  const shaped = fc
    .record({
      value: schemaValues(schema, vocabulary),
      mutation: fc.option(fc.record({ pick: fc.nat(), replacement: fieldReplacement }), { nil: undefined, freq: 2 }),
      asCsv: form?.csv ? fc.boolean() : fc.constant(false),
    })
    .map(({ value, mutation, asCsv }) => {
      const sent = mutation ? withOneFieldMutated(value, mutation.pick, mutation.replacement) : value;
      if (asCsv && form?.csv) return { contentType: 'text/csv', payload: csvOf(sent, form.csv) };
      return { contentType: 'application/json', payload: JSON.stringify(sent) ?? '' };
    });
  const foreign = fc.record({ contentType: fc.constantFrom('application/json', 'application/json', 'text/csv', 'text/plain'), payload: hostileBody });
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: foreign });
}

/** Known-good values for parameters and for body fields, which use some of the same names for other things. */
export interface Vocabularies {
  parameters: Vocabulary;
  body: Vocabulary;
  /** Body fields that name a request (idempotency keys, event ids): each swept request gets its own, or all would replay the first. */
  distinct: readonly string[];
}

/** The value with every string field named in `names` made distinct by a suffix. */
function distinguished(value: unknown, names: readonly string[], suffix: string): unknown {
  if (Array.isArray(value)) return value.map((item) => distinguished(item, names, suffix));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, names.includes(key) && typeof field === 'string' ? `${field}.${suffix}` : distinguished(field, names, suffix)]),
  );
}

const pathParametersOf = (operation: Operation) => operation.parameters.filter((p) => p.in === 'path');
const isNumeric = (schema: JsonSchema) => schema.type === 'integer' || schema.type === 'number';

function urlOf(operation: Operation, segments: readonly string[], query: string): string {
  let url = operation.path;
  pathParametersOf(operation).forEach((p, i) => {
    url = url.replace(`{${p.name}}`, segments[i]);
  });
  return url + query;
}

/** Requests for one route: its path parameters, query and body, each valid-looking or hostile. */
export function requestsFor(operation: Operation, vocabularies: Vocabularies, form?: BodyForm): fc.Arbitrary<HostileRequest> {
  const segments = fc.tuple(...pathParametersOf(operation).map((p) => parameterText(p, vocabularies.parameters)));
  const query = queryString(operation.parameters.filter((p) => p.in === 'query'), vocabularies.parameters);
  const schema = form?.json ?? operation.body;
  const body = schema ? bodies(schema, form, vocabularies.body) : fc.constant(undefined);
  return fc.record({ segments, query, body }).map(({ segments: texts, query: text, body: sent }) => ({ method: operation.method, url: urlOf(operation, texts, text), ...(sent ?? {}) }));
}

/** The edges every numeric field meets: of 32- and 53-bit integers, of our 1,000,000,000 cap, the largest double, a fraction. */
const EDGES = [0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e308, 1_000_000_000, 1_000_000_001, 1.5];
/** Candidates drawn for each base of a sweep, of which the first the route's parser accepts is kept. */
const BASE_CANDIDATES = 20;

/**
 * Requests that differ from a valid one in one numeric field only, set to each numeric edge in
 * turn: every number in the body (of a valid body for each alternative, such as each kind of
 * movement), every numeric path parameter and every numeric query parameter. Random generation
 * reaches these edges too; the sweep makes sure every numeric field meets all of them.
 */
export function numericEdgeSweep(operation: Operation, vocabularies: Vocabularies, seed: number, form?: BodyForm, parses: (body: unknown) => boolean = () => true): HostileRequest[] {
  const pathParameters = pathParametersOf(operation);
  const [segments] = fc.sample(fc.tuple(...pathParameters.map((p) => schemaValues(p.schema, vocabularies.parameters, p.name).map((v) => encodeURIComponent(String(v))))), { seed, numRuns: 1 });
  const schema = form?.json ?? operation.body;
  // Bases the route's own parser accepts (refinements JSON Schema cannot say included), so each edge is the only fault.
  // A seed of its own per alternative: bases that name different balances do not undo each other's edges.
  const base = (alternative: JsonSchema, i: number) => {
    const candidates = fc.sample(schemaValues(alternative, vocabularies.body), { seed: seed + i, numRuns: BASE_CANDIDATES });
    return candidates.find(parses) ?? candidates[0];
  };
  const bases = schema ? (schema.oneOf ?? schema.anyOf ?? [schema]).map(base) : [undefined];
  let swept = 0;
  const request = (texts: readonly string[], query: string, body: unknown): HostileRequest => ({
    method: operation.method,
    url: urlOf(operation, texts, query),
    ...(body === undefined ? {} : { contentType: 'application/json', payload: JSON.stringify(distinguished(body, vocabularies.distinct, `e${(swept += 1)}`)) }),
  });
  return [
    ...bases.flatMap((body) => numericPathsOf(body).flatMap((path) => EDGES.map((edge) => request(segments, '', withFieldSet(body, path, edge))))),
    ...pathParameters.flatMap((p, i) => (isNumeric(p.schema) ? EDGES.map((edge) => request(segments.map((s, j) => (j === i ? String(edge) : s)), '', bases[0])) : [])),
    ...operation.parameters.filter((p) => p.in === 'query' && isNumeric(p.schema)).flatMap((p) => EDGES.map((edge) => request(segments, `?${p.name}=${edge}`, bases[0]))),
  ];
}
