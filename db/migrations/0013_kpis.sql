-- The stockout KPI reads each balance's movements newest first from this index (db/kpis.ts); the
-- INCLUDE lets it do so from the index alone.
CREATE INDEX "stock_movements_walk_idx" ON "stock_movements" USING btree ("variant_id","location_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) INCLUDE ("delta_on_hand") WHERE "stock_movements"."delta_on_hand" <> 0;
