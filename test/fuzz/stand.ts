import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { signedHeaders } from '../../api/auth';
import { buildApi } from '../../api/server';
import { addToCatalogue } from '../../db/catalogue';
import { connect, type Database } from '../../db/connection';
import { mapSupplierSkus, registerSupplier } from '../../db/suppliers';
import { replaceOwnership } from '../../db/ownership';
import { applyStockOperation } from '../../db/stock';
import { StockOperation } from '../../schemas/stock';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, startTestWorker, type RunningWorker } from '../harness';
import type { HostileRequest } from './requests';

export const SECRET = 'hostile-secret';
export const TOKEN = 'hostile-token';

/** The world every hostile request lands in: what exists, so generated requests can name it. */
export const WORLD = {
  locations: ['WH1', 'WH2'],
  skus: ['W-1', 'W-2'],
  backorderableSku: 'N-1',
  supplier: 'acme',
  /** Supplier SKU → our SKU; A6 is a case of 6. */
  skuMap: [
    { supplierSku: 'A1', sku: 'W-1', unitFactor: 1 },
    { supplierSku: 'A6', sku: 'W-2', unitFactor: 6 },
  ],
  /** Who the requests come from: the principal of the stand's token. */
  caller: 'ops',
  owners: [
    { id: 'ops', name: 'Operations', contact: 'ops@example.com', roles: ['approver' as const] },
    { id: 'buyer', name: 'Buyer', contact: 'buyer@example.com', roles: [] },
  ],
  /**
   * Every SKU starts with two receipts of the largest valid quantity in every warehouse: 2,000,000,000
   * on hand, near the top of a 32-bit integer, where one more large receipt no longer fits.
   */
  openingReceipts: [1_000_000_000, 1_000_000_000],
  defaultRule: { owner: 'ops', backup: 'buyer', escalation: 'ops', ackSla: 3600, resolutionSla: 86_400 },
  feedLineRule: { match: { exceptionType: 'supplier_feed_line' }, owner: 'buyer', backup: 'ops', escalation: 'ops', ackSla: 3600, resolutionSla: 86_400 },
} as const;

const API_APPLICATION = 'stockflow-hostile-api';

/**
 * Every row the API's own connection inserts, updates or deletes is noted by a trigger, so "a
 * refused request changed nothing" can be checked while the worker writes concurrently.
 */
const WATCH_API_WRITES = `
  CREATE TABLE hostile_api_writes (id bigserial PRIMARY KEY, table_name text NOT NULL, operation text NOT NULL);
  CREATE FUNCTION hostile_note_api_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF current_setting('application_name') = '${API_APPLICATION}' THEN
      INSERT INTO hostile_api_writes (table_name, operation) VALUES (TG_TABLE_NAME, TG_OP);
    END IF;
    RETURN NULL;
  END $$;
  DO $$ DECLARE t text; BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'hostile_api_writes' LOOP
      EXECUTE format('CREATE TRIGGER hostile_api_write AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION hostile_note_api_write()', t);
    END LOOP;
  END $$;`;

/** What the API asked of Temporal: workflows started or signalled, and by which request. */
export interface TemporalTally {
  /** Starts, signal-with-starts and signals that Temporal accepted. */
  changes: number;
  /** Workflow id → the request that started or signalled it (set by the test around each request). */
  startedBy: Map<string, string>;
  currentRequest: string;
}

function tallyingInterceptor(tally: TemporalTally): WorkflowClientInterceptor {
  const note = (workflowId: string) => {
    tally.changes += 1;
    if (!tally.startedBy.has(workflowId)) tally.startedBy.set(workflowId, tally.currentRequest);
  };
  return {
    async startWithDetails(input, next) {
      const output = await next(input);
      note(input.options.workflowId);
      return output;
    },
    async signalWithStart(input, next) {
      const runId = await next(input);
      note(input.options.workflowId);
      return runId;
    },
    async signal(input, next) {
      await next(input);
      note(input.workflowExecution.workflowId);
    },
  };
}

