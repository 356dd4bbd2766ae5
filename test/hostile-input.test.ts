import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { z } from 'zod';
import { signedHeaders } from '../api/auth';
import { ErrorBody } from '../api/errors';
import { registeredRoutes } from '../api/route';
import { FeedDocument, FeedLine } from '../schemas/feeds';
import { startsAfterAnswers } from '../services/orders';
import { activitiesRetryingForever, feedsWithoutOutcome, type PendingActivity } from './fuzz/outcomes';
import { describeOperation, numericEdgeSweep, operationsOf, requestsFor, type BodyForm, type HostileRequest, type Operation, type Vocabularies } from './fuzz/requests';
import type { JsonSchema, Vocabulary } from './fuzz/schema-values';
import { SECRET, startStand, TOKEN, WORLD, type Stand } from './fuzz/stand';
import { infra } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

/** Replay a run with the same FUZZ_SEED (and FUZZ_CASES): the requests are generated from it alone. */
const SEED = Number(process.env.FUZZ_SEED ?? 17);
/** Random requests over all routes together, shared out by how many fields each route takes (see `shareOf`), after a sweep of numeric edges. */
const CASES = Number(process.env.FUZZ_CASES ?? 1000);
/** `npx mocha <file>` runs every suite (the config lists them all); --grep picks this one. */
const REPLAY = `FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} npx mocha --grep 'hostile input'`;
/** Distinct ways of failing reported per route before the fuzzer moves on. */
const MAX_FAILURES_PER_ROUTE = 5;
/** How long accepted work may take to finish, or to show that it never will, after the run. */
const SETTLE_MS = 60_000;

const ownerIds = WORLD.owners.map((o) => o.id);
const VOCABULARIES: Vocabularies = {
  parameters: {
    supplierId: [WORLD.supplier, 'ghost'],
    feedId: ['f-1', 'f-2'],
    orderId: ['1001', '1002'],
    id: [1, 2, 3],
    sku: [...WORLD.skus, 'NOPE-1'],
    channel: ['shop', 'market'],
    owner: ownerIds,
    type: ['supplier_feed_line'],
    wait: [0],
    source: ['erp'],
    tokenId: ['0123456789abcdef'],
  },
  body: {
    sku: [...WORLD.skus, WORLD.backorderableSku],
    location: WORLD.locations,
    from: WORLD.locations,
    to: [...WORLD.locations, ...ownerIds],
    id: ownerIds,
    owner: ownerIds,
    backup: ownerIds,
    escalation: ownerIds,
    // Anyone else is refused before the route runs (test/identity.test.ts): the fuzzer goes further as the caller.
    by: [WORLD.caller],
    owners: [WORLD.owners],
    rules: [[WORLD.defaultRule], [WORLD.defaultRule, WORLD.feedLineRule]],
    supplierId: [WORLD.supplier],
    supplierSku: WORLD.skuMap.map((e) => e.supplierSku),
    type: ['manual_check', 'supplier_feed_line'],
    channel: ['shop', 'market'],
    orderId: ['1001', '1002', '1003'],
    source: ['erp'],
  },
  distinct: ['idempotencyKey', 'eventId', 'feedId', 'subject'],
};

