-- The ledger's stockout periods took a transaction's movements to be those sharing its clock, but
-- two transactions can start in the same microsecond: grouped together, a receipt and an issue
-- far apart in the balance's history cancelled out, and the view kept a period the trigger had
-- (rightly) closed and reopened. A transaction's movements on one balance are written while it
-- holds the balance's row lock, so they are consecutive in that balance's history: a run of
-- consecutive movements with one clock is one transaction's, or several that started in the same
-- instant, which the trigger treats alike (a period closed no later than it opened is not kept).
CREATE OR REPLACE VIEW stockout_periods_from_ledger AS
  WITH ordered AS (
    SELECT variant_id, location_id, created_at, id, delta_on_hand,
           (created_at IS DISTINCT FROM lag(created_at) OVER (PARTITION BY variant_id, location_id ORDER BY id))::int AS opens_run
    FROM stock_movements
  ), runs AS (
    SELECT variant_id, location_id, created_at, id, delta_on_hand,
           sum(opens_run) OVER (PARTITION BY variant_id, location_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS run
    FROM ordered
  ), moved AS (
    SELECT variant_id, location_id, created_at, min(id) AS applied, sum(delta_on_hand) AS delta
    FROM runs GROUP BY variant_id, location_id, run, created_at HAVING sum(delta_on_hand) <> 0
  ), walked AS (
    SELECT variant_id, location_id, created_at, applied,
           sum(delta) OVER balance_history AS after,
           sum(delta) OVER balance_history - delta AS before,
           row_number() OVER balance_history = 1 AS first
    FROM moved
    WINDOW balance_history AS (PARTITION BY variant_id, location_id ORDER BY applied ROWS UNBOUNDED PRECEDING)
  ), crossings AS (
    SELECT variant_id, location_id, created_at, after <= 0 AS went_out, before > 0 AS from_stock,
           lead(created_at) OVER (PARTITION BY variant_id, location_id ORDER BY applied) AS back_at
    FROM walked
    WHERE (after <= 0 AND (before > 0 OR first)) OR (after > 0 AND before <= 0 AND NOT first)
  )
  SELECT variant_id, location_id, created_at AS started_at, back_at AS ended_at, from_stock FROM crossings
  WHERE went_out AND (back_at IS NULL OR back_at > created_at);
