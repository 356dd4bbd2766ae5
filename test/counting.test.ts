import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue, updateVariant } from '../db/catalogue';
import { clientOf } from '../db/client';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { countingRulesOf, DEFAULT_CONFIG } from '../schemas/config';
import { StockOperation } from '../schemas/stock';
import { recomputeAbc } from '../services/counting';
import { exceptionState } from '../services/exceptions';
import { ensureSchedules } from '../services/schedules';
import { scheduleIds } from '../domain/keys';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, servicesFor, startTestWorker, stockflowCli, type RunningWorker } from './harness';

const DAY = '2026-12-02';
/** Every SKU-location due every working day, so the day's task holds all of a location's SKUs. */
const DAILY = { ...countingRulesOf(DEFAULT_CONFIG), frequencies: { A: 1, B: 1, C: 1 } };
const SKUS = Array.from({ length: 10 }, (_, i) => `CT-${String(i + 1).padStart(2, '0')}`);
/** An on-hand figure no id, count or date in a response could contain by chance. */
const SECRET_ON_HAND = 4817;

describe('counting programme: ABC classes, count tasks, blind counts with a recount by someone else', () => {
  let database: Database;
  let app: FastifyInstance;
  let worker: RunningWorker;
  let carl: { authorization: string };
  let rita: { authorization: string };
  let sam: { authorization: string };
  let tasks: { id: number; location: string; lines: { sku: string }[]; exceptionWorkflowId: string }[];

  const move = (kind: 'receive' | 'issue', sku: string, quantity: number, location = 'CNT1') =>
    applyStockOperation(database.db, StockOperation.parse({ kind, idempotencyKey: `seed/${kind}/${sku}/${location}/${quantity}`, sku, location, quantity }));
  const price = (sku: string, value: number) => updateVariant(database.db, sku, { price: value, currency: 'EUR' }, 'test-setup');

  async function call(method: 'GET' | 'POST', url: string, headers: { authorization: string }, payload?: object) {
    const res = await app.inject({ method, url, headers, payload });
    return { status: res.statusCode, body: res.body, json: () => res.json() };
  }
  async function ok(method: 'GET' | 'POST', url: string, headers: { authorization: string }, payload?: object) {
    const res = await call(method, url, headers, payload);
    assert.equal(res.status, 200, `${method} ${url}: ${res.body}`);
    return res.json();
  }
  const onHand = async (sku: string) =>
    (await clientOf(database.db)<{ on_hand: number; count_status: string }[]>`
      SELECT b.on_hand, b.count_status FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE v.sku = ${sku} AND l.code = 'CNT1'`)[0];
  const cycleCounts = async () => Number((await clientOf(database.db)`SELECT count(*) AS n FROM cycle_counts`)[0].n);

  const stockflow = (as: { authorization: string }, ...args: string[]) => stockflowCli(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, as, ...args);

  before(async () => {
    database = await createTestDatabase();
    worker = await startTestWorker(database, 'counting', { counting: DAILY });
    await replaceOwnership(database.db, {
      owners: [
        { id: 'carl', name: 'Carl', contact: 'carl@example.com', roles: ['counting'] },
        { id: 'rita', name: 'Rita', contact: 'rita@example.com', roles: ['inventory'] },
        { id: 'olga', name: 'Olga', contact: 'olga@example.com', roles: ['operations'] },
      ],
      rules: [
        { owner: 'olga', backup: 'olga', escalation: 'olga', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'count_task' }, owner: 'carl', backup: 'rita', escalation: 'olga', ackSla: '2h', resolutionSla: '10h' },
      ],
    });
    await addToCatalogue(database.db, {
      locations: [{ code: 'CNT1', name: 'Counting warehouse' }, { code: 'CNT2', name: 'Counting store' }],
      items: [{ name: 'Counted thing', skus: SKUS }],
    });
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: `counting-${randomUUID()}` });
    await app.listen({ host: '127.0.0.1', port: 0 });
    carl = await principalWithToken(database, 'carl', 'operator');
    rita = await principalWithToken(database, 'rita', 'operator');
    sam = await principalWithToken(database, 'sam', 'operator');

    // Revenue by hand: CT-01 5 × 10 then, after a price rise, 5 × 20 = 150; CT-02 1 × 100 = 100;
    // CT-03 and CT-04 10 × 5 = 50 each; CT-05 20 × 1 = 20 (at CNT2); CT-06…CT-10 sold nothing.
    await price('CT-01', 10);
    await move('receive', 'CT-01', 110);
    await move('issue', 'CT-01', 5);
    await price('CT-01', 20);
    await move('issue', 'CT-01', 6);
    await move('receive', 'CT-01', 1, 'CNT2');
    await price('CT-02', 100);
    await move('receive', 'CT-02', 51);
    await move('issue', 'CT-02', 1);
    for (const sku of ['CT-03', 'CT-04']) await price(sku, 5);
    await move('receive', 'CT-03', 30);
    await move('issue', 'CT-03', 10);
    await move('receive', 'CT-04', SECRET_ON_HAND + 10);
    await move('issue', 'CT-04', 10);
    await price('CT-05', 1);
    await move('receive', 'CT-05', 40);
    await move('receive', 'CT-05', 20, 'CNT2');
    await move('issue', 'CT-05', 20, 'CNT2');
    for (const sku of SKUS.slice(5)) await move('receive', sku, 7);
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await database?.close();
  });

  it('classes SKUs by revenue at the price in force when each unit left: top 20% A, next 30% B, the rest C', async () => {
    const run = await ok('POST', '/v1/counting/abc', carl);
    assert.deepEqual(run.classes, { A: 2, B: 3, C: 5 });
    assert.equal(run.windowDays, 90);
    const classes: { sku: string; abcClass: string; revenue: number; rank: number; computedAt: string }[] = await ok('GET', '/v1/counting/abc', carl);
    const of = (sku: string) => classes.find((c) => c.sku === sku);
    assert.deepEqual(
      SKUS.map((sku) => `${sku}:${of(sku)?.abcClass}`),
      ['CT-01:A', 'CT-02:A', 'CT-03:B', 'CT-04:B', 'CT-05:B', 'CT-06:C', 'CT-07:C', 'CT-08:C', 'CT-09:C', 'CT-10:C'],
    );
    assert.equal(of('CT-01')?.revenue, 5 * 10 + 6 * 20, 'units after the price rise are valued at the new price');
    assert.equal(of('CT-01')?.rank, 1);
    assert.equal(of('CT-03')?.rank, of('CT-04')?.rank, 'equal revenue, equal rank');
    assert.equal(of('CT-06')?.revenue, 0);
    assert.equal(of('CT-01')?.computedAt, run.computedAt);
    assert.deepEqual((await ok('GET', '/v1/counting/abc?abcClass=A', carl)).map((c: { sku: string }) => c.sku), ['CT-01', 'CT-02']);
  });

  it('counts only the trailing window: a run 91 days on finds no sales and puts everything in C', async () => {
    const later = await recomputeAbc(servicesFor(database, worker.taskQueue), new Date(Date.now() + 91 * 86_400_000));
    assert.deepEqual(later.classes, { A: 0, B: 0, C: 10 });
    const handle = await infra().client.workflow.start('abcClassification', { taskQueue: worker.taskQueue, workflowId: `counting-test/abc/${randomUUID()}` });
    assert.deepEqual(((await handle.result()) as { classes: object }).classes, { A: 2, B: 3, C: 5 }, 'the scheduled workflow classes as of now');
  });

  it('plans one task per location for the day, held for the counting owner, and a rerun plans nothing twice', async () => {
    const plan = () => infra().client.workflow.start('countPlanning', { taskQueue: worker.taskQueue, workflowId: `counting-test/plan/${randomUUID()}`, args: [{ day: DAY }] });
    const first = (await (await plan()).result()) as { day: string; raised: string[] };
    assert.equal(first.day, DAY);
    assert.deepEqual(first.raised, ['exception/count_task/count:CNT1/2026-12-02', 'exception/count_task/count:CNT2/2026-12-02']);
    tasks = await ok('GET', `/v1/count-tasks?day=${DAY}`, carl);
    assert.deepEqual(tasks.map((t) => `${t.location}:${t.lines.length}`), ['CNT1:10', 'CNT2:2']);
    assert.deepEqual(tasks[1].lines.map((l) => l.sku), ['CT-01', 'CT-05'], 'every SKU-location with a balance there');
    const held = await waitFor('the count task exception to open', async () => {
      const state = await exceptionState(infra().client, tasks[0].exceptionWorkflowId).catch(() => undefined);
      return state?.status === 'open' ? state : undefined;
    });
    assert.equal(held.ownerId, 'carl');
    assert.equal(held.backupId, 'rita');
    assert.equal(held.type, 'count_task');

    const again = (await (await plan()).result()) as { raised: string[] };
    assert.deepEqual(again.raised, first.raised);
    const after: { id: number }[] = await ok('GET', `/v1/count-tasks?day=${DAY}`, carl);
    assert.deepEqual(after.map((t) => t.id), tasks.map((t) => t.id), 'no second task for a location and day');
    const weekend = (await (await infra().client.workflow.start('countPlanning', { taskQueue: worker.taskQueue, workflowId: `counting-test/plan/${randomUUID()}`, args: [{ day: '2026-12-05' }] })).result()) as { raised: string[] };
    assert.deepEqual(weekend.raised, [], 'nothing is counted on a Saturday');
  });

  it('shows the counter what to count, never the expected figure (API and CLI)', async () => {
    const view = await call('GET', `/v1/count-tasks/${tasks[0].id}`, carl);
    assert.equal(view.status, 200);
    assert.doesNotMatch(view.body, new RegExp(String(SECRET_ON_HAND)), 'the on-hand of CT-04 is not in the body');
    assert.doesNotMatch(view.body, /expected|onHand|on_hand|available|"counted"/i);
    const body = view.json();
    assert.deepEqual(body.lines.map((l: { sku: string }) => l.sku), SKUS);
    assert.deepEqual(Object.keys(body.lines[0]).sort(), ['abcClass', 'countedBy', 'recountedBy', 'sku', 'status']);
    const listed = await call('GET', `/v1/count-tasks?day=${DAY}`, carl);
    assert.doesNotMatch(listed.body, new RegExp(String(SECRET_ON_HAND)));
    const shown = await stockflow(carl, 'counts', 'show', String(tasks[0].id));
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /CNT1 2026-12-02 open: 10 SKU\(s\)/);
    assert.match(shown.stdout, /CT-04 \(B\) to count/);
    assert.doesNotMatch(shown.stdout, new RegExp(String(SECRET_ON_HAND)));
  });

  it('posts a count within 5% as a cycle count and asks for a recount over 5%, idempotently on resend', async () => {
    const before = await cycleCounts();
    const lines = [
      { sku: 'CT-01', counted: 99 }, // expected 99: exact
      { sku: 'CT-02', counted: 48 }, // expected 50: 4% off
      { sku: 'CT-03', counted: 15 }, // expected 20: 25% off
      { sku: 'CT-04', counted: SECRET_ON_HAND },
    ];
    const submitted = await ok('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { lines });
    assert.deepEqual(submitted.lines, [
      { sku: 'CT-01', result: 'posted', outcome: 'ok' },
      { sku: 'CT-02', result: 'posted', outcome: 'ok' },
      { sku: 'CT-03', result: 'recount_required' },
      { sku: 'CT-04', result: 'posted', outcome: 'ok' },
    ]);
    assert.equal((await onHand('CT-02')).on_hand, 48, 'the count posted through the ledger');
    assert.equal((await onHand('CT-03')).on_hand, 20, 'a count over tolerance does not post');
    assert.equal(await cycleCounts(), before + 3);
    const line = submitted.task.lines.find((l: { sku: string }) => l.sku === 'CT-03');
    assert.deepEqual(line, { sku: 'CT-03', abcClass: 'B', status: 'recount', countedBy: 'carl', recountedBy: null });
    assert.doesNotMatch(JSON.stringify(submitted), /"expected"|4817|"variance/);

    const resent = await ok('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { lines });
    assert.deepEqual(resent.lines, submitted.lines);
    assert.equal(await cycleCounts(), before + 3, 'a resend posts nothing more');
  });

  it('refuses the recount from the first counter and from someone not on the task, changing nothing', async () => {
    const own = await call('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { lines: [{ sku: 'CT-03', counted: 16 }] });
    assert.equal(own.status, 403, own.body);
    assert.match(own.json().message, /lines\.0: CT-03 needs a recount by someone other than carl, who counted it first/);
    const stranger = await call('POST', `/v1/count-tasks/${tasks[0].id}/results`, sam, { lines: [{ sku: 'CT-03', counted: 16 }] });
    assert.equal(stranger.status, 403, stranger.body);
    assert.match(stranger.json().message, /sam may not decide this exception/);
    const impersonating = await call('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { by: 'rita', lines: [{ sku: 'CT-03', counted: 16 }] });
    assert.equal(impersonating.status, 403);
    const unknown = await call('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { lines: [{ sku: 'CT-05', counted: 40 }, { sku: 'NOPE', counted: 1 }] });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json().message, /lines\.1\.sku: count task \d+ has no line for NOPE/);
    assert.equal((await onHand('CT-05')).on_hand, 40, 'the good line of a refused submission is not taken either');
    const view = await ok('GET', `/v1/count-tasks/${tasks[0].id}`, carl);
    assert.deepEqual(
      view.lines.filter((l: { sku: string }) => ['CT-03', 'CT-05'].includes(l.sku)).map((l: { status: string }) => l.status),
      ['recount', 'to_count'],
    );
  });

  it("posts another person's recount, and the grading still stops selling over 10%", async () => {
    const recount = await ok('POST', `/v1/count-tasks/${tasks[0].id}/results`, rita, { lines: [{ sku: 'CT-03', counted: 15 }] });
    assert.deepEqual(recount.lines, [{ sku: 'CT-03', result: 'posted', outcome: 'blocked' }]);
    const balance = await onHand('CT-03');
    assert.deepEqual([balance.on_hand, balance.count_status], [15, 'blocked']);
    const movement = await clientOf(database.db)`SELECT actor FROM cycle_counts WHERE idempotency_key = ${`count/CNT1/${DAY}/CT-03`}`;
    assert.deepEqual(movement.map((m) => m.actor), ['rita'], 'the recount posts under the recounter');
    await assert.rejects(move('issue', 'CT-03', 1), /blocked after a cycle count variance/);
    const again = await ok('POST', `/v1/count-tasks/${tasks[0].id}/results`, rita, { lines: [{ sku: 'CT-03', counted: 15 }] });
    assert.deepEqual(again.lines, recount.lines, 'the recount resent');
    const changed = await call('POST', `/v1/count-tasks/${tasks[0].id}/results`, rita, { lines: [{ sku: 'CT-03', counted: 14 }] });
    assert.equal(changed.status, 409);
  });

  it('closes the task and its exception when every line has posted (CLI), and keeps accuracy from first counts', async () => {
    const figures = ['CT-05=40', ...SKUS.slice(5).map((sku) => `${sku}=7`)];
    const done = await stockflow(carl, 'counts', 'submit', String(tasks[0].id), ...figures);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /CT-05: posted \(ok\)/);
    assert.match(done.stdout, /CNT1 2026-12-02 done: 10 SKU\(s\)/);
    const closed = await waitFor('the count task exception to close', async () => {
      const state = await exceptionState(infra().client, tasks[0].exceptionWorkflowId);
      return state.status === 'approved' ? state : undefined;
    });
    assert.equal(closed.decidedBy, 'carl');
    assert.deepEqual(
      closed.history.filter((h) => h.action === 'comment' && h.outcome === 'accepted').map((h) => h.by),
      ['carl', 'rita', 'carl'],
      'each accepted submission is in the exception history (sam\'s refused one is recorded as refused)',
    );
    const counts = await cycleCounts();
    const resent = await ok('POST', `/v1/count-tasks/${tasks[0].id}/results`, carl, { lines: [{ sku: 'CT-05', counted: 40 }] });
    assert.deepEqual(resent.lines, [{ sku: 'CT-05', result: 'posted', outcome: 'ok' }], 'a resend to a closed task answers as before');
    assert.equal(await cycleCounts(), counts);
    assert.equal((await exceptionState(infra().client, tasks[0].exceptionWorkflowId)).history.length, closed.history.length, 'and tells the exception nothing');
    const listed = await stockflow(carl, 'counts', 'tasks', '--day', DAY, '--status', 'done');
    assert.match(listed.stdout, /CNT1 2026-12-02 done/);
    assert.doesNotMatch(listed.stdout, /CNT2/);

    const accuracy = await ok('GET', '/v1/counting/accuracy', carl);
    assert.deepEqual(accuracy.byLocationAndClass, [
      { location: 'CNT1', abcClass: 'A', counted: 2, withinTolerance: 2, accuracy: 1 },
      { location: 'CNT1', abcClass: 'B', counted: 3, withinTolerance: 2, accuracy: 0.6667 },
      { location: 'CNT1', abcClass: 'C', counted: 5, withinTolerance: 5, accuracy: 1 },
    ]);
    assert.deepEqual(accuracy.byClass.map((c: { abcClass: string; accuracy: number | null }) => `${c.abcClass}:${c.accuracy}`), ['A:1', 'B:0.6667', 'C:1']);
    const kpis = await ok('GET', '/v1/kpis?window=1d&location=CNT1', carl);
    assert.deepEqual(kpis.stockAccuracyByClass, {
      A: { numerator: 2, denominator: 2, share: 1 },
      B: { numerator: 2, denominator: 3, share: 2 / 3 },
      C: { numerator: 5, denominator: 5, share: 1 },
    }, 'the KPI grades the latest posted count: CT-03 posted blocked');
    const badDay = await call('GET', '/v1/counting/accuracy?since=2026-02-30', carl);
    assert.equal(badDay.status, 400);
    assert.match(badDay.json().message, /since: must be a real date/);
    const elsewhere = await ok('GET', '/v1/counting/accuracy?location=CNT2', carl);
    assert.deepEqual(elsewhere.byLocationAndClass, []);
    assert.equal(elsewhere.byClass[0].accuracy, null, 'nothing counted: no figure, not 0%');
  });

  it('schedules the ABC classes weekly and the count tasks on working days only', async () => {
    const client = infra().client;
    try {
      await ensureSchedules(client, worker.taskQueue);
      const abc = await client.schedule.getHandle(scheduleIds.abcClassification(worker.taskQueue)).describe();
      const planning = await client.schedule.getHandle(scheduleIds.countPlanning(worker.taskQueue)).describe();
      assert.equal(abc.action.type === 'startWorkflow' && abc.action.workflowType, 'abcClassification');
      assert.equal(planning.action.type === 'startWorkflow' && planning.action.workflowType, 'countPlanning');
      assert.deepEqual(abc.spec.calendars?.map((c) => [c.dayOfWeek, c.hour]), [[[{ start: 'MONDAY', end: 'MONDAY', step: 1 }], [{ start: 4, end: 4, step: 1 }]]]);
      assert.deepEqual(planning.spec.calendars?.map((c) => [c.dayOfWeek, c.hour]), [[[{ start: 'MONDAY', end: 'FRIDAY', step: 1 }], [{ start: 6, end: 6, step: 1 }]]]);
    } finally {
      await Promise.all(Object.values(scheduleIds).map((id) => client.schedule.getHandle(id(worker.taskQueue)).delete()));
    }
  });

  it('lists the counting routes in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    for (const p of ['/v1/counting/abc', '/v1/counting/accuracy', '/v1/count-tasks', '/v1/count-tasks/{id}', '/v1/count-tasks/{id}/results']) assert.ok(doc.paths[p], p);
  });
});
