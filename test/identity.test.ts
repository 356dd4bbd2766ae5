import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { signedHeaders } from '../api/auth';
import { registeredRoutes } from '../api/route';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { registerSupplier } from '../db/suppliers';
import { waitFor } from '../runtime/wait';
import { hasRole, requiredRole } from '../domain/access';
import type { Role } from '../schemas/identity';
import { approveSignal, decideUpdate } from '../workflows/exception-messages';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, workerLog, type RunningWorker } from './harness';

const BOOTSTRAP = 'identity-bootstrap-token-0123456789';
const GLOBAL_SECRET = 'identity-global-secret-0123456789';
const SOURCE_SECRETS = {
  'supplier:bottleco': 'bottleco-own-secret-0123456789',
  'channel:shop': 'shop-channel-secret-0123456789',
  warehouse: 'warehouse-secret-0123456789',
};
const CLI = path.join(__dirname, '..', 'cli', 'main.ts');
const ISSUER = 'https://idp.test/';
const AUDIENCE = 'stockflow-api';

type Who = 'nobody' | Role | 'bootstrap';
const ROLE_OF: Record<Who, Role | undefined> = { nobody: undefined, viewer: 'viewer', operator: 'operator', approver: 'approver', admin: 'admin', bootstrap: 'admin' };

/** Answers every response seen, so the suite can check that no secret ever went out. */
const responses: { text: string; issuesToken: boolean }[] = [];

