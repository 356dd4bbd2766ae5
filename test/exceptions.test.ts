import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { decideException, exceptionState, raiseException } from '../services/exceptions';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { replaceOwnership } from '../db/ownership';
import { waitFor } from '../runtime/wait';
import { RaiseException, type RaiseExceptionInput } from '../schemas/exceptions';
import type { OwnershipConfigInput } from '../schemas/ownership';
import { acknowledgeSignal, approveSignal } from '../workflows/exception-messages';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, startTestWorker, uniqueTaskQueue, type RunningWorker } from './harness';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';

const OWNERSHIP: OwnershipConfigInput = {
  owners: [
    { id: 'alice', name: 'Alice', contact: 'alice@example.com', roles: ['inventory'] },
    { id: 'bob', name: 'Bob', contact: 'bob@example.com', roles: ['inventory'] },
    { id: 'carol', name: 'Carol', contact: 'carol@example.com', roles: ['operations'] },
    { id: 'dave', name: 'Dave', contact: 'dave@example.com', roles: ['approver'] },
    { id: 'erin', name: 'Erin', contact: 'erin@example.com', roles: ['purchasing'] },
    { id: 'frank', name: 'Frank', contact: 'frank@example.com', roles: [] },
  ],
  rules: [
    { owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: '1h', resolutionSla: '1d' },
    { match: { exceptionType: 'supplier_feed_line' }, owner: 'erin', backup: 'alice', escalation: 'carol', ackSla: '1h', resolutionSla: '1d' },
    { match: { exceptionType: 'supplier_feed_line', supplierId: 'acme' }, owner: 'frank', backup: 'alice', escalation: 'carol', ackSla: '1h', resolutionSla: '1d' },
    { match: { exceptionType: 'ack_race' }, owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: 2, resolutionSla: '1h' },
    { match: { exceptionType: 'slow_fix' }, owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: 5, resolutionSla: 10 },
    { match: { exceptionType: 'visibility_check', supplierId: 'acme' }, owner: 'erin', backup: 'bob', escalation: 'carol', ackSla: '1h', resolutionSla: '1d' },
    { match: { exceptionType: 'restart' }, owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: 3, resolutionSla: '1h' },
  ],
};

interface Received {
  body: { text: string; notice: number; link?: string; recipient: { id: string }; exception: { workflowId: string } };
}

let counter = 0;
function raise(overrides: Partial<RaiseExceptionInput>): RaiseException {
  counter += 1;
  return RaiseException.parse({
    type: 'stock_check',
    subject: `subject-${process.pid}-${Date.now()}-${counter}`,
    summary: 'a change no rule could decide',
    source: 'test',
    ...overrides,
  });
}

