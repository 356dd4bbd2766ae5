import assert from 'node:assert/strict';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import { DrizzleQueryError } from 'drizzle-orm';
import postgres from 'postgres';
import { activityFailureOf, withFailureRule } from '../activities/failures';
import { createActivities } from '../activities';
import type { Db } from '../db/connection';
import { StockRefusal } from '../db/errors';
import { StockOperation } from '../schemas/stock';

/** An error as an activity sees it from a Drizzle query: DrizzleQueryError around the postgres.js error. */
function queryError(code: string, message: string, extra: Record<string, string> = {}): DrizzleQueryError {
  const pg = new postgres.PostgresError({ message, code, severity: 'ERROR', ...extra } as unknown as string);
  return new DrizzleQueryError('update "stock_balances" set "on_hand" = $1', ['3000000000', 'SECRET-SKU'], pg);
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });
}

function asFailure(error: unknown): ApplicationFailure {
  const failure = activityFailureOf(error);
  assert.ok(failure instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(failure)}`);
  return failure;
}

describe('activity failure rule', () => {
  describe('deterministic data errors are final (non-retryable) and named by SQLSTATE', () => {
    for (const [code, message, type] of [
      ['22003', 'integer out of range', 'postgres_data_exception_22003'],
      ['22P02', 'invalid input syntax for type integer: "x"', 'postgres_data_exception_22P02'],
      ['23505', 'duplicate key value violates unique constraint "variants_sku_key"', 'postgres_integrity_constraint_violation_23505'],
      ['23503', 'insert or update on table "stock_balances" violates foreign key constraint', 'postgres_integrity_constraint_violation_23503'],
      ['23514', 'new row violates check constraint "stock_balances_on_hand_policy"', 'postgres_integrity_constraint_violation_23514'],
    ]) {
      it(`${code} (${message.split(' ').slice(0, 3).join(' ')}…)`, () => {
        const failure = asFailure(queryError(code, message));
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, new RegExp(`^SQLSTATE ${code}: `));
        assert.ok(failure.message.includes(message));
        // Loud: a data error is a real failure, not an expected refusal.
        assert.notEqual(failure.category, ApplicationFailureCategory.BENIGN);
      });
    }

    it("keeps the query's values out of the failure, and the constraint and detail in it", () => {
      const failure = asFailure(queryError('23514', 'new row violates check constraint', { constraint_name: 'stock_balances_on_hand_policy', detail: 'Failing row contains (1, -5).' }));
      assert.ok(!failure.message.includes('SECRET-SKU'));
      assert.ok(failure.message.endsWith('Failing row contains (1, -5).'));
      assert.deepEqual(failure.details, [{ sqlstate: '23514', constraint: 'stock_balances_on_hand_policy' }]);
    });

    it('is the same for a postgres.js error thrown without Drizzle', () => {
      const failure = asFailure(new postgres.PostgresError({ message: 'integer out of range', code: '22003' } as unknown as string));
      assert.equal(failure.nonRetryable, true);
    });
  });

  describe('transient errors retry', () => {
    for (const [code, type] of [
      ['08006', 'postgres_connection_exception_08006'],
      ['08001', 'postgres_connection_exception_08001'],
      ['40001', 'postgres_transaction_rollback_40001'],
      ['40P01', 'postgres_transaction_rollback_40P01'],
      ['57P01', 'postgres_operator_intervention_57P01'],
      ['57P02', 'postgres_operator_intervention_57P02'],
      ['57P03', 'postgres_operator_intervention_57P03'],
      ['53300', 'postgres_insufficient_resources_53300'],
      ['53100', 'postgres_insufficient_resources_53100'],
    ]) {
      it(`${code}`, () => {
        const failure = asFailure(queryError(code, 'server said no'));
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, false);
      });
    }

    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']) {
      it(`a network error (${code}) is left as it is, which Temporal retries`, () => {
        const error = networkError(code);
        assert.equal(activityFailureOf(error), error);
      });
    }

    it("postgres.js's own connection errors and fetch timeouts are left as they are", () => {
      const closed = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
      assert.equal(activityFailureOf(closed), closed);
      const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      assert.equal(activityFailureOf(timeout), timeout);
    });

    it('an unrecognised SQLSTATE (a bug or a missing migration) retries, so a deployed fix can finish the work', () => {
      const failure = asFailure(queryError('42P01', 'relation "stock_balances" does not exist'));
      assert.equal(failure.type, 'postgres_error_42P01');
      assert.equal(failure.nonRetryable, false);
    });
  });

  describe('expected refusals and bad input', () => {
    it('a StockRefusal is final and BENIGN, with its code as the type and its field as detail', () => {
      const failure = asFailure(new StockRefusal('insufficient_stock', 'only 9 of T-1 available at WH1, 100 requested', 'quantity'));
      assert.equal(failure.type, 'insufficient_stock');
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.category, ApplicationFailureCategory.BENIGN);
      assert.equal(failure.message, 'only 9 of T-1 available at WH1, 100 requested');
      assert.deepEqual(failure.details, [{ field: 'quantity' }]);
    });

    it('a zod validation error is final and names every bad field', () => {
      const parsed = StockOperation.safeParse({ kind: 'receive', idempotencyKey: 'k', sku: 'T-1', location: 'WH1', quantity: -3 });
      assert.equal(parsed.success, false);
      const failure = asFailure(parsed.error);
      assert.equal(failure.type, 'invalid_input');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /^quantity: /);
      assert.notEqual(failure.category, ApplicationFailureCategory.BENIGN);
    });

    it("leaves Temporal's own failures (an activity's own ApplicationFailure, a cancellation) untouched", () => {
      const own = ApplicationFailure.create({ type: 'webhook_failed', message: 'answered 503', nonRetryable: false });
      assert.equal(activityFailureOf(own), own);
      const cancelled = new CancelledFailure('cancelled');
      assert.equal(activityFailureOf(cancelled), cancelled);
    });
  });

  describe('applied to every activity', () => {
    it('wraps each function of an activity object, passing results through', async () => {
      const activities = withFailureRule({
        ok: async (n: number) => n + 1,
        refuses: async () => {
          throw new StockRefusal('unknown_sku', 'unknown SKU "X"', 'sku');
        },
      });
      assert.deepEqual(Object.keys(activities), ['ok', 'refuses']);
      assert.equal(await activities.ok(1), 2);
      await assert.rejects(activities.refuses(), (error: unknown) => error instanceof ApplicationFailure && error.type === 'unknown_sku' && error.nonRetryable);
    });

    it("the worker's activities follow it: bad input to applyStockOperation is a final invalid_input failure", async () => {
      // Parsing fails before the database is touched, so no database is needed.
      const activities = createActivities({ db: {} as Db });
      await assert.rejects(
        activities.applyStockOperation({ kind: 'receive', idempotencyKey: 'k', sku: 'T-1', location: 'WH1', quantity: 0 } as never),
        (error: unknown) => error instanceof ApplicationFailure && error.type === 'invalid_input' && error.nonRetryable && /^quantity: /.test(error.message),
      );
    });
  });
});
