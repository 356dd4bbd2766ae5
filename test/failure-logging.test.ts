import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { startStockMovement } from '../services/stock-movement';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { applyStockOperation } from '../db/stock';
import { StockOperation } from '../schemas/stock';
import { createTestDatabase, infra, startTestWorker, workerLog, type RunningWorker } from './harness';
import type { LogLine } from './log-recorder';

const LOUD = new Set(['WARN', 'ERROR']);

/** A line's words, including the error it carries: what an operator reading the log would see. */
function textOf(line: LogLine): string {
  const error = line.meta?.error;
  return `${line.level} ${line.message} ${String(line.meta?.workflowId ?? '')} ${error instanceof Error ? error.message : ''}`;
}

/** The failures of the run's activity attempts, from its history: type, retryability and attempt. */
async function activityFailures(handle: WorkflowHandle): Promise<{ type?: string | null; nonRetryable?: boolean | null; attempt?: number | null }[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskFailedEventAttributes)
    .map((e) => {
      const failure = e.activityTaskFailedEventAttributes?.failure;
      const started = history.events?.find((s) => Number(s.eventId) === Number(e.activityTaskFailedEventAttributes?.startedEventId));
      return { type: failure?.applicationFailureInfo?.type, nonRetryable: failure?.applicationFailureInfo?.nonRetryable, attempt: started?.activityTaskStartedEventAttributes?.attempt };
    });
}

describe('what a worker logs when an activity fails', () => {
  let database: Database;
  let worker: RunningWorker;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Thing', skus: ['T-1', 'BIG-1'] }] });
    // Two receipts of the largest quantity allowed: a third overflows on_hand (integer, SQLSTATE 22003).
    for (const n of [1, 2]) {
      await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `big/${n}`, sku: 'BIG-1', location: 'WH1', quantity: 1_000_000_000 }));
    }
    worker = await startTestWorker(database, 'logging');
  });

  after(async () => {
    await worker?.stop();
    await database?.close();
  });

  it('logs an expected refusal at DEBUG only, and a data error once, loudly, without retrying it', async () => {
    const client = infra().client;
    const { result: handles, lines } = await workerLog.record(async () => {
      const refused = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'issue', idempotencyKey: 'log/refused', sku: 'T-1', location: 'WH1', quantity: 5 }));
      const overflow = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: 'log/overflow', sku: 'BIG-1', location: 'WH1', quantity: 1_000_000_000 }));
      // Both end: neither failure is retried for ever.
      await Promise.all([refused.result(), overflow.result().catch(() => undefined)]);
      return { refused, overflow };
    });
    const about = (handle: WorkflowHandle) => lines.filter((l) => l.meta?.workflowId === handle.workflowId);

    assert.deepEqual(await handles.refused.result(), {
      status: 'refused',
      code: 'insufficient_stock',
      message: 'only 0 of T-1 available at WH1, 5 requested',
      field: 'quantity',
    });
    const refusalLines = about(handles.refused);
    assert.ok(
      refusalLines.some((l) => l.level === 'DEBUG' && l.message === 'Activity failed'),
      `the refusal is logged at DEBUG: ${refusalLines.map(textOf).join(' | ')}`,
    );
    const loud = lines.filter((l) => LOUD.has(l.level) && (l.meta?.workflowId === handles.refused.workflowId || textOf(l).includes('only 0 of T-1')));
    assert.deepEqual(loud.map(textOf), [], 'no WARN or ERROR line mentions the refusal');

    assert.deepEqual(await activityFailures(handles.overflow), [{ type: 'postgres_data_exception_22003', nonRetryable: true, attempt: 1 }]);
    const overflowLines = about(handles.overflow).filter((l) => LOUD.has(l.level) && l.message === 'Activity failed');
    assert.equal(overflowLines.length, 1, `the data error is logged once at WARN or ERROR: ${about(handles.overflow).map(textOf).join(' | ')}`);
    assert.match(textOf(overflowLines[0]), /SQLSTATE 22003: integer out of range/);
  });
});
