ALTER TABLE "movement_days" ADD COLUMN "net_cost" numeric DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "movement_days" ADD COLUMN "issued_cost" numeric DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Each price row with the instant the next one replaced it (null: still in force). A row without
-- a cost means no cost from then on; of two rows from the same instant, the later one stands.
CREATE VIEW price_intervals AS
  SELECT variant_id, price, cost, valid_from,
         lead(valid_from) OVER (PARTITION BY variant_id ORDER BY valid_from, id) AS valid_until
  FROM variant_prices;
--> statement-breakpoint
-- Rolls up every settled UTC day not rolled up yet, with its movements valued at the cost in
-- force when each happened, and returns the last day rolled up. A day is settled two days on: a
-- movement carries its transaction's start time, so one dated that day commits later only if its
-- transaction ran for a day. One caller at a time; calling it again changes nothing until another
-- day settles.
CREATE FUNCTION roll_up_movement_days() RETURNS date LANGUAGE plpgsql AS $$
DECLARE
  settled date := (now() AT TIME ZONE 'UTC')::date - 2;
  done date;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rollups:movement_days'));
  SELECT through INTO done FROM rollups WHERE name = 'movement_days';
  IF done IS NULL THEN
    SELECT (min(created_at) AT TIME ZONE 'UTC')::date - 1 INTO done FROM stock_movements;
  END IF;
  IF done IS NULL OR done >= settled THEN
    RETURN done;
  END IF;
  INSERT INTO movement_days (day, location_id, net_on_hand, issued, net_cost, issued_cost)
  SELECT day, location_id, sum(delta), coalesce(-sum(delta) FILTER (WHERE issue), 0),
         coalesce(sum(delta * cost), 0), coalesce(-sum(delta * cost) FILTER (WHERE issue), 0)
  FROM (
    SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, m.location_id, m.delta_on_hand AS delta, m.kind IN ('issue', 'ship') AS issue, c.cost
    FROM stock_movements m
    LEFT JOIN price_intervals c ON c.variant_id = m.variant_id AND m.created_at >= c.valid_from AND (c.valid_until IS NULL OR m.created_at < c.valid_until)
    WHERE m.delta_on_hand <> 0
      AND m.created_at >= (done + 1)::timestamp AT TIME ZONE 'UTC' AND m.created_at < (settled + 1)::timestamp AT TIME ZONE 'UTC'
  ) moved
  GROUP BY day, location_id;
  INSERT INTO rollups (name, through) VALUES ('movement_days', settled)
  ON CONFLICT (name) DO UPDATE SET through = excluded.through;
  RETURN settled;
END $$;
--> statement-breakpoint
SELECT roll_up_movement_days();
