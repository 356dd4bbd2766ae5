import assert from 'node:assert/strict';
import type { Database } from '../db/connection';

/**
 * The ledger explains every number: each balance equals the sum of the movements on its row, and
 * the stockout periods the database kept as balances changed are the ones the ledger tells.
 */
export async function assertLedgerMatchesBalances(database: Database): Promise<void> {
  const drift = await database.sql`
    SELECT b.variant_id, b.location_id,
           b.on_hand, coalesce(m.on_hand, 0) AS ledger_on_hand,
           b.reserved, coalesce(m.reserved, 0) AS ledger_reserved,
           b.committed, coalesce(m.committed, 0) AS ledger_committed,
           b.incoming, coalesce(m.incoming, 0) AS ledger_incoming
    FROM stock_balances b
    LEFT JOIN (
      SELECT variant_id, location_id,
             sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
             sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming
      FROM stock_movements GROUP BY variant_id, location_id
    ) m USING (variant_id, location_id)
    WHERE b.on_hand <> coalesce(m.on_hand, 0) OR b.reserved <> coalesce(m.reserved, 0)
       OR b.committed <> coalesce(m.committed, 0) OR b.incoming <> coalesce(m.incoming, 0)`;
  assert.deepEqual(drift.map((r) => ({ ...r })), [], 'balances drifted from the ledger');

  const periods = (source: 'stockout_periods' | 'stockout_periods_from_ledger') => database.sql`
    SELECT variant_id, location_id, started_at, ended_at, from_stock FROM ${database.sql(source)} ORDER BY variant_id, location_id, started_at`;
  const [kept, told] = await Promise.all([periods('stockout_periods'), periods('stockout_periods_from_ledger')]);
  assert.deepEqual(kept.map((r) => ({ ...r })), told.map((r) => ({ ...r })), 'stockout periods differ from the ledger');
}