export interface Stand {
  /** The suite's database, through the worker's connection pool. */
  database: Database;
  app: FastifyInstance;
  worker: RunningWorker;
  temporal: TemporalTally;
  /** Sends a request as an entitled caller: with the token of WORLD.caller (an admin), and signed. */
  send(request: HostileRequest): Promise<LightMyRequestResponse>;
  /** Sends a JSON body (or none) as an entitled caller. */
  sendJson(method: HostileRequest['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** A mark in the log of the API's writes… */
  apiWriteMark(): Promise<number>;
  /** …and the writes after it, as "table OPERATION × n". */
  apiWritesSince(mark: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A database of its own seeded with WORLD, a real worker on its own task queue, and the API
 * built by buildApi over an instrumented connection and Temporal client. Requests that start
 * workflows answer at once (202) and are followed to their outcome by the suite.
 */
export async function startStand(prefix: string): Promise<Stand> {
  const database = await createTestDatabase();
  await database.sql.unsafe(WATCH_API_WRITES);
  await addToCatalogue(database.db, {
    locations: WORLD.locations.map((code) => ({ code, name: `Warehouse ${code}` })),
    items: [
      { name: 'Widget', skus: [...WORLD.skus] },
      { name: 'Backorderable widget', allowNegative: true, skus: [WORLD.backorderableSku] },
    ],
  });
  await registerSupplier(database.db, { id: WORLD.supplier, name: 'Acme', location: WORLD.locations[0] });
  await mapSupplierSkus(database.db, WORLD.supplier, WORLD.skuMap.map((entry) => ({ ...entry })));
  for (const sku of [...WORLD.skus, WORLD.backorderableSku]) {
    for (const location of WORLD.locations) {
      for (const [i, quantity] of WORLD.openingReceipts.entries()) {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `world/opening/${sku}/${location}/${i}`, sku, location, quantity }));
      }
    }
  }
  await replaceOwnership(database.db, {
    owners: WORLD.owners.map((owner) => ({ ...owner, roles: [...owner.roles] })),
    rules: [WORLD.defaultRule, { ...WORLD.feedLineRule, match: { ...WORLD.feedLineRule.match } }],
  });

  const worker = await startTestWorker(database, prefix);
  const apiDatabase = connect(`${database.url}?application_name=${API_APPLICATION}`, { max: 5 });
  const temporal: TemporalTally = { changes: 0, startedBy: new Map(), currentRequest: '(setup)' };
  const { connection, namespace } = infra();
  const client = new Client({ connection, namespace, interceptors: { workflow: [tallyingInterceptor(temporal)] } });
  const app = await buildApi({
    ...defaultApiSettings,
    database: apiDatabase,
    client,
    taskQueue: worker.taskQueue,
    webhookSecret: SECRET,
    apiToken: TOKEN,
    workflowWaitMs: 0,
    feedBodyLimitBytes: 512 * 1024,
    authFailureLimit: 1_000_000,
  });
  // The caller is an admin who is also the approving owner, so every route and every decision is within reach.
  const caller = await principalWithToken(database, WORLD.caller, 'admin', 86_400);

  const send = (request: HostileRequest) => {
    const headers: Record<string, string> = { ...caller };
    if (request.payload !== undefined) Object.assign(headers, { 'content-type': request.contentType ?? 'application/json' }, signedHeaders(SECRET, request.payload));
    return app.inject({ method: request.method, url: request.url, headers, payload: request.payload } as InjectOptions);
  };
  return {
    database,
    app,
    worker,
    temporal,
    send,
    sendJson: (method, url, body) => send({ method, url, ...(body === undefined ? {} : { contentType: 'application/json', payload: JSON.stringify(body) }) }),
    async apiWriteMark() {
      const [row] = await database.sql`SELECT coalesce(max(id), 0)::bigint AS mark FROM hostile_api_writes`;
      return Number(row.mark);
    },
    async apiWritesSince(mark) {
      const rows = await database.sql`SELECT table_name, operation, count(*)::int AS n FROM hostile_api_writes WHERE id > ${mark} GROUP BY 1, 2 ORDER BY 1, 2`;
      return rows.map((r) => `${r.table_name} ${r.operation} × ${r.n}`);
    },
    async close() {
      await app.close();
      await worker.stop();
      await apiDatabase.close();
      await database.close();
    },
  };
}
