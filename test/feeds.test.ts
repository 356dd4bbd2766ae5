import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { decideException } from '../services/exceptions';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { mapSupplierSkus, registerSupplier } from '../db/suppliers';
import { getStockLevels } from '../db/levels';
import { replaceOwnership } from '../db/ownership';
import { waitFor } from '../runtime/wait';
import { FeedRules } from '../schemas/feeds';
import { feedProgressQuery, type FeedSummary } from '../workflows/supplier-feed-ingest';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, uniqueTaskQueue, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

const TOKEN = 'feeds-token';
const RULES = FeedRules.parse({ spikeAbsolute: 50, spikeRelative: 0.5, quarantineShare: 0.2, quarantineMinLines: 10, chunkSize: 3 });

describe('supplier feed ingest', () => {
  let database: Database;
  let worker: RunningWorker;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'ACME-DS', name: 'Acme drop-ship stock' },
      ],
      items: [
        { name: 'Feed item', skus: ['F-1', 'F-2', 'F-3', 'F-4', 'F-5', 'F-6', 'F-7'] },
        { name: 'Backorderable', allowNegative: true, skus: ['F-NEG'] },
        { name: 'Kit', skus: Array.from({ length: 200 }, (_, i) => `K-${i}`) },
      ],
    });
    await registerSupplier(database.db, { id: 'acme', name: 'Acme Supplies', location: 'ACME-DS' });
    await mapSupplierSkus(database.db, 'acme', [
      { supplierSku: 'A1', sku: 'F-1' },
      { supplierSku: 'A2', sku: 'F-2', unitFactor: 6 },
      { supplierSku: 'A3', sku: 'F-3' },
      { supplierSku: 'A4', sku: 'F-4' },
      { supplierSku: 'A5', sku: 'F-5' },
      { supplierSku: 'A6', sku: 'F-6' },
      { supplierSku: 'A7', sku: 'F-7' },
      { supplierSku: 'ANEG', sku: 'F-NEG' },
      ...Array.from({ length: 200 }, (_, i) => ({ supplierSku: `AK-${i}`, sku: `K-${i}` })),
    ]);
    await replaceOwnership(database.db, {
      owners: [
        { id: 'ops', name: 'Ops', contact: 'ops@example.com', roles: ['approver'] },
        { id: 'buyer', name: 'Buyer', contact: 'buyer@example.com' },
        { id: 'acme-buyer', name: 'Acme buyer', contact: 'acme@example.com' },
      ],
      rules: [
        { owner: 'ops', backup: 'buyer', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'supplier_feed_line' }, owner: 'buyer', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'missing_sku_mapping', supplierId: 'acme' }, owner: 'acme-buyer', backup: 'buyer', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
      ],
    });
    worker = await startTestWorker(database, 'feeds');
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: TOKEN, feedRules: RULES, feedBodyLimitBytes: 200_000 });
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  async function postJson(feed: unknown, supplier = 'acme') {
    return app.inject({ method: 'POST', url: `/v1/suppliers/${supplier}/feeds`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(feed) });
  }

  async function finished(workflowId: string): Promise<FeedSummary> {
    return infra().client.workflow.getHandle(workflowId).result();
  }

  async function onHand(sku: string): Promise<number | undefined> {
    return (await getStockLevels(database.db, sku))?.locations.find((l) => l.location === 'ACME-DS')?.onHand;
  }

  async function lineOutcomes(feedId: string) {
    return database.sql`SELECT l.line_no, l.outcome, l.reason FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk
      WHERE f.supplier_id = 'acme' AND f.feed_id = ${feedId} ORDER BY l.line_no`;
  }

  async function exceptionsOf(type: string) {
    return database.sql`SELECT id, workflow_id, owner_id, status, subject, context, held_change FROM exceptions WHERE type = ${type} ORDER BY id`;
  }

  it('applies the same feed sent twice only once, and answers the resend with the existing run', async () => {
    const feed = { feedId: 'twice-1', lines: [{ sku: 'A1', quantity: 10, sequence: 1 }, { sku: 'A2', quantity: 3, sequence: 1 }] };
    const first = await postJson(feed);
    assert.equal(first.statusCode, 202, first.body);
    assert.deepEqual(first.json(), { workflowId: 'feed/acme/twice-1', feedId: 'twice-1', lines: 2, new: true });
    const summary = await finished(first.json().workflowId);
    const again = await postJson(feed);
    assert.equal(again.statusCode, 202);
    assert.equal(again.json().new, false);
    assert.equal(again.json().workflowId, first.json().workflowId);
    assert.equal(summary.counts.applied, 2);
    assert.equal(await onHand('F-1'), 10);
    assert.equal(await onHand('F-2'), 18, 'a case of 6 counts as 6 base units');
    const movements = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key LIKE 'feed/acme/twice-1/%'`;
    assert.equal(movements[0].n, 2);
    const runs = await infra().client.workflow.count(`WorkflowId = 'feed/acme/twice-1'`);
    assert.equal(runs.count, 1);
  });

  it('lets the highest sequence win when lines arrive out of order, within and across feeds', async () => {
    const first = await postJson({ feedId: 'order-1', lines: [{ sku: 'A3', quantity: 30, sequence: 5 }, { sku: 'A3', quantity: 10, sequence: 3 }, { sku: 'A3', quantity: 40, sequence: 7 }] });
    await finished(first.json().workflowId);
    const second = await postJson({ feedId: 'order-2', lines: [{ sku: 'A3', quantity: 35, sequence: 6 }, { sku: 'A3', quantity: 40, sequence: 7 }] });
    const summary = await finished(second.json().workflowId);
    assert.equal(await onHand('F-3'), 40);
    assert.deepEqual((await lineOutcomes('order-1')).map((l) => l.outcome), ['applied', 'stale', 'applied']);
    assert.deepEqual((await lineOutcomes('order-2')).map((l) => l.outcome), ['stale', 'duplicate']);
    assert.equal(summary.counts.stale, 1);
    assert.equal(summary.counts.duplicate, 1);
  });

  it('rejects malformed lines with the field and the reason while the good lines apply', async () => {
    const csv = ['sku,quantity,sequence', 'A5,12,1', 'A6,abc,1', ',4,1', 'A7,5,-2', 'A7,"8",2', ''].join('\n');
    const response = await app.inject({ method: 'POST', url: '/v1/suppliers/acme/feeds?feedId=csv-1', headers: { 'content-type': 'text/csv' }, payload: csv });
    assert.equal(response.statusCode, 202, response.body);
    const summary = await finished(response.json().workflowId);
    assert.deepEqual([summary.counts.read, summary.counts.applied, summary.counts.rejected], [5, 2, 3]);
    const lines = await lineOutcomes('csv-1');
    assert.deepEqual(lines.map((l) => [l.line_no, l.outcome]), [
      [1, 'applied'],
      [2, 'rejected'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'applied'],
    ]);
    assert.match(lines[1].reason, /quantity: quantity must be a number/);
    assert.match(lines[2].reason, /sku: must not be empty/);
    assert.match(lines[3].reason, /sequence: must not be negative/);
    assert.equal(await onHand('F-5'), 12);
    assert.equal(await onHand('F-7'), 8);
  });

  it('refuses a body that is not a feed, an unknown supplier, and an oversized feed, storing nothing', async () => {
    const [{ n: before }] = await database.sql`SELECT count(*)::int AS n FROM supplier_feeds`;
    const noHeader = await app.inject({ method: 'POST', url: '/v1/suppliers/acme/feeds', headers: { 'content-type': 'text/csv' }, payload: 'A1;10;1\n' });
    assert.equal(noHeader.statusCode, 400);
    assert.match(noHeader.json().message, /header lacks column\(s\) sku, quantity, sequence/);
    const notLines = await postJson({ lines: 'A1,10,1' });
    assert.equal(notLines.statusCode, 400);
    assert.match(notLines.json().message, /lines: must be an array of lines/);
    const unknown = await postJson({ lines: [] }, 'nobody');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'unknown_supplier');
    const huge = await app.inject({ method: 'POST', url: '/v1/suppliers/acme/feeds', headers: { 'content-type': 'text/csv' }, payload: `sku,quantity,sequence\n${'A1,1,1\n'.repeat(40_000)}` });
    assert.equal(huge.statusCode, 413);
    const [{ n: after }] = await database.sql`SELECT count(*)::int AS n FROM supplier_feeds`;
    assert.equal(after, before);
  });

  it('raises one exception to the supplier SKU owner for lines with no mapping', async () => {
    const response = await postJson({ feedId: 'unmapped-1', lines: [{ sku: 'ZZ-1', quantity: 1, sequence: 1 }, { sku: 'ZZ-2', quantity: 1, sequence: 1 }, { sku: 'A1', quantity: 11, sequence: 2 }] });
    const summary = await finished(response.json().workflowId);
    assert.equal(summary.counts.unmapped, 2);
    assert.equal(await onHand('F-1'), 11);
    const [exception] = await waitFor('the unmapped-SKU exception', async () => {
      const rows = await exceptionsOf('missing_sku_mapping');
      return rows.length === 1 ? rows : undefined;
    });
    assert.equal(exception.owner_id, 'acme-buyer');
    assert.deepEqual(exception.context.unmappedSkus, ['ZZ-1', 'ZZ-2']);
  });

  it('holds a spike and a negative line for their owner; approving applies them', async () => {
    await finished((await postJson({ feedId: 'base-4', lines: [{ sku: 'A4', quantity: 100, sequence: 1 }] })).json().workflowId);
    const response = await postJson({ feedId: 'suspect-4', lines: [{ sku: 'A4', quantity: 1000, sequence: 2 }, { sku: 'ANEG', quantity: -5, sequence: 1 }, { sku: 'A1', quantity: 12, sequence: 3 }] });
    const summary = await finished(response.json().workflowId);
    assert.deepEqual([summary.counts.applied, summary.counts.held], [1, 2]);
    assert.equal(await onHand('F-4'), 100, 'the spike waits');
    const held = await waitFor('two held-line exceptions', async () => {
      const rows = (await exceptionsOf('supplier_feed_line')).filter((r) => r.subject.startsWith('acme/suspect-4/'));
      return rows.length === 2 ? rows : undefined;
    });
    assert.deepEqual(held.map((r) => r.owner_id), ['buyer', 'buyer']);
    const spike = held.find((r) => r.subject === 'acme/suspect-4/line-1')!;
    const negative = held.find((r) => r.subject === 'acme/suspect-4/line-2')!;
    assert.deepEqual(spike.context.diff, { lastKnown: 100, proposed: 1000 });

    await waitFor('the exceptions to open', async () => ((await exceptionsOf('supplier_feed_line')).length >= 2 ? true : undefined));
    const approved = await decideException({ db: database.db, client: infra().client }, spike.workflow_id, { action: 'approve', by: 'buyer', reason: 'supplier confirmed a new shipment' });
    assert.equal(approved.accepted, true);
    assert.equal(await onHand('F-4'), 1000);

    const noEvidence = await decideException({ db: database.db, client: infra().client }, negative.workflow_id, { action: 'approve', by: 'buyer', reason: 'backordered' });
    assert.equal(noEvidence.accepted, false, 'a negative quantity overrides a policy and needs evidence');
    const withEvidence = await decideException({ db: database.db, client: infra().client }, negative.workflow_id, { action: 'approve', by: 'buyer', reason: 'backordered', evidence: 'supplier email 2026-11-20' });
    assert.equal(withEvidence.accepted, true);
    assert.equal(await onHand('F-NEG'), -5);
  });

  it('quarantines a feed of mass negatives, changes no stock until approved, and applies it on approval', async () => {
    await finished((await postJson({ feedId: 'q-base', lines: Array.from({ length: 10 }, (_, i) => ({ sku: `AK-${i}`, quantity: 20, sequence: 1 })) })).json().workflowId);
    const broken = { feedId: 'q-1', lines: Array.from({ length: 10 }, (_, i) => ({ sku: `AK-${i}`, quantity: i < 5 ? -3 : 25, sequence: 2 })) };
    const response = await postJson(broken);
    const workflowId = response.json().workflowId;
    const [quarantine] = await waitFor('the quarantine exception', async () => {
      const rows = (await exceptionsOf('supplier_feed_quarantine')).filter((r) => r.subject === 'acme/q-1');
      return rows.length === 1 ? rows : undefined;
    });
    const progress = await infra().client.workflow.getHandle(workflowId).query(feedProgressQuery);
    assert.equal(progress.phase, 'quarantined');
    const [feed] = await database.sql`SELECT status FROM supplier_feeds WHERE feed_id = 'q-1'`;
    assert.equal(feed.status, 'quarantined');
    for (let i = 0; i < 10; i++) assert.equal(await onHand(`K-${i}`), 20, 'the last known-good stock stays');
    assert.equal(quarantine.context.diff.length, 5);

    const approved = await decideException({ db: database.db, client: infra().client }, quarantine.workflow_id, { action: 'approve', by: 'ops', reason: 'supplier confirmed the file' });
    assert.equal(approved.accepted, true);
    const summary = await finished(workflowId);
    assert.equal(summary.phase, 'done');
    assert.deepEqual([summary.counts.applied, summary.counts.rejected], [5, 5], 'negatives are refused for items that may not go negative');
    assert.equal(await onHand('K-7'), 25);
    assert.equal(await onHand('K-2'), 20);
  });

  it('discards a quarantined feed on reject, keeping the last known-good stock', async () => {
    const broken = { feedId: 'q-2', lines: Array.from({ length: 10 }, (_, i) => ({ sku: `AK-${i + 20}`, quantity: -1, sequence: 1 })) };
    const response = await postJson(broken);
    const [quarantine] = await waitFor('the quarantine exception', async () => {
      const rows = (await exceptionsOf('supplier_feed_quarantine')).filter((r) => r.subject === 'acme/q-2');
      return rows.length === 1 ? rows : undefined;
    });
    await decideException({ db: database.db, client: infra().client }, quarantine.workflow_id, { action: 'reject', by: 'ops', reason: 'test file from the supplier' });
    const summary = await finished(response.json().workflowId);
    assert.equal(summary.phase, 'discarded');
    const outcomes = await lineOutcomes('q-2');
    assert.equal(outcomes.length, 10);
    assert.ok(outcomes.every((l) => l.outcome === 'discarded'));
    assert.equal(await onHand('K-25'), undefined);
  });

  it('finishes a large feed exactly once after its worker is stopped in the middle', async () => {
    const taskQueue = uniqueTaskQueue('feed-restart');
    const lines = Array.from({ length: 3000 }, (_, i) => ({ sku: `AK-${100 + (i % 100)}`, quantity: ((i * 7) % 40) + 1, sequence: Math.floor(i / 100) + 1 }));
    const expected = new Map<string, number>();
    for (const line of lines) expected.set(`K-${line.sku.slice(3)}`, line.quantity);
    const bigApp = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue, apiToken: TOKEN, feedRules: { ...RULES, chunkSize: 50 } });
    let running = await startTestWorker(database, 'feed-restart', { taskQueue });
    try {
      const response = await bigApp.inject({ method: 'POST', url: '/v1/suppliers/acme/feeds', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ feedId: 'big-1', lines }) });
      assert.equal(response.statusCode, 202, response.body);
      const handle = infra().client.workflow.getHandle(response.json().workflowId);
      await waitFor('a third of the feed', async () => ((await handle.query(feedProgressQuery).catch(() => undefined))?.nextLine ?? 0) > 1000 ? true : undefined, { timeoutMs: 60_000 });
      await running.stop();
      const [{ n: partial }] = await database.sql`SELECT count(*)::int AS n FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk WHERE f.feed_id = 'big-1'`;
      assert.ok(partial > 0 && partial < 3000, `stopped part-way (${partial} lines recorded)`);
      running = await startTestWorker(database, 'feed-restart', { taskQueue });
      const summary: FeedSummary = await handle.result();
      assert.equal(summary.counts.read, 3000);
      assert.equal(summary.counts.applied, 3000);
      const [{ n: recorded }] = await database.sql`SELECT count(*)::int AS n FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk WHERE f.feed_id = 'big-1'`;
      assert.equal(recorded, 3000, 'every line has exactly one outcome');
      const [{ dupes }] = await database.sql`SELECT count(*)::int AS dupes FROM (SELECT idempotency_key FROM stock_movements WHERE idempotency_key LIKE 'feed/acme/big-1/%' GROUP BY idempotency_key HAVING count(*) > 1) d`;
      assert.equal(dupes, 0);
      for (const [sku, quantity] of expected) assert.equal(await onHand(sku), quantity, sku);
      const history = await handle.describe();
      assert.equal(history.status.name, 'COMPLETED');
    } finally {
      await running.stop();
      await bigApp.close();
    }
  });
});
