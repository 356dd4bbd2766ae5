import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { exceptionSubjects, workflowIds } from '../domain/keys';
import { waitFor } from '../runtime/wait';
import type { ChannelRegistrationInput, ChannelStatus } from '../schemas/channels';
import { StockOperation } from '../schemas/stock';
import { channelSyncState } from '../services/channels';
import type { ChannelDriftReport } from '../workflows/channel-drift';
import { ShopifyContractServer } from './contract/shopify-server';
import { WebhookReceiver } from './contract/webhook-receiver';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, workerLog, type RunningWorker } from './harness';
import type { LogLine } from './log-recorder';

const TOKEN = 'operator-token';
const HOOK_SECRET = 'whsec-channel-test-7f3a9c';
const SHOP_TOKEN = 'shpat_channel_test_51d0e2';
const LOCATION_GID = 'gid://shopify/Location/1';
const SKUS = ['TEE-S', 'TEE-M', 'TEE-L', 'CAP', 'MUG', 'BAG'];
const itemGid = (sku: string) => `gid://shopify/InventoryItem/${SKUS.indexOf(sku) + 1}`;

describe('channel availability sync', function () {
  let database: Database;
  let worker: RunningWorker;
  let api: FastifyInstance;
  let receiver: WebhookReceiver;
  let shop: ShopifyContractServer;
  let hookUrl: string;
  let shopUrl: string;
  let opCount = 0;
  let finishRecording: () => void;
  let recording: Promise<{ lines: LogLine[] }>;
  const responses: string[] = [];

  const move = (op: Record<string, unknown>) => applyStockOperation(database.db, StockOperation.parse({ ...op, idempotencyKey: `channels-test/${++opCount}` }));
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const response = await api.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKEN}` } });
    responses.push(response.body);
    return response;
  };
  const register = async (channel: ChannelRegistrationInput) => {
    const response = await call('POST', '/v1/channels', channel);
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as ChannelStatus;
  };
  const status = async (id: string) => (await call('GET', `/v1/channels/${id}`)).json() as ChannelStatus;
  const available = async (sku: string, locations: string[]) => {
    const [row] = await database.sql<{ a: number }[]>`
      SELECT coalesce(sum(b.available), 0)::int AS a FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE v.sku = ${sku} AND l.code = ANY(${locations}::text[])`;
    return row.a;
  };
  const figureShown = (sku: string, expected: number) =>
    waitFor(`the webhook channel to show ${expected} for ${sku}`, async () => (receiver.latest.get(sku)?.available === expected ? true : undefined), { timeoutMs: 30_000 });
  const exceptionsAbout = (subject: string) =>
    database.sql<{ type: string; assignee_id: string; summary: string; context: Record<string, unknown> }[]>`
      SELECT type, assignee_id, summary, context FROM exceptions WHERE subject = ${subject}`;

  before(async () => {
    process.env.STOCKFLOW_TEST_HOOK_SECRET = HOOK_SECRET;
    process.env.STOCKFLOW_TEST_SHOP_TOKEN = SHOP_TOKEN;
    recording = workerLog.record(() => new Promise<void>((resolve) => (finishRecording = resolve)));
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'WH2', name: 'Warehouse 2' },
        { code: 'POPUP', name: 'Pop-up store (not on channels)' },
      ],
      items: [{ name: 'Shop goods', skus: SKUS }],
    });
    await replaceOwnership(database.db, {
      owners: [
        { id: 'ops', name: 'Ops', contact: 'ops@example.com', roles: ['approver'] },
        { id: 'channel-desk', name: 'Channel desk', contact: 'channels@example.com' },
        { id: 'web-lead', name: 'Web shop lead', contact: 'web@example.com' },
      ],
      rules: [
        { owner: 'ops', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'channel_sync' }, owner: 'channel-desk', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
      ],
    });
    for (const sku of SKUS) {
      await move({ kind: 'receive', sku, location: 'WH1', quantity: 100 });
      await move({ kind: 'receive', sku, location: 'WH2', quantity: 20 });
      await move({ kind: 'receive', sku, location: 'POPUP', quantity: 7 });
    }
    receiver = new WebhookReceiver(HOOK_SECRET);
    hookUrl = await receiver.start();
    // A slow restore (2 s for one mutation) so an emptied bucket is still empty when the next push comes.
    shop = new ShopifyContractServer(SHOP_TOKEN, { maximumAvailable: 100, restoreRate: 5 });
    shopUrl = await shop.start();
    worker = await startTestWorker(database, 'channels');
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: TOKEN });
  });

  after(async () => {
    finishRecording?.();
    await api?.close();
    await worker?.stop();
    await receiver?.stop();
    await shop?.stop();
    await database?.close();
  });

  it('registers a webhook channel and publishes every mapped SKU at once under its buffer rule', async () => {
    const channel = await register({
      id: 'web',
      kind: 'webhook',
      name: 'Web shop',
      owner: 'web-lead',
      locations: ['WH1', 'WH2'],
      settings: { url: `${hookUrl}/figures`, readUrl: `${hookUrl}/read` },
      secretRef: 'env:STOCKFLOW_TEST_HOOK_SECRET',
      staleAfter: '2s',
      buffer: { share: 0.9, safety: 1, tags: { clearance: { share: 1, safety: 0 } }, skus: { MUG: { max: 10 } } },
      skus: SKUS.map((sku) => ({ sku, externalId: sku, tags: sku === 'CAP' ? ['clearance'] : [] })),
    });
    assert.equal(channel.owner, 'web-lead');
    assert.deepEqual(channel.locations, ['WH1', 'WH2']);
    assert.equal(channel.secretRef, 'env:STOCKFLOW_TEST_HOOK_SECRET');
    // 120 available over WH1 and WH2 (the pop-up's 7 do not feed this channel).
    await figureShown('TEE-M', 107);
    await figureShown('CAP', 120);
    await figureShown('MUG', 10);
    await waitFor('every mapped SKU to be published', async () => (SKUS.every((sku) => receiver.latest.has(sku)) ? true : undefined));
    assert.equal(receiver.rejected, 0, 'every push carried a valid signature');
    const state = await waitFor('the sync loop to count the acknowledgements', async () => {
      const s = await channelSyncState(infra().client, 'web');
      return s.acknowledged >= SKUS.length ? s : undefined;
    });
    assert.equal(state.channelId, 'web');
    assert.equal(state.consecutiveFailures, 0);
    const described = await infra().client.workflow.getHandle(workflowIds.channelSync('web')).describe();
    assert.equal(described.searchAttributes.ChannelId?.[0], 'web');
    assert.equal(described.searchAttributes.StockflowFlow?.[0], 'channelSync');
  });

  it('pushes a committed movement within seconds, and a count block publishes 0', async () => {
    await move({ kind: 'issue', sku: 'TEE-S', location: 'WH1', quantity: 30 });
    await figureShown('TEE-S', 80);
    await move({ kind: 'cycle_count', sku: 'TEE-S', location: 'WH2', counted: 2 });
    assert.equal(await available('TEE-S', ['WH1', 'WH2']), 70, 'WH2 is blocked: its own available is 0, WH1 still has 70');
    await figureShown('TEE-S', 0);
    await move({ kind: 'resolve_count_flag', sku: 'TEE-S', location: 'WH2', note: 'recounted: 2 is right' });
    await figureShown('TEE-S', 63);
  });

  it('coalesces a burst of a hundred changes of one SKU into a few pushes, the last one correct', async () => {
    const before = receiver.received.filter((f) => f.sku === 'TEE-L').length;
    await Promise.all(Array.from({ length: 100 }, () => move({ kind: 'issue', sku: 'TEE-L', location: 'WH1', quantity: 1 })));
    await figureShown('TEE-L', 17);
    const pushes = receiver.received.filter((f) => f.sku === 'TEE-L').length - before;
    assert.ok(pushes >= 1 && pushes <= 25, `${pushes} pushes for 100 changes`);
    assert.equal(receiver.outOfOrder, 0);
  });

  it('never publishes an older figure after a newer one under concurrent changes', async () => {
    const skus = ['TEE-M', 'CAP', 'BAG'];
    await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        move(i % 3 === 0 ? { kind: 'receive', sku: skus[i % 3], location: i % 2 ? 'WH1' : 'WH2', quantity: 3 } : { kind: 'issue', sku: skus[i % 3], location: 'WH1', quantity: 1 }),
      ),
    );
    for (const sku of skus) {
      const a = await available(sku, ['WH1', 'WH2']);
      await figureShown(sku, sku === 'CAP' ? a : Math.floor((a * 9) / 10) - 1);
    }
    assert.equal(receiver.outOfOrder, 0);
    for (const sku of skus) {
      const versions = receiver.received.filter((f) => f.sku === sku).map((f) => f.version);
      assert.deepEqual(versions, [...versions].sort((x, y) => x - y), `${sku} versions arrive ascending`);
    }
  });

  it('while the channel is down: retries with backoff, tells its owner once, then sends only the latest figures', async () => {
    // Collected and acknowledged: a change whose transaction was not yet behind every running one when
    // the relay last collected is still in the outbox, not pending, and would fail once the channel is down.
    await waitFor('the earlier changes to be collected and acknowledged', async () => {
      const [outbox] = await database.sql<{ collected: boolean }[]>`
        SELECT NOT EXISTS (
          SELECT FROM availability_changes c, channels ch WHERE ch.id = 'web' AND (c.txid, c.seq) > (ch.cursor_txid, ch.cursor_seq)
        ) AS collected`;
      return outbox.collected && (await status('web')).pendingSkus === 0 ? true : undefined;
    });
    receiver.down = true;
    const sentBefore = receiver.received.length;
    for (let i = 0; i < 5; i++) {
      await move({ kind: 'issue', sku: 'BAG', location: 'WH1', quantity: 2 });
      await move({ kind: 'receive', sku: 'MUG', location: 'WH2', quantity: 1 });
    }
    const [stale] = await waitFor(
      'the staleness exception',
      async () => {
        const rows = await exceptionsAbout(exceptionSubjects.channelStale('web'));
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(stale.type, 'channel_sync');
    assert.equal(stale.assignee_id, 'web-lead', "the channel's owner, not the channel_sync rule's");
    assert.match(stale.summary, /channel web: \d SKU\(s\) unpublished/);
    // Both were changed within milliseconds; a round between their windows' ends lists BAG alone.
    const listed = (stale.context.stale as { sku: string }[]).map((s) => s.sku);
    assert.ok(listed.includes('BAG') && listed.every((sku) => sku === 'BAG' || sku === 'MUG'), listed.join());
    const down = await status('web');
    assert.equal(down.pendingSkus, 2);
    assert.ok(down.lagSeconds !== null && down.lagSeconds >= 2);
    assert.match(down.lastError ?? '', /HTTP 503/);
    assert.ok(down.pending.every((p) => p.attempts >= 1));
    // Let it fail a few more rounds: still one exception.
    await waitFor('more failed attempts', async () => ((await status('web')).pending.every((p) => p.attempts >= 3) ? true : undefined), { timeoutMs: 60_000 });
    receiver.down = false;
    const bag = Math.floor(((await available('BAG', ['WH1', 'WH2'])) * 9) / 10) - 1;
    await figureShown('BAG', bag);
    await figureShown('MUG', 10);
    const afterRecovery = receiver.received.slice(sentBefore);
    assert.equal(afterRecovery.filter((f) => f.sku === 'BAG').length, 1, 'one push of the latest BAG figure, not ten');
    assert.equal(afterRecovery.filter((f) => f.sku === 'MUG').length, 1);
    assert.equal((await exceptionsAbout(exceptionSubjects.channelStale('web'))).length, 1);
    const recovered = await status('web');
    assert.equal(recovered.pendingSkus, 0);
    assert.equal(recovered.lagSeconds, null);
    assert.equal(recovered.lastError, null);
  });

  it('drift check: reads the channel back and raises one delta exception per mismatch', async () => {
    receiver.shownOverride.set('CAP', 3);
    const report = await infra().client.workflow.execute<() => Promise<ChannelDriftReport>>('channelDrift', { taskQueue: worker.taskQueue, workflowId: `drift-test-${Date.now()}` });
    const web = report.channels.find((c) => c.channelId === 'web');
    assert.deepEqual({ ...web }, { channelId: 'web', checked: SKUS.length, drifted: 1, readable: true });
    const [drift] = await waitFor('the drift exception', async () => {
      const rows = await exceptionsAbout(exceptionSubjects.channelDrift('web', 'CAP'));
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(drift.assignee_id, 'web-lead');
    assert.match(drift.summary, /CAP on channel web shows 3, should show \d+/);
    receiver.shownOverride.clear();
  });

  it('an archived SKU publishes 0 at once, and its figure again when restored', async () => {
    const shown = receiver.latest.get('TEE-M')?.available;
    assert.ok(shown !== undefined && shown > 0, `TEE-M shows ${shown}`);
    // Archival is a catalogue change, not a balance change: the trigger on variants puts it in the outbox.
    await database.sql`UPDATE variants SET archived_at = now() WHERE sku = 'TEE-M'`;
    await figureShown('TEE-M', 0);
    await database.sql`UPDATE variants SET archived_at = NULL WHERE sku = 'TEE-M'`;
    await figureShown('TEE-M', shown);
  });

  it('Shopify: sets available with changeFromQuantity and an idempotency key, within the cost budget', async () => {
    await register({
      id: 'shopify-eu',
      kind: 'shopify',
      name: 'Shopify EU',
      locations: ['WH1'],
      settings: { shopUrl, locationId: LOCATION_GID },
      secretRef: 'env:STOCKFLOW_TEST_SHOP_TOKEN',
      buffer: { share: 0.5 },
      skus: SKUS.map((sku) => ({ sku, externalId: itemGid(sku) })),
    });
    const level = (sku: string, expected: number) =>
      waitFor(`Shopify to show ${expected} for ${sku}`, async () => (shop.level(itemGid(sku), LOCATION_GID) === expected ? true : undefined), { timeoutMs: 30_000 });
    await level('CAP', Math.floor((await available('CAP', ['WH1'])) / 2));
    shop.drainBucket();
    await move({ kind: 'issue', sku: 'CAP', location: 'WH1', quantity: 10 });
    await level('CAP', Math.floor((await available('CAP', ['WH1'])) / 2));
    assert.ok(shop.calls.throttled >= 1, 'the empty bucket answered THROTTLED and the push waited for it to restore');
    assert.deepEqual(shop.refusals, [], 'no request broke the contract (changeFromQuantity, @idempotent, input)');
    const exceptions = await database.sql`SELECT 1 FROM exceptions WHERE subject LIKE 'channel:shopify-eu/%'`;
    assert.equal(exceptions.length, 0);
  });

  it('Shopify: a figure changed on Shopify is re-read, raised to the owner, and ours set over it', async () => {
    shop.levels.set(`${itemGid('BAG')}@${LOCATION_GID}`, 999);
    await move({ kind: 'issue', sku: 'BAG', location: 'WH1', quantity: 1 });
    const ours = Math.floor((await available('BAG', ['WH1'])) / 2);
    await waitFor('Shopify to show our BAG figure again', async () => (shop.level(itemGid('BAG'), LOCATION_GID) === ours ? true : undefined), { timeoutMs: 30_000 });
    assert.ok(shop.calls.stale >= 1);
    const [moved] = await waitFor('the moved-figure exception', async () => {
      const rows = await exceptionsAbout(exceptionSubjects.channelMoved('shopify-eu', 'BAG'));
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(moved.assignee_id, 'channel-desk', 'no owner named: the channel_sync rule owns the channel');
    assert.match(moved.summary, /BAG on channel shopify-eu showed 999/);
    assert.equal(moved.context.theirs, 999);
    assert.deepEqual(shop.refusals, []);
  });

  it('never returns or logs a secret', async () => {
    const list = await call('GET', '/v1/channels');
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      (list.json() as { channels: ChannelStatus[] }).channels.map((c) => c.id),
      ['shopify-eu', 'web'],
    );
    finishRecording();
    const { lines } = await recording;
    const logged = JSON.stringify(lines);
    const rows = JSON.stringify(await database.sql`SELECT * FROM channels`);
    const exceptions = JSON.stringify(await database.sql`SELECT summary, context FROM exceptions`);
    for (const secret of [HOOK_SECRET, SHOP_TOKEN]) {
      assert.ok(!responses.some((body) => body.includes(secret)), 'an API response held a secret');
      assert.ok(!logged.includes(secret), 'the worker logged a secret');
      assert.ok(!rows.includes(secret), 'a secret was stored');
      assert.ok(!exceptions.includes(secret), 'an exception carried a secret');
    }
    assert.ok(lines.length > 0, 'the worker logged while the channels failed and recovered');
  });
});
