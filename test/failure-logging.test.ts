import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { startStockMovement } from '../services/stock-movement';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
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
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Thing', skus: ['T-1'] }] });
    // A reason code the schema knows and this database does not: using it breaks a foreign key (SQLSTATE 23503).
    await database.sql`DELETE FROM reason_codes WHERE code = 'theft'`;
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
      const dataError = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'adjust', idempotencyKey: 'log/unknown-reason', sku: 'T-1', location: 'WH1', delta: 1, reasonCode: 'theft' }));
      // Both end: neither failure is retried for ever.
      await Promise.all([refused.result(), dataError.result().catch(() => undefined)]);
      return { refused, dataError };
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

    assert.deepEqual(await activityFailures(handles.dataError), [{ type: 'postgres_integrity_constraint_violation_23503', nonRetryable: true, attempt: 1 }]);
    const dataErrorLines = about(handles.dataError).filter((l) => LOUD.has(l.level) && l.message === 'Activity failed');
    assert.equal(dataErrorLines.length, 1, `the data error is logged once at WARN or ERROR: ${about(handles.dataError).map(textOf).join(' | ')}`);
    assert.match(textOf(dataErrorLines[0]), /SQLSTATE 23503: insert or update on table "\w+" violates foreign key constraint/);
  });
});
