import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../runtime/config';
import type { z } from 'zod';
import type { MovementRequest } from '../schemas/stock';
import { ApiClient, apiClientOptions } from './api-client';
import { orderScenario } from './demo-orders';
import { formatCounts } from './feeds';
import { formatStockLevels } from './format';

type WithoutKey<T> = T extends unknown ? Omit<T, 'idempotencyKey'> : never;
type Step = { say: string; request: WithoutKey<z.input<typeof MovementRequest>> };

/**
 * A short day in the warehouse, told through the API so every step shows up as a workflow.
 * `storeOnHand` is what the city store holds before the run, so the count is off by 7–10% on
 * every run and lands in "investigate", not "blocked".
 */
function stockScenario(storeOnHand: number): Step[] {
  const expectedAtStore = storeOnHand + 20;
  const counted = expectedAtStore - Math.ceil(expectedAtStore * 0.07);
  return [
    { say: 'Purchase order PO-7 arrives: 120 trail shoes (size 42) into the main warehouse', request: { kind: 'receive', sku: 'SHOE-TRAIL-42', location: 'WH1', quantity: 120, sourceRef: 'PO-7' } },
    { say: 'and 40 grey beanies', request: { kind: 'receive', sku: 'BEANIE-MERINO-GREY', location: 'WH1', quantity: 40, sourceRef: 'PO-7' } },
    { say: 'The supplier announces 60 more shoes on the way', request: { kind: 'set_incoming', sku: 'SHOE-TRAIL-42', location: 'WH1', quantity: 60, sourceRef: 'ASN-7' } },
    { say: 'Three shoes arrive damaged and are written off', request: { kind: 'adjust', sku: 'SHOE-TRAIL-42', location: 'WH1', delta: -3, reasonCode: 'damaged', note: 'crushed box', actor: 'sam' } },
    { say: '20 shoes move to the city store', request: { kind: 'transfer', sku: 'SHOE-TRAIL-42', from: 'WH1', to: 'STORE1', quantity: 20 } },
    {
      say: `A cycle count at the store finds ${counted}, not ${expectedAtStore} (over 5% off: flagged for investigation)`,
      request: { kind: 'cycle_count', sku: 'SHOE-TRAIL-42', location: 'STORE1', counted, actor: 'lee' },
    },
    { say: 'Someone tries to issue 500 beanies (refused: only 40 available)', request: { kind: 'issue', sku: 'BEANIE-MERINO-GREY', location: 'WH1', quantity: 500 } },
  ];
}

/**
 * A vendor-managed supplier whose stock sits in our main warehouse sends feeds: a clean one, the
 * same one again (nothing new happens), and one with a spike that is held for the buyer.
 */
async function feedScenario(api: ApiClient, run: string): Promise<void> {
  await api.send('PUT', '/v1/suppliers/bottleco', { name: 'BottleCo (vendor-managed)', location: 'WH1' });
  await api.send('PUT', '/v1/suppliers/bottleco/sku-map', {
    entries: [
      { supplierSku: 'BC-BLK', sku: 'BOTTLE-750-BLACK' },
      { supplierSku: 'BC-SND-6PK', sku: 'BOTTLE-750-SAND', unitFactor: 6 },
    ],
  });
  const sequence = Math.floor(Date.now() / 1000);
  const clean = { feedId: `demo-${run}-a`, lines: [{ sku: 'BC-BLK', quantity: 40, sequence }, { sku: 'BC-SND-6PK', quantity: 5, sequence }] };
  const suspect = { feedId: `demo-${run}-b`, lines: [{ sku: 'BC-BLK', quantity: 4000, sequence: sequence + 1 }, { sku: 'BC-SND-6PK', quantity: 6, sequence: sequence + 1 }] };
  console.log('\nSupplier feeds from BottleCo (vendor-managed stock in WH1):');
  for (const [say, feed] of [
    ['a clean feed: 40 black bottles, 5 six-packs of sand', clean],
    ['the same feed again', clean],
    ['a feed claiming 4,000 black bottles (a spike)', suspect],
  ] as const) {
    const sent = await api.post('/v1/suppliers/bottleco/feeds', feed);
    if (sent.status !== 202) {
      console.log(`  ${say} → refused ${sent.status}: ${sent.body?.message}`);
      continue;
    }
    const done = await feedOutcome(api, sent.body.feedId);
    console.log(`  ${say} → ${sent.body.new ? '' : 'already received, nothing new started; '}${done}`);
  }
}

async function feedOutcome(api: ApiClient, feedId: string): Promise<string> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const feed = await api.get(`/v1/suppliers/bottleco/feeds/${feedId}`);
    if (feed.body?.status === 'applied') {
      const { counts, exceptions } = feed.body.summary;
      return `${formatCounts(counts)}${exceptions.length ? ` (held for the buyer: ${exceptions.join(', ')})` : ''}`;
    }
    await delay(500);
  }
  return 'still running';
}

