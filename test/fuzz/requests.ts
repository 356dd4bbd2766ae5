import fc from 'fast-check';
import { fieldReplacement, hostileBody, hostileSegment, withOneFieldMutated } from './hostile';
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
}

/** Requests for one route: its path parameters, query and body, each valid-looking or hostile. */
export function requestsFor(operation: Operation, vocabularies: Vocabularies, form?: BodyForm): fc.Arbitrary<HostileRequest> {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const segments = fc.tuple(...pathParameters.map((p) => parameterText(p, vocabularies.parameters)));
  const query = queryString(operation.parameters.filter((p) => p.in === 'query'), vocabularies.parameters);
  const schema = form?.json ?? operation.body;
  const body = schema ? bodies(schema, form, vocabularies.body) : fc.constant(undefined);
  return fc.record({ segments, query, body }).map(({ segments: texts, query, body: sent }) => {
    let url = operation.path;
    pathParameters.forEach((p, i) => {
      url = url.replace(`{${p.name}}`, texts[i]);
    });
    return { method: operation.method, url: url + query, ...(sent ?? {}) };
  });
}