/** Bodies the OpenAPI document does not describe (a feed is read by its service), and CSV forms. */
const BODY_FORMS: Record<string, { form: BodyForm; vocabulary?: Vocabulary }> = {
  'POST /v1/suppliers/{supplierId}/feeds': {
    form: {
      json: z.toJSONSchema(FeedDocument.extend({ lines: z.array(FeedLine) }), { io: 'output', unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema,
      csv: { header: 'sku,quantity,sequence', fields: ['sku', 'quantity', 'sequence'] },
    },
    // A feed line's sku is the supplier's SKU.
    vocabulary: { sku: [...WORLD.skuMap.map((e) => e.supplierSku), 'A9'] },
  },
  'POST /v1/reconciliation/snapshots': { form: { csv: { header: 'sku,location,on_hand', fields: ['sku', 'location', 'onHand'] } } },
};

/** Fields (and alternatives) in a schema: a route taking seven kinds of movement deserves more requests than a GET… */
function fieldCount(schema: JsonSchema | undefined): number {
  if (!schema) return 0;
  const nested = [...Object.values(schema.properties ?? {}), ...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.items ? [schema.items] : [])];
  return Object.keys(schema.properties ?? {}).length + nested.reduce((n, s) => n + fieldCount(s), 0);
}

/** …and a route that accepts work going on after its answer (202) twice as many: that is where accepted work gets stuck. */
function shareOf(operation: Operation, undescribedBody?: JsonSchema): number {
  const share = 1 + operation.parameters.length + Math.min(8, Math.ceil(fieldCount(operation.body ?? undescribedBody) / 6));
  return operation.accepts ? 2 * share : share;
}

/**
 * Configure, act, look, then retire: requests meet what the PUTs set up, nothing changes a SKU map
 * under a feed still being ingested, and the world's supplier is archived only at the end.
 */
function phaseOf(operation: Operation): number {
  if (operation.method === 'DELETE' || operation.path.endsWith('/archive')) return 3;
  return { PUT: 0, POST: 1, GET: 2 }[operation.method];
}

/** A broken promise of the API; requests that break it the same way share the signature. */
class Violation extends Error {
  constructor(
    readonly signature: string,
    message: string,
  ) {
    super(message);
  }
}

/** `/v1/suppliers/:supplierId` as the OpenAPI document writes it. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

const elided = (text: string, length: number) => (text.length > length ? `${text.slice(0, length)}… (${text.length} chars)` : text);

function describeRequest(request: HostileRequest): string {
  const body = request.payload === undefined ? '' : ` [${request.contentType}] ${elided(request.payload, 300)}`;
  return `${request.method} ${elided(request.url, 150)}${body}`;
}

/** Why a 4xx answer does not tell the client what was wrong, if it does not. */
function errorBodyProblem(response: LightMyRequestResponse): string | undefined {
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return `not JSON: ${response.body.slice(0, 200)}`;
  }
  const parsed = ErrorBody.strict().safeParse(body);
  if (!parsed.success) return `not {error, message, issues?}: ${response.body.slice(0, 200)}`;
  const { error, message, issues } = parsed.data;
  if (error.trim() === '' || message.trim() === '') return `an empty error or message: ${response.body.slice(0, 200)}`;
  if (issues?.some((i) => i.field.trim() === '' || i.reason.trim() === '')) return `an issue without field or reason: ${response.body.slice(0, 200)}`;
  return undefined;
}

function describeActivity(stand: Stand, activity: PendingActivity): string {
  const origin = stand.temporal.startedBy.get(activity.workflowId) ?? 'started by a workflow';
  return `${activity.workflowId} (${activity.workflowType}): ${activity.activityType} attempt ${activity.attempt}, last failure "${activity.lastFailure}" ← ${origin}`;
}