/**
 * An exception nobody acknowledges: the `demo` ownership rule gives it a 20-second acknowledgement
 * SLA, so it escalates from the owner to the backup while the operator watches.
 */
async function exceptionScenario(api: ApiClient, run: string, watchSeconds: number, uiBase: string): Promise<void> {
  const subject = `SHOE-TRAIL-42@STORE1/${run}`;
  const raised = await api.post(
    '/v1/exceptions',
    {
      type: 'demo',
      subject,
      severity: 'high',
      summary: 'A picker reports 2 trail shoes found in the returns cage at STORE1; add them back?',
      source: 'demo',
      sku: 'SHOE-TRAIL-42',
      location: 'STORE1',
      heldChange: { kind: 'adjust', idempotencyKey: `demo/${run}/found`, sku: 'SHOE-TRAIL-42', location: 'STORE1', delta: 2, reasonCode: 'found', actor: 'demo' },
      context: { countedAt: 'STORE1', reportedBy: 'picker-17' },
    },
    'operator',
  );
  if (raised.status !== 202) {
    console.log(`\nraising the demo exception failed: ${raised.status} ${raised.body?.message}`);
    return;
  }
  const workflowId: string = raised.body.workflowId;
  console.log(`\nAn exception is held for a person to decide: ${workflowId}`);
  console.log(`Triage it in the UI: ${uiBase}/workflows?query=${encodeURIComponent('ExceptionStatus="open" AND OwnerId="inventory-controller"')}`);
  if (watchSeconds <= 0) return;
  console.log(`Nobody acknowledges it; watching for ${watchSeconds}s (acknowledgement SLA 20s)…`);
  let lastLevel = -1;
  let id: number | undefined;
  const deadline = Date.now() + watchSeconds * 1000;
  while (Date.now() < deadline) {
    const listed = await api.get(`/v1/exceptions?type=demo&limit=20`);
    const row = (listed.body?.exceptions ?? []).find((e: { workflowId: string }) => e.workflowId === workflowId);
    if (row && row.escalationLevel !== lastLevel) {
      lastLevel = row.escalationLevel;
      id = row.id;
      console.log(`  ${new Date().toISOString().slice(11, 19)}  exception ${row.id} is with ${row.assigneeId} (escalation level ${row.escalationLevel})`);
    }
    if (lastLevel >= 1) break;
    await delay(1000);
  }
  if (id !== undefined) {
    console.log(`Decide it: npm run stockflow -- exceptions approve ${id} --by ops-lead --reason "found in returns"`);
  }
}

/** `stockflow demo`: drives the scenario against the running stack and shows the result. */
export async function demoCommand(options: { api?: string; watch: string }): Promise<void> {
  const config = loadConfig();
  const api = new ApiClient(apiClientOptions(config, options.api));
  const run = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  console.log(`Demo run ${run}: each step is a stockMovement workflow with id movement/demo/${run}/<n>\n`);
  const before = await api.get('/v1/stock/SHOE-TRAIL-42');
  if (before.status !== 200) throw new Error(`the demo catalogue is missing: ${before.status} ${before.body?.message}`);
  const storeOnHand = before.body.locations.find((l: { location: string }) => l.location === 'STORE1')?.onHand ?? 0;
  let n = 0;
  for (const step of stockScenario(storeOnHand)) {
    n += 1;
    const body = { actor: 'demo', ...step.request, idempotencyKey: `demo/${run}/${n}` };
    const response = await api.post('/v1/stock/movements', body);
    const outcome =
      response.status === 200
        ? `applied (${response.body.result.movements} ledger movement${response.body.result.movements === 1 ? '' : 's'})`
        : response.status === 202
          ? 'accepted, still running'
          : `refused ${response.status}: ${response.body?.message}`;
    console.log(`${String(n).padStart(2)}. ${step.say}\n    → ${outcome}`);
  }
  for (const sku of ['SHOE-TRAIL-42', 'BEANIE-MERINO-GREY']) {
    const levels = await api.get(`/v1/stock/${sku}`);
    console.log(`\n${levels.status === 200 ? formatStockLevels(levels.body) : `${sku}: ${levels.body?.message}`}`);
  }
  const ui = config.TEMPORAL_UI_URL ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
  const uiBase = `${ui}/namespaces/${config.TEMPORAL_NAMESPACE}`;
  console.log(`\nSee the workflows in the Temporal UI: ${uiBase}/workflows?query=${encodeURIComponent('StockflowFlow="stockMovement"')}`);
  await feedScenario(api, run);
  await orderScenario(api, run, uiBase);
  await exceptionScenario(api, run, Number(options.watch), uiBase);
}