describe('exceptions: hold, decide, escalate', () => {
  let database: Database;
  let worker: RunningWorker;
  const received: Received[] = [];
  let webhook: http.Server;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Part', skus: ['P-1', 'P-2', 'P-3'] }] });
    await replaceOwnership(database.db, OWNERSHIP);
    webhook = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push({ body: JSON.parse(body) });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    // This suite also decides through signals, as the Temporal UI does: allowed here (identity.test.ts covers deny).
    worker = await startTestWorker(database, 'exceptions', {
      uiDecisions: 'allow',
      notifier: {
        namespace: infra().namespace,
        webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
        temporalUiUrl: 'http://ui.test',
        log: () => undefined,
      },
    });
  });

  after(async () => {
    await worker?.stop();
    await new Promise((resolve) => webhook?.close(resolve));
    await database?.close();
  });

  async function openedState(workflowId: string) {
    return waitFor(`${workflowId} to open`, () => exceptionState(infra().client, workflowId).catch(() => undefined));
  }

  async function events(workflowId: string) {
    return database.sql`
      SELECT e.seq, e.action, e.actor, e.outcome, e.reason, e.details, extract(epoch FROM e.at - x.opened_at)::float AS after_seconds
      FROM exception_events e JOIN exceptions x ON x.id = e.exception_id
      WHERE x.workflow_id = ${workflowId} ORDER BY e.at, e.seq`;
  }

  it('gives the exception to the owner of the most specific rule and tells them once', async () => {
    const generic = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({}));
    const feed = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({ type: 'supplier_feed_line', supplierId: 'other' }));
    const acme = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({ type: 'supplier_feed_line', supplierId: 'acme' }));
    assert.equal((await openedState(generic.workflowId)).assigneeId, 'alice');
    assert.equal((await openedState(feed.workflowId)).assigneeId, 'erin');
    const acmeState = await openedState(acme.workflowId);
    assert.deepEqual([acmeState.ownerId, acmeState.backupId, acmeState.escalationId], ['frank', 'alice', 'carol']);
    const told = await waitFor('the owner to be notified', async () => {
      const hits = received.filter((r) => r.body.exception.workflowId === acme.workflowId);
      return hits.length > 0 ? hits : undefined;
    });
    assert.equal(told.length, 1);
    assert.equal(told[0].body.recipient.id, 'frank');
    assert.equal(told[0].body.link, `http://ui.test/namespaces/default/workflows/${encodeURIComponent(acme.workflowId)}`);
    assert.match(told[0].body.text, /assigned to you/);
  });

  it('joins a second exception for the same subject instead of opening another', async () => {
    const input = raise({ sku: 'P-1' });
    const first = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, input);
    await openedState(first.workflowId);
    const second = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, { ...input, summary: 'seen again', source: 'test-2' });
    assert.equal(second.workflowId, first.workflowId);
    const state = await waitFor('the join', async () => {
      const s = await exceptionState(infra().client, first.workflowId);
      return s.occurrences === 2 ? s : undefined;
    });
    assert.equal(state.history.filter((h) => h.action === 'join').length, 1);
    const rows = await database.sql`SELECT count(*)::int AS n, max(occurrences) AS occurrences FROM exceptions WHERE workflow_id = ${first.workflowId}`;
    assert.deepEqual({ ...rows[0] }, { n: 1, occurrences: 2 });
  });

  it('applies the held change exactly once, even when approve is signalled twice', async () => {
    const input = raise({
      sku: 'P-2',
      heldChange: { kind: 'adjust', idempotencyKey: `held/${Date.now()}`, sku: 'P-2', location: 'WH1', delta: 5, reasonCode: 'found', actor: 'exceptions' },
    });
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, input);
    await openedState(handle.workflowId);
    await handle.signal(approveSignal, { by: 'alice', reason: 'found on the shelf' });
    await handle.signal(approveSignal, { by: 'alice', reason: 'found on the shelf' });
    const outcome = await handle.result();
    assert.equal(outcome.status, 'approved');
    assert.equal(outcome.decidedBy, 'alice');
    assert.equal((await getStockLevels(database.db, 'P-2'))?.total.onHand, 5);
    const movements = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key = ${input.heldChange!.idempotencyKey}`;
    assert.equal(movements[0].n, 1);
    const steps = await waitFor('both approvals to be recorded', async () => {
      const rows = await events(handle.workflowId);
      return rows.filter((r) => r.action === 'approve').length === 2 ? rows : undefined;
    });
    assert.deepEqual(
      steps.filter((r) => r.action === 'approve').map((r) => r.outcome),
      ['accepted', 'refused'],
    );
    assert.equal(steps.find((r) => r.outcome === 'refused')?.details.refusal, 'the exception is already approved');
  });

  it('discards the held change on reject', async () => {
    const input = raise({
      sku: 'P-3',
      heldChange: { kind: 'adjust', idempotencyKey: `held-reject/${Date.now()}`, sku: 'P-3', location: 'WH1', delta: 50, reasonCode: 'found', actor: 'exceptions' },
    });
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, input);
    await openedState(handle.workflowId);
    const decided = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'reject', by: 'bob', reason: 'the supplier sent a test file' });
    assert.equal(decided.accepted, true);
    assert.equal((await handle.result()).status, 'rejected');
    assert.equal((await getStockLevels(database.db, 'P-3'))?.total.onHand, 0);
    const [row] = await database.sql`SELECT status, decided_by, decision_reason, resolved_at IS NOT NULL AS resolved FROM exceptions WHERE workflow_id = ${handle.workflowId}`;
    assert.deepEqual({ ...row }, { status: 'rejected', decided_by: 'bob', decision_reason: 'the supplier sent a test file', resolved: true });
  });

  it('refuses and audits a decision by someone not entitled, and an override without evidence', async () => {
    const input = raise({
      requiresEvidence: true,
      heldChange: { kind: 'adjust', idempotencyKey: `held-evidence/${Date.now()}`, sku: 'P-1', location: 'WH1', delta: 3, reasonCode: 'correction', actor: 'exceptions' },
    });
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, input);
    await openedState(handle.workflowId);

    const stranger = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'approve', by: 'frank', reason: 'looks fine', evidence: 'trust me' });
    assert.equal(stranger.accepted, false);
    assert.match((stranger as { refusal: string }).refusal, /frank may not decide this exception/);

    const noEvidence = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'approve', by: 'alice', reason: 'looks fine' });
    assert.equal(noEvidence.accepted, false);
    assert.match((noEvidence as { refusal: string }).refusal, /evidence is required/);

    const state = await exceptionState(infra().client, handle.workflowId);
    assert.equal(state.status, 'open', 'refusals change nothing');
    assert.equal((await getStockLevels(database.db, 'P-1'))?.total.onHand, 0);
    const audited = await database.sql`SELECT actor, action FROM audit_log WHERE subject_id = ${handle.workflowId} AND action LIKE '%.refused' ORDER BY id`;
    assert.deepEqual(audited.map((r) => ({ ...r })), [
      { actor: 'frank', action: 'exception.approve.refused' },
      { actor: 'alice', action: 'exception.approve.refused' },
    ]);

    const approved = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'approve', by: 'dave', reason: 'recount confirmed', evidence: 'count sheet CS-12' });
    assert.equal(approved.accepted, true, 'an approver may decide any exception');
    assert.equal((await handle.result()).status, 'approved');
    const [row] = await database.sql`SELECT evidence FROM exceptions WHERE workflow_id = ${handle.workflowId}`;
    assert.equal(row.evidence, 'count sheet CS-12');
  });

  it('takes signals where UI decisions are allowed, but an approval that needs evidence only through the API', async () => {
    const input = raise({ requiresEvidence: true });
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, input);
    await openedState(handle.workflowId);
    await handle.signal(acknowledgeSignal, { by: 'alice', reason: 'looking' });
    await handle.signal(approveSignal, { by: 'alice', reason: 'from the UI', evidence: 'count sheet 3' });
    const refused = await waitFor('the signalled approval to be recorded', async () => (await events(handle.workflowId)).find((e) => e.action === 'approve'));
    assert.equal(refused.outcome, 'refused');
    assert.deepEqual([refused.details.via, refused.details.refusal], ['signal', 'approving this exception overrides a policy: that goes through the API, where the approver is authenticated, not as a signal (the Temporal UI)']);
    assert.deepEqual((await events(handle.workflowId)).filter((e) => e.action === 'acknowledge').map((e) => [e.outcome, e.details.via]), [['accepted', 'signal']]);
    const approved = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'approve', by: 'alice', reason: 'recounted', evidence: 'count sheet 3' });
    assert.equal(approved.accepted, true);
    const [last] = (await events(handle.workflowId)).filter((e) => e.action === 'approve').slice(-1);
    assert.deepEqual([last.outcome, last.details.via], ['accepted', 'api']);
  });

  it('escalates an unacknowledged exception to the backup, then the escalation contact, on time', async () => {
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({ type: 'ack_race' }));
    await openedState(handle.workflowId);
    const state = await waitFor(
      'two escalations',
      async () => {
        const s = await exceptionState(infra().client, handle.workflowId);
        return s.escalationLevel === 2 ? s : undefined;
      },
      { timeoutMs: 45_000 },
    );
    assert.equal(state.assigneeId, 'carol');
    const steps = (await events(handle.workflowId)).filter((r) => r.action === 'escalate');
    assert.deepEqual(steps.map((r) => r.details.to), ['bob', 'carol']);
    assert.ok(steps[0].after_seconds >= 2, `first escalation after ${steps[0].after_seconds}s, SLA 2s`);
    assert.ok(steps[1].after_seconds >= 4, `second escalation after ${steps[1].after_seconds}s, two windows of 2s`);
    // Generous upper bounds: "on time" must survive a loaded CI machine, "not early" is exact.
    assert.ok(steps[1].after_seconds < 20, `second escalation late: ${steps[1].after_seconds}s`);
    const notices = await waitFor('three notices', async () => {
      const hits = received.filter((r) => r.body.exception.workflowId === handle.workflowId);
      return hits.length === 3 ? hits : undefined;
    });
    assert.deepEqual(notices.map((n) => [n.body.notice, n.body.recipient.id]), [
      [0, 'alice'],
      [1, 'bob'],
      [2, 'carol'],
    ]);
    const deliveries = await database.sql`SELECT level, channel, count(*)::int AS n FROM notifications n JOIN exceptions x ON x.id = n.exception_id
      WHERE x.workflow_id = ${handle.workflowId} GROUP BY level, channel ORDER BY level, channel`;
    assert.deepEqual(deliveries.map((d) => [d.level, d.channel, d.n]), [
      [0, 'log', 1],
      [0, 'webhook', 1],
      [1, 'log', 1],
      [1, 'webhook', 1],
      [2, 'log', 1],
      [2, 'webhook', 1],
    ]);
    const attribute = await handle.describe();
    assert.equal(attribute.searchAttributes.EscalationLevel?.[0], 2);
  });

  it('stops the acknowledgement clock on acknowledge, then escalates on the resolution SLA', async () => {
    const handle = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({ type: 'slow_fix' }));
    await openedState(handle.workflowId);
    const ack = await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'acknowledge', by: 'alice', reason: 'looking' });
    assert.equal(ack.accepted, true);
    const state = await waitFor(
      'the resolution escalation',
      async () => {
        const s = await exceptionState(infra().client, handle.workflowId);
        return s.escalationLevel === 1 ? s : undefined;
      },
      { timeoutMs: 45_000 },
    );
    assert.equal(state.status, 'acknowledged');
    assert.equal(state.assigneeId, 'bob');
    const [escalation] = (await events(handle.workflowId)).filter((r) => r.action === 'escalate');
    assert.equal(escalation.reason, 'not resolved within 10s');
    assert.ok(escalation.after_seconds >= 10, `escalated after ${escalation.after_seconds}s, resolution SLA 10s (ack SLA 5s must not fire)`);
  });

  it('still escalates on time when the worker restarts in the middle of the wait', async () => {
    const taskQueue = uniqueTaskQueue('restart');
    let first = await startTestWorker(database, 'restart', { taskQueue });
    const handle = await raiseException({ client: infra().client, taskQueue: taskQueue }, raise({ type: 'restart' }));
    await openedState(handle.workflowId);
    await first.stop();
    // Downtime on purpose: the escalation timer lives in Temporal, not in the worker.
    await delay(1000);
    first = await startTestWorker(database, 'restart', { taskQueue });
    try {
      const state = await waitFor(
        'the escalation after the restart',
        async () => {
          const s = await exceptionState(infra().client, handle.workflowId);
          return s.escalationLevel === 1 ? s : undefined;
        },
        { timeoutMs: 60_000 },
      );
      assert.equal(state.assigneeId, 'bob');
      const [escalation] = (await events(handle.workflowId)).filter((r) => r.action === 'escalate');
      // Never before the SLA. After it, the restart may cost a workflow task its timeout (10 s) and
      // the stopped worker's sticky queue its schedule-to-start timeout (10 s) before the new worker
      // runs the fired timer: a CI run saw 32 s.
      assert.ok(escalation.after_seconds >= 3 && escalation.after_seconds < 45, `escalated after ${escalation.after_seconds}s, SLA 3s`);
      await decideException({ db: database.db, client: infra().client }, handle.workflowId, { action: 'reject', by: 'bob', reason: 'test done' });
      await handle.result();
    } finally {
      await first.stop();
    }
  });

  it('finds exactly the open exceptions of an owner with the Temporal UI visibility query', async () => {
    const mine = [raise({ type: 'visibility_check' }), raise({ type: 'visibility_check' })];
    const others = [raise({ type: 'visibility_check', supplierId: 'acme' })];
    const handles = await Promise.all([...mine, ...others].map((r) => raiseException({ client: infra().client, taskQueue: worker.taskQueue }, r)));
    await Promise.all(handles.map((h) => openedState(h.workflowId)));
    const resolved = await raiseException({ client: infra().client, taskQueue: worker.taskQueue }, raise({ type: 'visibility_check' }));
    await openedState(resolved.workflowId);
    await decideException({ db: database.db, client: infra().client }, resolved.workflowId, { action: 'reject', by: 'alice', reason: 'noise' });
    await resolved.result();

    const query = `TaskQueue = "${worker.taskQueue}" AND ExceptionType = "visibility_check" AND ExceptionStatus = "open" AND OwnerId = "alice"`;
    const found = await waitFor('visibility to catch up', async () => {
      const ids: string[] = [];
      for await (const execution of infra().client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids.length === 2 ? ids.sort() : undefined;
    });
    assert.deepEqual(found, handles.slice(0, 2).map((h) => h.workflowId).sort());
  });

  describe('through the API', () => {
    let app: FastifyInstance;
    const TOKEN = 'exceptions-token';
    const headers = { authorization: `Bearer ${TOKEN}` };

    let asAlice: Record<string, string>;
    let asFrank: Record<string, string>;

    before(async () => {
      app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: TOKEN });
      asAlice = await principalWithToken(database, 'alice', 'approver');
      asFrank = await principalWithToken(database, 'frank', 'approver');
    });

    after(async () => {
      await app?.close();
    });

    it('raises, lists, shows and decides an exception, answering a refusal with 403 and the reason', async () => {
      const body = { type: 'api_check', subject: `api-${Date.now()}`, summary: 'raised through the API', source: 'api-test', sku: 'P-1' };
      const raised = await app.inject({ method: 'POST', url: '/v1/exceptions', headers, payload: body });
      assert.equal(raised.statusCode, 202, raised.body);
      const workflowId = raised.json().workflowId;
      await openedState(workflowId);

      const listed = await app.inject({ method: 'GET', url: '/v1/exceptions?status=open&owner=alice&type=api_check', headers });
      assert.equal(listed.statusCode, 200);
      const [row] = listed.json().exceptions;
      assert.equal(row.workflowId, workflowId);

      const refused = await app.inject({ method: 'POST', url: `/v1/exceptions/${row.id}/decisions`, headers: asFrank, payload: { action: 'approve', reason: 'mine now' } });
      assert.equal(refused.statusCode, 403);
      assert.match(refused.json().message, /frank may not decide this exception/);

      const accepted = await app.inject({ method: 'POST', url: `/v1/exceptions/${row.id}/decisions`, headers: asAlice, payload: { action: 'reject', reason: 'duplicate of a known issue' } });
      assert.equal(accepted.statusCode, 200, accepted.body);
      assert.equal(accepted.json().status, 'rejected');

      const shown = await app.inject({ method: 'GET', url: `/v1/exceptions/${row.id}`, headers });
      assert.deepEqual(
        shown.json().history.map((h: { action: string; outcome: string }) => `${h.action}:${h.outcome}`),
        ['open:accepted', 'approve:refused', 'reject:accepted'],
      );
      const again = await app.inject({ method: 'POST', url: `/v1/exceptions/${row.id}/decisions`, headers: asAlice, payload: { action: 'approve', reason: 'changed my mind' } });
      assert.equal(again.statusCode, 409);
    });

    it('refuses a decision with a missing field, naming it', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/exceptions/1/decisions', headers: asAlice, payload: { action: 'reassign', reason: 'holiday' } });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().issues[0].field, 'to');
    });

    it('validates ownership edits, naming the bad entry, and changes nothing on error', async () => {
      const before = await app.inject({ method: 'GET', url: '/v1/ownership', headers });
      const broken = { ...OWNERSHIP, rules: [...OWNERSHIP.rules, { match: { exceptionType: 'x' }, owner: 'nobody', backup: 'bob', escalation: 'carol', ackSla: '1h', resolutionSla: '1d' }] };
      const response = await app.inject({ method: 'PUT', url: '/v1/ownership', headers, payload: broken });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json().issues, [{ field: `rules.${OWNERSHIP.rules.length}.owner`, reason: 'unknown owner "nobody"' }]);
      const noDefault = { owners: OWNERSHIP.owners, rules: OWNERSHIP.rules.slice(1) };
      const missing = await app.inject({ method: 'PUT', url: '/v1/ownership', headers, payload: noDefault });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.json().message, /must contain a default rule/);
      const after = await app.inject({ method: 'GET', url: '/v1/ownership', headers });
      assert.deepEqual(after.json(), before.json());
    });
  });
});
