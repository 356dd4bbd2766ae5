import { loadConfig } from '../runtime/config';
import type { z } from 'zod';
import type { MovementRequest } from '../schemas/stock';
import { ApiClient, apiClientOptions } from './api-client';
import { formatStockLevels } from './format';

type WithoutKey<T> = T extends unknown ? Omit<T, 'idempotencyKey'> : never;
type Step = { say: string; request: WithoutKey<z.input<typeof MovementRequest>> };

/** A short day in the warehouse, told through the API so every step shows up as a workflow. */
function stockScenario(): Step[] {
  return [
    { say: 'Purchase order PO-7 arrives: 120 trail shoes (size 42) into the main warehouse', request: { kind: 'receive', sku: 'SHOE-TRAIL-42', location: 'WH1', quantity: 120, sourceRef: 'PO-7' } },
    { say: 'and 40 grey beanies', request: { kind: 'receive', sku: 'BEANIE-MERINO-GREY', location: 'WH1', quantity: 40, sourceRef: 'PO-7' } },
    { say: 'The supplier announces 60 more shoes on the way', request: { kind: 'set_incoming', sku: 'SHOE-TRAIL-42', location: 'WH1', quantity: 60, sourceRef: 'ASN-7' } },
    { say: 'Three shoes arrive damaged and are written off', request: { kind: 'adjust', sku: 'SHOE-TRAIL-42', location: 'WH1', delta: -3, reasonCode: 'damaged', note: 'crushed box', actor: 'sam' } },
    { say: '20 shoes move to the city store', request: { kind: 'transfer', sku: 'SHOE-TRAIL-42', from: 'WH1', to: 'STORE1', quantity: 20 } },
    { say: 'A cycle count at the store finds 18, not 20 (10% off: flagged for investigation)', request: { kind: 'cycle_count', sku: 'SHOE-TRAIL-42', location: 'STORE1', counted: 18, actor: 'lee' } },
    { say: 'Someone tries to issue 500 beanies (refused: only 40 available)', request: { kind: 'issue', sku: 'BEANIE-MERINO-GREY', location: 'WH1', quantity: 500 } },
  ];
}

/** `stockflow demo`: drives the scenario against the running stack and shows the result. */
export async function demoCommand(options: { api?: string }): Promise<void> {
  const config = loadConfig();
  const api = new ApiClient(apiClientOptions(config, options.api));
  const run = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  console.log(`Demo run ${run}: each step is a stockMovement workflow with id movement/demo/${run}/<n>\n`);
  let n = 0;
  for (const step of stockScenario()) {
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
  console.log(`\nSee the workflows in the Temporal UI: ${ui}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent('StockflowFlow="stockMovement"')}`);
}
