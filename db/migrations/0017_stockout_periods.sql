CREATE TABLE "stockout_periods" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
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
-- not cross 0 (every reservation, most movements) never calls the function. The clock is the
-- transaction's, the same now() its movements carry; a period opened and closed by one
-- transaction lasted no time and is not kept.
CREATE FUNCTION record_stockout_crossing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.on_hand <= 0 THEN
    INSERT INTO stockout_periods (variant_id, location_id, started_at) VALUES (NEW.variant_id, NEW.location_id, now())
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
CREATE TRIGGER stock_balances_stockout_crossing AFTER UPDATE OF on_hand ON stock_balances
  FOR EACH ROW WHEN ((OLD.on_hand > 0) <> (NEW.on_hand > 0)) EXECUTE FUNCTION record_stockout_crossing();
--> statement-breakpoint
-- The periods from the ledger alone: on hand walked forward from 0 through each transaction's net
-- movement (a transaction's movements share its clock); one taking it from above 0 to 0 or below
-- opens a period, the next one taking it back above 0 closes it. A SKU-location that never had
-- stock above 0 was never out of stock.
CREATE VIEW stockout_periods_from_ledger AS
  WITH moved AS (
    SELECT variant_id, location_id, created_at, sum(delta_on_hand) AS delta
    FROM stock_movements GROUP BY variant_id, location_id, created_at HAVING sum(delta_on_hand) <> 0
  ), walked AS (
    SELECT variant_id, location_id, created_at, delta,
           sum(delta) OVER (PARTITION BY variant_id, location_id ORDER BY created_at ROWS UNBOUNDED PRECEDING) AS after
    FROM moved
  ), crossings AS (
    SELECT variant_id, location_id, created_at, after <= 0 AS went_out,
           lead(created_at) OVER (PARTITION BY variant_id, location_id ORDER BY created_at) AS back_at
    FROM walked WHERE (after <= 0) <> (after - delta <= 0)
  )
  SELECT variant_id, location_id, created_at AS started_at, back_at AS ended_at FROM crossings WHERE went_out;
--> statement-breakpoint
CREATE FUNCTION stockout_periods_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  rebuilt bigint;
BEGIN
  DELETE FROM stockout_periods;
  INSERT INTO stockout_periods (variant_id, location_id, started_at, ended_at) SELECT * FROM stockout_periods_from_ledger;
  GET DIAGNOSTICS rebuilt = ROW_COUNT;
  RETURN rebuilt;
END $$;
--> statement-breakpoint
SELECT stockout_periods_rebuild();