describe('hostile input', () => {
  let stand: Stand;
  let operations: Operation[];

  before(async () => {
    stand = await startStand('hostile');
    const document = await stand.app.inject({ method: 'GET', url: '/openapi.json' });
    operations = operationsOf(document.json()).sort((x, y) => phaseOf(x) - phaseOf(y));
    console.log(`  [hostile input] seed ${SEED}, ${CASES} cases; replay with ${REPLAY}`);
  });

  after(async () => {
    await stand?.close();
  });

  /** Sends a request, keeping the cause of a 500 that the server logs for the failure message instead of the console. */
  async function sendQuietly(request: HostileRequest): Promise<{ response: LightMyRequestResponse; serverError: string }> {
    const causes: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => {
      for (const arg of args) if (arg instanceof Error) causes.push(((arg.cause as Error | undefined) ?? arg).message);
    };
    try {
      return { response: await stand.send(request), serverError: causes.join('; ') };
    } finally {
      console.error = consoleError;
    }
  }

  /** Sends a request and says how the answer breaks the API's promises, if it does. */
  async function answer(request: HostileRequest): Promise<{ status: number; violation?: Violation }> {
    // An accepted order.placed starts its workflow after the answer: that start is the earlier request's, not this one's.
    await startsAfterAnswers();
    stand.temporal.currentRequest = describeRequest(request);
    const writeMark = await stand.apiWriteMark();
    const temporalChanges = stand.temporal.changes;
    const { response, serverError } = await sendQuietly(request);
    const status = response.statusCode;
    const answered = `answered ${status} ${response.body.slice(0, 200)}`;
    const broken = (signature: string, message: string) => ({ status, violation: new Violation(`${status} ${signature}`, message) });
    if (status >= 500) return broken(serverError.replace(/\d+/g, '#'), `${answered}; the server logged: ${serverError.slice(0, 400)}`);
    if (status < 400) return { status };
    const problem = errorBodyProblem(response);
    if (problem) return broken('malformed', `answered ${status} with ${elided(problem, 250)}`);
    // A refused signature, token, role or identity is audited on purpose: that row is the only write such a refusal may make;
    // a decision the workflow refused leaves the ticket it was sent with (db/decision-tickets.ts).
    const allowed = [...([401, 403, 429].includes(status) ? ['audit_log INSERT × 1'] : []), ...(status === 403 && response.json().error === 'decision_refused' ? ['decision_tickets INSERT × 1'] : [])];
    const writes = (await stand.apiWritesSince(writeMark)).filter((w) => !allowed.includes(w));
    if (writes.length > 0) return broken(`wrote ${writes.map((w) => w.replace(/ × \d+$/, '')).join()}`, `${answered} but wrote ${writes.join(', ')}`);
    if (stand.temporal.changes !== temporalChanges) return broken('started', `${answered} but started or signalled a workflow`);
    return { status };
  }

  it('fuzzes every route of /openapi.json, and /openapi.json lists every registered route', () => {
    const documented = operations.map(describeOperation).sort();
    const registered = registeredRoutes(stand.app).map((r) => describeOperation({ method: r.method, path: openApiPath(r.url) })).sort();
    assert.deepEqual(documented, registered);
    for (const key of Object.keys(BODY_FORMS)) assert.ok(documented.includes(key), `BODY_FORMS names ${key}, which is not a route`);
  });

  it(`answers ${CASES} random requests and a sweep of numeric edges (seed ${SEED}) without a 5xx; every 4xx names the problem and changes nothing`, async function () {
    this.timeout(20 * 60_000);
    const shares = operations.map((op) => shareOf(op, BODY_FORMS[describeOperation(op)]?.form.json));
    const totalShares = shares.reduce((a, b) => a + b, 0);
    const failures: string[] = [];
    const tallies: string[] = [];
    const neverPastTheParser: string[] = [];
    let swept = 0;
    for (const [i, operation] of operations.entries()) {
      const route = describeOperation(operation);
      const extra = BODY_FORMS[route];
      const vocabularies = { ...VOCABULARIES, body: { ...VOCABULARIES.body, ...extra?.vocabulary } };
      const requests = requestsFor(operation, vocabularies, extra?.form);
      const statuses = new Map<number, number>();
      // Each way of failing is reported once, shrunk; the run goes on (with the next seed) to find the others.
      const known = new Set<string>();
      const property = fc.asyncProperty(requests, async (request) => {
        const { status, violation } = await answer(request);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (violation && !known.has(violation.signature)) throw violation;
      });
      // The edge sweep runs first (fast-check's examples), then the route's share of random requests.
      const spec = registeredRoutes(stand.app).find((r) => r.method === operation.method && openApiPath(r.url) === operation.path);
      const parses = (body: unknown) => spec?.body?.safeParse(body).success ?? true;
      let examples = numericEdgeSweep(operation, vocabularies, SEED, extra?.form, parses).map((request): [HostileRequest] => [request]);
      swept += examples.length;
      let remaining = examples.length + Math.max(10, Math.round((CASES * shares[i]) / totalShares));
      for (let attempt = 0; remaining > 0 && known.size < MAX_FAILURES_PER_ROUTE; attempt++) {
        const details = await fc.check(property, { seed: SEED + attempt, numRuns: remaining, examples });
        if (!details.failed) break;
        const error = details.errorInstance;
        const signature = error instanceof Violation ? error.signature : String(error);
        known.add(signature);
        failures.push(`${route} (seed ${details.seed}, run ${details.numRuns}, shrunk ${details.numShrinks}×): ${error instanceof Error ? error.message : String(error)}\n    ${describeRequest(details.counterexample?.[0] as HostileRequest)}`);
        remaining -= details.numRuns;
        examples = examples.slice(details.numRuns);
      }
      tallies.push(`${route}: ${[...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ')}`);
      if ([...statuses.keys()].every((status) => status === 400)) neverPastTheParser.push(route);
    }
    console.log(`  [hostile input] ${swept} numeric-edge requests and about ${CASES} random ones; answers per route:\n    ${tallies.join('\n    ')}`);
    assert.deepEqual(failures, [], `${failures.length} failure(s); replay with ${REPLAY}:\n\n${failures.join('\n\n')}`);
    assert.deepEqual(neverPastTheParser, [], 'routes whose every request was refused as malformed: the generator does not reach their services');
  });

  it('follows every accepted request to its outcome: no workflow retries an activity forever', async function () {
    this.timeout(SETTLE_MS + 30_000);
    const { retrying, unsettled } = await activitiesRetryingForever(infra().client, stand.worker.taskQueue, SETTLE_MS);
    assert.deepEqual(retrying.map((a) => describeActivity(stand, a)), [], `${retrying.length} activities retry an error no retry can fix`);
    assert.deepEqual(unsettled.map((a) => describeActivity(stand, a)), [], `activities still pending after ${SETTLE_MS} ms`);
  });

  it('follows every accepted feed to an outcome: none is left received or processing', async function () {
    this.timeout(SETTLE_MS + 30_000);
    const stuck = await feedsWithoutOutcome(stand.database, infra().client, SETTLE_MS);
    assert.deepEqual(
      stuck.map((f) => `${f.supplierId}/${f.feedId} is ${f.status}: ${f.why} ← ${stand.temporal.startedBy.get(f.workflowId) ?? '?'}`),
      [],
    );
  });

  it('leaves a ledger that explains every balance', async () => {
    await assertLedgerMatchesBalances(stand.database);
  });

  it('refuses oversized, wrongly typed and deeply nested bodies with the status that says why', async () => {
    const huge = JSON.stringify({ kind: 'receive', idempotencyKey: 'k', sku: 'W-1', location: 'WH1', quantity: 1, note: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal((await stand.send({ method: 'POST', url: '/v1/stock/movements', contentType: 'application/json', payload: huge })).statusCode, 413);
    assert.equal((await stand.send({ method: 'POST', url: '/v1/stock/movements', contentType: 'application/xml', payload: '<movement/>' })).statusCode, 415);
    // Built as text: deeper than JSON.stringify (or JSON.parse) can recurse.
    const deep = `${'{"a":['.repeat(100_000)}1${']}'.repeat(100_000)}`;
    const deepResponse = await stand.send({ method: 'POST', url: '/v1/stock/movements', contentType: 'application/json', payload: deep });
    assert.equal(deepResponse.statusCode, 400);
    assert.match(deepResponse.json().message, /kind: must be one of/);
  });

  it('refuses text Postgres cannot store (NUL bytes, lone surrogates) as bad input, not a server error', async () => {
    const cases: [HostileRequest['method'], string, unknown][] = [
      ['PUT', '/v1/suppliers/acme', { name: 'Acme\u0000', location: 'WH1' }],
      ['PUT', '/v1/suppliers/acme', { name: 'Acme \uD800', location: 'WH1' }],
      ['POST', '/v1/exceptions', { type: 'fuzz', subject: 'nul', summary: 'bad\u0000text', source: 'fuzz' }],
      ['PUT', '/v1/ownership', { owners: [{ id: 'a', name: 'A\u0000', contact: 'a' }], rules: [{ owner: 'a', backup: 'a', escalation: 'a', ackSla: 60, resolutionSla: 60 }] }],
    ];
    for (const [method, url, body] of cases) {
      const response = await stand.sendJson(method, url, body);
      assert.equal(response.statusCode, 400, `${method} ${url}: ${response.body}`);
      assert.match(response.json().message, /must not contain NUL bytes or unpaired surrogates/);
    }
  });

  it('answers every unsigned or wrongly signed webhook and every missing or wrong token with 401, and audits each', async () => {
    const [{ n: before }] = await stand.database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'api.unauthorized'`;
    let refusals = 0;
    for (const route of registeredRoutes(stand.app)) {
      const url = route.url.replace(/:(\w+)/g, route.access === 'upstream' ? 'acme' : '1');
      if (route.access === 'upstream') {
        const payload = JSON.stringify({ kind: 'receive' });
        // Unsigned with an operator's token is a person posting by hand (accepted); a bad signature is refused whatever token comes with it.
        for (const signature of [{}, signedHeaders('wrong-secret', payload), { ...signedHeaders(SECRET, payload), 'x-stockflow-timestamp': '1' }]) {
          const token = Object.keys(signature).length > 0 ? { authorization: `Bearer ${TOKEN}` } : {};
          const response = await stand.app.inject({ method: route.method, url, headers: { 'content-type': 'application/json', ...token, ...signature }, payload });
          assert.equal(response.statusCode, 401, `${route.method} ${route.url}: ${response.body}`);
          refusals += 1;
        }
      }
      if (route.access === 'operator') {
        for (const authorization of [undefined, 'Bearer wrong', 'Basic abc']) {
          const response = await stand.app.inject({ method: route.method, url, headers: authorization ? { authorization } : {} });
          assert.equal(response.statusCode, 401, `${route.method} ${route.url}: ${response.body}`);
          refusals += 1;
        }
      }
    }
    const [{ n: after }] = await stand.database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'api.unauthorized'`;
    assert.equal(after - before, refusals);
  });
});