describe('identity and access', () => {
  let database: Database;
  let worker: RunningWorker;
  let app: FastifyInstance;
  let jwks: Server;
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;
  const headersOf: Partial<Record<Who, Record<string, string>>> = { nobody: {}, bootstrap: { authorization: `Bearer ${BOOTSTRAP}` } };
  const issuedTokens: string[] = [];

  async function call(options: InjectOptions): Promise<LightMyRequestResponse> {
    const response = await app.inject(options);
    responses.push({ text: `${JSON.stringify(response.headers)}\n${response.body}`, issuesToken: /\/tokens$/.test(String(options.url)) });
    return response;
  }

  async function issue(id: string, role: Role, ttl: string | number = '1h'): Promise<Record<string, string>> {
    const added = await call({ method: 'POST', url: '/v1/principals', headers: headersOf.bootstrap, payload: { id, name: id, role } });
    assert.ok([201, 409].includes(added.statusCode), added.body);
    const token = await call({ method: 'POST', url: `/v1/principals/${id}/tokens`, headers: headersOf.bootstrap, payload: { ttl } });
    assert.equal(token.statusCode, 201, token.body);
    issuedTokens.push(token.json().token);
    return { authorization: `Bearer ${token.json().token}` };
  }

  async function jwt(claims: Record<string, unknown>, options: { key?: CryptoKey; issuer?: string; audience?: string; expiresIn?: string | number } = {}): Promise<string> {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? signingKey);
    issuedTokens.push(token);
    return token;
  }

  async function auditSince(id: number): Promise<{ actor: string; action: string; subject_id: string; details: { reason?: string } }[]> {
    return database.sql`SELECT actor, action, subject_id, details FROM audit_log WHERE id > ${id} ORDER BY id`;
  }

  async function lastAuditId(): Promise<number> {
    const [row] = await database.sql`SELECT coalesce(max(id), 0)::int AS id FROM audit_log`;
    return row.id;
  }

  async function openException(type: string, subject: string, headers: Record<string, string>): Promise<number> {
    const raised = await call({ method: 'POST', url: '/v1/exceptions', headers, payload: { type, subject, summary: `identity check ${type}`, source: 'identity-test' } });
    assert.equal(raised.statusCode, 202, raised.body);
    return waitFor(`${type} to open`, async () => {
      const [row] = await database.sql`SELECT id FROM exceptions WHERE workflow_id = ${raised.json().workflowId} AND status = 'open'`;
      const [opened] = row ? await database.sql`SELECT 1 FROM exception_events WHERE exception_id = ${row.id} AND action = 'open'` : [];
      return opened ? (row.id as number) : undefined;
    });
  }

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }, { code: 'SUP', name: 'Supplier stock' }], items: [{ name: 'Bottle', skus: ['B-1'] }] });
    await registerSupplier(database.db, { id: 'bottleco', name: 'Bottle Co', location: 'SUP' });
    await registerSupplier(database.db, { id: 'otherco', name: 'Other Co', location: 'SUP' });
    await replaceOwnership(database.db, JSON.parse(readFileSync('config/ownership.json', 'utf8')));
    worker = await startTestWorker(database, 'identity');

    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    ({ privateKey: strangerKey } = await generateKeyPair('RS256'));
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));

    app = await buildApi({
      ...defaultApiSettings,
      database,
      client: infra().client,
      taskQueue: worker.taskQueue,
      apiToken: BOOTSTRAP,
      webhookSecret: GLOBAL_SECRET,
      sourceSecrets: SOURCE_SECRETS,
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, rolesClaim: 'roles', idClaim: 'sub' },
      authFailureLimit: 100_000,
    });
    headersOf.viewer = await issue('vera', 'viewer');
    headersOf.operator = await issue('otto', 'operator');
    headersOf.approver = await issue('buyer', 'approver');
    headersOf.admin = await issue('ada', 'admin');
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
    await database?.close();
  });

  it('answers every registered route for every role and for no credentials as the role model says, auditing every refusal', async () => {
    const routes = registeredRoutes(app);
    assert.ok(routes.length >= 20, `only ${routes.length} routes registered`);
    const failures: string[] = [];
    for (const spec of routes) {
      const url = spec.url.replace(/:[A-Za-z]+/g, '999999');
      for (const who of Object.keys(ROLE_OF) as Who[]) {
        const held = ROLE_OF[who];
        const needed = spec.access === 'upstream' ? 'operator' : requiredRole(spec);
        const expected = spec.access === 'public' || needed === undefined ? 'allowed' : held === undefined ? 401 : hasRole(held, needed) ? 'allowed' : 403;
        const since = await lastAuditId();
        const response = await call({ method: spec.method, url, headers: { ...headersOf[who], ...(spec.method === 'GET' ? {} : { 'content-type': 'application/json' }) }, ...(spec.method === 'GET' ? {} : { payload: '{}' }) });
        const label = `${spec.method} ${spec.url} as ${who}`;
        if (expected === 'allowed') {
          if ([401, 403, 429].includes(response.statusCode) || response.statusCode >= 500) failures.push(`${label}: expected to pass access control, got ${response.statusCode} ${response.body}`);
          continue;
        }
        if (response.statusCode !== expected) {
          failures.push(`${label}: expected ${expected}, got ${response.statusCode} ${response.body}`);
          continue;
        }
        const audited = (await auditSince(since)).filter((row) => row.subject_id === `${spec.method} ${spec.url}` && row.action === (expected === 401 ? 'api.unauthorized' : 'api.forbidden'));
        if (audited.length !== 1) failures.push(`${label}: refusal not audited`);
        else if (expected === 403 && audited[0].actor === 'anonymous') failures.push(`${label}: the refusal does not name who was refused`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('names stricter roles where a route asks for them: deciding needs approver, managing users and ownership needs admin', () => {
    const roleOf = (method: string, url: string) => {
      const spec = registeredRoutes(app).find((r) => r.method === method && r.url === url);
      assert.ok(spec, `${method} ${url} is registered`);
      return requiredRole(spec);
    };
    assert.equal(roleOf('POST', '/v1/exceptions/:id/decisions'), 'approver');
    assert.equal(roleOf('PUT', '/v1/ownership'), 'admin');
    assert.equal(roleOf('POST', '/v1/principals'), 'admin');
    assert.equal(roleOf('GET', '/v1/ownership'), 'viewer');
    assert.equal(roleOf('POST', '/v1/exceptions'), 'operator');
    assert.equal(roleOf('GET', '/healthz'), undefined);
  });

  it('documents each operation\'s role, and that who decided comes from the credentials, in /openapi.json', async () => {
    const doc = (await call({ method: 'GET', url: '/openapi.json' })).json();
    const decide = doc.paths['/v1/exceptions/{id}/decisions'].post;
    assert.equal(decide['x-stockflow-role'], 'approver');
    const variants = decide.requestBody.content['application/json'].schema.oneOf ?? decide.requestBody.content['application/json'].schema.anyOf;
    assert.ok(variants.length === 5 && variants.every((v: { required: string[] }) => v.required.includes('action') && !v.required.includes('by')));
    assert.equal(doc.paths['/v1/principals'].post['x-stockflow-role'], 'admin');
  });

  it('decides as the authenticated approver, only within its entitlement, and refuses (and audits) a body naming someone else', async () => {
    const mine = await openException('supplier_feed_line', `bottleco/identity-${Date.now()}`, headersOf.operator!);
    const notMine = await openException('demo', `identity-${Date.now()}`, headersOf.operator!);

    const outside = await call({ method: 'POST', url: `/v1/exceptions/${notMine}/decisions`, headers: headersOf.approver, payload: { action: 'approve', reason: 'not my area' } });
    assert.equal(outside.statusCode, 403, outside.body);
    assert.equal(outside.json().error, 'decision_refused');
    assert.match(outside.json().message, /^buyer may not decide this exception/);

    const since = await lastAuditId();
    const impersonation = await call({ method: 'POST', url: `/v1/exceptions/${mine}/decisions`, headers: headersOf.approver, payload: { action: 'reject', by: 'ops-lead', reason: 'as my boss' } });
    assert.equal(impersonation.statusCode, 403, impersonation.body);
    assert.deepEqual(impersonation.json().issues, [{ field: 'by', reason: 'must be buyer (the authenticated principal) or left out' }]);
    const [audited] = (await auditSince(since)).filter((row) => row.action === 'api.impersonation');
    assert.equal(audited.actor, 'buyer');
    assert.match(audited.details.reason ?? '', /cannot act as "ops-lead"/);

    const accepted = await call({ method: 'POST', url: `/v1/exceptions/${mine}/decisions`, headers: headersOf.approver, payload: { action: 'reject', reason: 'the supplier resent the line' } });
    assert.equal(accepted.statusCode, 200, accepted.body);
    const shown = await call({ method: 'GET', url: `/v1/exceptions/${mine}`, headers: headersOf.viewer });
    assert.equal(shown.json().exception.decidedBy, 'buyer');
    const decided = shown.json().history.find((h: { action: string }) => h.action === 'reject');
    assert.deepEqual([decided.actor, decided.outcome, decided.details.via], ['buyer', 'accepted', 'api']);
    const [write] = await database.sql`SELECT actor FROM audit_log WHERE action = 'api.write' AND subject_id = 'POST /v1/exceptions/:id/decisions' ORDER BY id DESC LIMIT 1`;
    assert.equal(write.actor, 'buyer', 'the accepted write is attributed to the principal');
  });

  it('refuses decisions that bypass the API (a UI signal, an update without a ticket) under STOCKFLOW_UI_DECISIONS=deny, recording the path', async () => {
    const id = await openException('demo', `bypass-${Date.now()}`, headersOf.operator!);
    const [row] = await database.sql`SELECT workflow_id FROM exceptions WHERE id = ${id}`;
    const handle = infra().client.workflow.getHandle(row.workflow_id);
    await handle.signal(approveSignal, { by: 'ops-lead', reason: 'from the UI' });
    await assert.rejects(handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'ops-lead', reason: 'straight to Temporal' }] }), (error: Error) => {
      assert.match(String((error.cause as Error | undefined)?.message), /sent straight to Temporal carries no checked identity .*STOCKFLOW_UI_DECISIONS=deny/);
      return true;
    });
    const history = await waitFor('both refusals to be recorded', async () => {
      const rows = await database.sql`SELECT action, actor, outcome, details FROM exception_events WHERE exception_id = ${id} AND action = 'approve' ORDER BY seq`;
      return rows.length === 2 ? rows : undefined;
    });
    assert.deepEqual(
      history.map((h) => [h.outcome, h.details.via]),
      [
        ['refused', 'signal'],
        ['refused', 'update'],
      ],
    );
    const refusedAudit = await database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'exception.approve.refused' AND subject_id = ${row.workflow_id}`;
    assert.equal(refusedAudit[0].n, 2);
    const [status] = await database.sql`SELECT status FROM exceptions WHERE id = ${id}`;
    assert.equal(status.status, 'open');
  });

  it('refuses a revoked token, a token of a revoked principal, and an expired token', async () => {
    const temp = await issue('tess', 'viewer');
    assert.equal((await call({ method: 'GET', url: '/v1/whoami', headers: temp })).json().id, 'tess');
    const listed = await call({ method: 'GET', url: '/v1/principals', headers: headersOf.admin });
    const tokenId = listed.json().principals.find((p: { id: string }) => p.id === 'tess').tokens[0].tokenId;
    assert.equal((await call({ method: 'POST', url: `/v1/tokens/${tokenId}/revoke`, headers: headersOf.admin, payload: {} })).statusCode, 200);
    const revoked = await call({ method: 'GET', url: '/v1/whoami', headers: temp });
    assert.equal(revoked.statusCode, 401);
    assert.match(revoked.json().message, /unknown, expired or revoked/);

    const second = await issue('tess', 'viewer');
    assert.equal((await call({ method: 'POST', url: '/v1/principals/tess/revoke', headers: headersOf.admin, payload: {} })).statusCode, 200);
    assert.equal((await call({ method: 'GET', url: '/v1/whoami', headers: second })).statusCode, 401);
    const again = await call({ method: 'POST', url: '/v1/principals/tess/tokens', headers: headersOf.admin, payload: {} });
    assert.equal(again.statusCode, 404, 'a revoked principal gets no new token');

    const shortLived = await issue('sam', 'viewer', 1);
    await waitFor('the one-second token to expire', async () => ((await call({ method: 'GET', url: '/v1/whoami', headers: shortLived })).statusCode === 401 ? true : undefined));
  });

  it('accepts an OIDC token from the configured issuer with its role claim, and refuses a bad signature, wrong issuer, wrong audience or expiry', async () => {
    const good = await call({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${await jwt({ sub: 'buyer', roles: ['viewer', 'approver'] })}` } });
    assert.equal(good.statusCode, 200, good.body);
    assert.deepEqual(good.json(), { id: 'buyer', kind: 'oidc', role: 'approver' });

    const cases: [string, string][] = [
      ['bad signature', await jwt({ sub: 'buyer', roles: ['admin'] }, { key: strangerKey })],
      ['wrong issuer', await jwt({ sub: 'buyer', roles: ['admin'] }, { issuer: 'https://evil.test/' })],
      ['wrong audience', await jwt({ sub: 'buyer', roles: ['admin'] }, { audience: 'another-api' })],
      ['expired', await jwt({ sub: 'buyer', roles: ['admin'] }, { expiresIn: Math.floor(Date.now() / 1000) - 600 })],
    ];
    for (const [name, token] of cases) {
      const response = await call({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
    }
    const roleless = await call({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${await jwt({ sub: 'buyer', roles: ['superuser'] })}` } });
    assert.equal(roleless.statusCode, 403);
    const viewerToken = await jwt({ sub: 'vera', roles: 'viewer' });
    const write = await call({ method: 'PUT', url: '/v1/ownership', headers: { authorization: `Bearer ${viewerToken}` }, payload: {} });
    assert.equal(write.statusCode, 403);
  });

  it('accepts a source only with its own secret: a supplier cannot post another supplier\'s feed or an order event', async () => {
    const post = (url: string, body: unknown, secret: string) => {
      const payload = JSON.stringify(body);
      return call({ method: 'POST', url, headers: { 'content-type': 'application/json', ...signedHeaders(secret, payload) }, payload });
    };
    const feed = { lines: 'not lines' };
    assert.equal((await post('/v1/suppliers/bottleco/feeds', feed, SOURCE_SECRETS['supplier:bottleco'])).statusCode, 400, 'its own feed passes access control (and is then refused as invalid)');
    assert.equal((await post('/v1/suppliers/otherco/feeds', feed, SOURCE_SECRETS['supplier:bottleco'])).statusCode, 401);
    assert.equal((await post('/v1/orders/events', { channel: 'shop' }, SOURCE_SECRETS['supplier:bottleco'])).statusCode, 401);
    assert.equal((await post('/v1/stock/movements', {}, SOURCE_SECRETS['supplier:bottleco'])).statusCode, 401);
    assert.equal((await post('/v1/suppliers/bottleco/feeds', feed, GLOBAL_SECRET)).statusCode, 401, 'the fallback secret does not open a source that has its own');
    assert.equal((await post('/v1/suppliers/otherco/feeds', feed, GLOBAL_SECRET)).statusCode, 400, 'a source without its own secret takes the fallback');
    assert.equal((await post('/v1/orders/events', { channel: 'shop' }, SOURCE_SECRETS['channel:shop'])).statusCode, 400);
    assert.equal((await post('/v1/orders/events', { channel: 'other-shop' }, SOURCE_SECRETS['channel:shop'])).statusCode, 401);
    assert.equal((await post('/v1/stock/movements', {}, SOURCE_SECRETS.warehouse)).statusCode, 400);
    const [refusal] = await database.sql`SELECT details FROM audit_log WHERE action = 'api.unauthorized' AND subject_id = 'POST /v1/suppliers/:supplierId/feeds' ORDER BY id DESC LIMIT 1`;
    assert.match(refusal.details.reason, /signed as supplier:bottleco/);
  });

  it('throttles an address after repeated failed authentications: 429 with Retry-After, audited', async () => {
    const strict = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: BOOTSTRAP, authFailureLimit: 3 });
    try {
      const bad = { authorization: 'Bearer not-a-token' };
      for (let i = 0; i < 3; i += 1) assert.equal((await strict.inject({ method: 'GET', url: '/v1/whoami', headers: bad, remoteAddress: '10.9.8.7' })).statusCode, 401);
      const blocked = await strict.inject({ method: 'GET', url: '/v1/whoami', headers: headersOf.bootstrap, remoteAddress: '10.9.8.7' });
      assert.equal(blocked.statusCode, 429);
      assert.ok(Number(blocked.headers['retry-after']) >= 1 && Number(blocked.headers['retry-after']) <= 60, `Retry-After ${blocked.headers['retry-after']}`);
      const elsewhere = await strict.inject({ method: 'GET', url: '/v1/whoami', headers: headersOf.bootstrap, remoteAddress: '10.9.8.8' });
      assert.equal(elsewhere.statusCode, 200, 'another address is not affected');
      const [throttled] = await database.sql`SELECT details FROM audit_log WHERE action = 'api.throttled' ORDER BY id DESC LIMIT 1`;
      assert.equal(throttled.details.ip, '10.9.8.7');
    } finally {
      await strict.close();
    }
  });

  it('manages users from the CLI: add, token (printed once), list, revoke', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const stockflow = (token: string, ...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args, '--api', baseUrl], { env: { ...process.env, STOCKFLOW_API_TOKEN: token } });
    const added = await stockflow(BOOTSTRAP, 'users', 'add', 'cleo', '--role', 'operator', '--name', 'Cleo');
    assert.match(added.stdout, /^added user cleo \(operator\)/);
    const issued = await stockflow(BOOTSTRAP, 'users', 'token', 'cleo', '--ttl', '12h');
    const token = issued.stdout.trim().split('\n').at(-1) as string;
    assert.match(token, /^sf_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    issuedTokens.push(token);
    const listed = await stockflow(token, 'users', 'list').catch((error: { stderr: string }) => error);
    assert.match((listed as { stderr: string }).stderr, /error 403: cleo has the role operator; GET \/v1\/principals needs admin/);
    const table = await stockflow(BOOTSTRAP, 'users', 'list');
    assert.match(table.stdout, /^cleo\s+user\s+operator\s+active\s+1\s+Cleo$/m);
    await stockflow(BOOTSTRAP, 'users', 'revoke', 'cleo');
    assert.equal((await call({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
  });

  it('shows no secret or token in any response, log line, audit row or workflow history', async () => {
    const { lines } = await workerLog.record(async () => {
      const id = await openException('supplier_feed_line', `bottleco/secrets-${Date.now()}`, headersOf.operator!);
      await call({ method: 'POST', url: `/v1/exceptions/${id}/decisions`, headers: headersOf.approver, payload: { action: 'reject', reason: 'checked' } });
      await call({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${BOOTSTRAP}x` } });
    });
    const secrets = [BOOTSTRAP, GLOBAL_SECRET, ...Object.values(SOURCE_SECRETS), ...issuedTokens];
    const leaks = (where: string, text: string) => secrets.filter((s) => text.includes(s)).map((s) => `${where} contains ${s.slice(0, 12)}…`);
    const found: string[] = [];
    for (const response of responses) {
      const shown = response.issuesToken ? issuedTokens.filter((t) => response.text.includes(t)) : [];
      assert.ok(shown.length <= 1, 'a token-issuing answer shows only its own token');
      found.push(...leaks('a response', shown.reduce((text, t) => text.replaceAll(t, ''), response.text)));
    }
    found.push(...leaks('a log line', JSON.stringify(lines)));
    found.push(...leaks('the audit log', JSON.stringify(await database.sql`SELECT * FROM audit_log`)));
    found.push(...leaks('the token table', JSON.stringify(await database.sql`SELECT * FROM principal_tokens`)));
    for await (const execution of infra().client.workflow.list({ query: `TaskQueue = "${worker.taskQueue}"` })) {
      const history = await infra().client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      found.push(...leaks(`the history of ${execution.workflowId}`, historyText(history)));
    }
    assert.ok(responses.length > 100, 'the responses of the whole suite were checked');
    assert.deepEqual(found, []);
  });
});

/** A history as text, with every payload decoded: payloads are base64 in the JSON form, where a secret would not show. */
function historyText(history: Parameters<typeof historyToJSON>[0]): string {
  const json = historyToJSON(history);
  const decoded = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
  return `${json}\n${decoded.join('\n')}`;
}
