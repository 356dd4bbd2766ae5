CREATE TABLE "stockout_periods" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"from_stock" boolean NOT NULL,
	CONSTRAINT "stockout_periods_order" CHECK ("stockout_periods"."ended_at" IS NULL OR "stockout_periods"."ended_at" >= "stockout_periods"."started_at")
);
--> statement-breakpoint
DROP INDEX "stock_movements_walk_idx";--> statement-breakpoint
ALTER TABLE "stockout_periods" ADD CONSTRAINT "stockout_periods_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stockout_periods" ADD CONSTRAINT "stockout_periods_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "stockout_periods_open_idx" ON "stockout_periods" USING btree ("variant_id","location_id") WHERE "stockout_periods"."ended_at" IS NULL;--> statement-breakpoint
CREATE INDEX "stockout_periods_started_idx" ON "stockout_periods" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "stockout_periods_ended_idx" ON "stockout_periods" USING btree ("ended_at");--> statement-breakpoint
-- Written by the database in the transaction of the balance's change, so no ledger path (a single
-- operation, a batch, a feed, an import) can forget it. Row-level with a WHEN: a change that does
-- not take on hand across 0 (every reservation, most movements) never calls the function. The
-- clock is the transaction's, the same now() its movements carry; a period opened and closed by
-- one transaction lasted no time and is not kept.
CREATE FUNCTION record_stockout_crossing() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  from_stock boolean := false;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    from_stock := OLD.on_hand > 0;
  END IF;
  IF NEW.on_hand <= 0 THEN
    INSERT INTO stockout_periods (variant_id, location_id, started_at, from_stock) VALUES (NEW.variant_id, NEW.location_id, now(), from_stock)
    ON CONFLICT (variant_id, location_id) WHERE ended_at IS NULL DO NOTHING;
  ELSE
    DELETE FROM stockout_periods
    WHERE variant_id = NEW.variant_id AND location_id = NEW.location_id AND ended_at IS NULL AND started_at = now();
    UPDATE stockout_periods SET ended_at = now()
    WHERE variant_id = NEW.variant_id AND location_id = NEW.location_id AND ended_at IS NULL;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Out of stock: from > 0 to ≤ 0, or from 0 to below it when never stocked (at 0 with no open
-- period only a SKU-location that never had stock can be); back: from ≤ 0 to > 0.
CREATE TRIGGER stock_balances_stockout_crossing AFTER UPDATE OF on_hand ON stock_balances
  FOR EACH ROW WHEN ((OLD.on_hand > 0) <> (NEW.on_hand > 0) OR (OLD.on_hand = 0 AND NEW.on_hand < 0))
  EXECUTE FUNCTION record_stockout_crossing();
--> statement-breakpoint
CREATE TRIGGER stock_balances_stockout_created AFTER INSERT ON stock_balances
  FOR EACH ROW WHEN (NEW.on_hand < 0) EXECUTE FUNCTION record_stockout_crossing();
--> statement-breakpoint
-- The periods from the ledger alone: on hand walked forward from 0 through each transaction's net
-- movement (a transaction's movements share its clock). A period opens where on hand ends at 0 or
-- below having been above 0 (a stockout event), or at the first movement when that leaves it below
-- 0; it closes at the next movement that takes it above 0.
CREATE VIEW stockout_periods_from_ledger AS
  WITH moved AS (
    SELECT variant_id, location_id, created_at, sum(delta_on_hand) AS delta
    FROM stock_movements GROUP BY variant_id, location_id, created_at HAVING sum(delta_on_hand) <> 0
  ), walked AS (
    SELECT variant_id, location_id, created_at,
           sum(delta) OVER balance_history AS after,
           sum(delta) OVER balance_history - delta AS before,
           row_number() OVER balance_history = 1 AS first
    FROM moved
    WINDOW balance_history AS (PARTITION BY variant_id, location_id ORDER BY created_at ROWS UNBOUNDED PRECEDING)
  ), crossings AS (
    SELECT variant_id, location_id, created_at, after <= 0 AS went_out, before > 0 AS from_stock,
           lead(created_at) OVER (PARTITION BY variant_id, location_id ORDER BY created_at) AS back_at
    FROM walked
    WHERE (after <= 0 AND (before > 0 OR first)) OR (after > 0 AND before <= 0 AND NOT first)
  )
  SELECT variant_id, location_id, created_at AS started_at, back_at AS ended_at, from_stock FROM crossings WHERE went_out;
--> statement-breakpoint
CREATE FUNCTION stockout_periods_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  rebuilt bigint;
BEGIN
  DELETE FROM stockout_periods;
  INSERT INTO stockout_periods (variant_id, location_id, started_at, ended_at, from_stock) SELECT * FROM stockout_periods_from_ledger;
  GET DIAGNOSTICS rebuilt = ROW_COUNT;
  RETURN rebuilt;
END $$;
--> statement-breakpoint
SELECT stockout_periods_rebuild();
