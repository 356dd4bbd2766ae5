CREATE TABLE "catalogue_import_chunks" (
	"import_pk" bigint NOT NULL,
	"chunk_no" integer NOT NULL,
	"result" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "catalogue_import_chunks_import_pk_chunk_no_pk" PRIMARY KEY("import_pk","chunk_no")
);
--> statement-breakpoint
CREATE TABLE "catalogue_imports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"import_id" text NOT NULL,
	"format" text NOT NULL,
	"content_hash" text NOT NULL,
	"body" text NOT NULL,
	"options" jsonb NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"workflow_id" text NOT NULL,
	"report" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "catalogue_imports_import_id_unique" UNIQUE("import_id"),
	CONSTRAINT "catalogue_imports_format" CHECK ("catalogue_imports"."format" IN ('stockflow-json', 'stockflow-csv', 'shopify-products', 'shopify-inventory')),
	CONSTRAINT "catalogue_imports_status" CHECK ("catalogue_imports"."status" IN ('received', 'validating', 'applying', 'applied', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "supplier_variants" (
	"supplier_id" text NOT NULL,
	"variant_id" integer NOT NULL,
	"cost" numeric(14, 4),
	"currency" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "supplier_variants_supplier_id_variant_id_pk" PRIMARY KEY("supplier_id","variant_id")
);
--> statement-breakpoint
CREATE TABLE "variant_prices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"variant_id" integer NOT NULL,
	"price" numeric(14, 4),
	"cost" numeric(14, 4),
	"currency" text NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	CONSTRAINT "variant_prices_nonnegative" CHECK (coalesce("variant_prices"."price", 0) >= 0 AND coalesce("variant_prices"."cost", 0) >= 0),
	CONSTRAINT "variant_prices_currency" CHECK ("variant_prices"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "handle" text;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "vendor" text;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "locations" ADD COLUMN "kind" text DEFAULT 'warehouse' NOT NULL;--> statement-breakpoint
ALTER TABLE "locations" ADD COLUMN "channels" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "locations" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "lead_time_days" integer;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "moq" integer;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "pack_size" integer;--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "currency" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "barcode" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "options" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "unit_of_measure" text DEFAULT 'each' NOT NULL;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "pack_size" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "catalogue_import_chunks" ADD CONSTRAINT "catalogue_import_chunks_import_pk_catalogue_imports_id_fk" FOREIGN KEY ("import_pk") REFERENCES "public"."catalogue_imports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_variants" ADD CONSTRAINT "supplier_variants_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_variants" ADD CONSTRAINT "supplier_variants_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variant_prices" ADD CONSTRAINT "variant_prices_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "supplier_variants_variant_idx" ON "supplier_variants" USING btree ("variant_id");--> statement-breakpoint
CREATE INDEX "variant_prices_latest_idx" ON "variant_prices" USING btree ("variant_id","valid_from" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "items_tags_idx" ON "items" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "stock_balances_location_idx" ON "stock_balances" USING btree ("location_id","variant_id");--> statement-breakpoint
CREATE INDEX "stock_balances_blocked_idx" ON "stock_balances" USING btree ("variant_id","location_id") WHERE "stock_balances"."count_status" = 'blocked';--> statement-breakpoint
CREATE INDEX "stock_balances_negative_idx" ON "stock_balances" USING btree ("variant_id","location_id") WHERE "stock_balances"."on_hand" < 0;--> statement-breakpoint
CREATE INDEX "stock_movements_variant_time_idx" ON "stock_movements" USING btree ("variant_id","created_at");--> statement-breakpoint
CREATE INDEX "variants_item_idx" ON "variants" USING btree ("item_id");--> statement-breakpoint
CREATE INDEX "variants_sku_prefix_idx" ON "variants" USING btree ("sku" text_pattern_ops);--> statement-breakpoint
ALTER TABLE "items" ADD CONSTRAINT "items_handle_unique" UNIQUE("handle");--> statement-breakpoint
ALTER TABLE "locations" ADD CONSTRAINT "locations_kind" CHECK ("locations"."kind" IN ('warehouse', 'store', 'drop_ship', 'supplier_managed'));--> statement-breakpoint
ALTER TABLE "variants" ADD CONSTRAINT "variants_pack_size_positive" CHECK ("variants"."pack_size" > 0);--> statement-breakpoint
-- Price and cost history is append-only: a change is a new row, the past is never rewritten.
CREATE TRIGGER variant_prices_append_only BEFORE UPDATE OR DELETE ON variant_prices
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER variant_prices_no_truncate BEFORE TRUNCATE ON variant_prices
  FOR EACH STATEMENT EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
-- An item or variant with ledger history is archived, never deleted.
CREATE TRIGGER items_never_deleted BEFORE DELETE ON items
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER variants_never_deleted BEFORE DELETE ON variants
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_terms_nonnegative" CHECK (coalesce("lead_time_days", 0) >= 0 AND coalesce("moq", 1) > 0 AND coalesce("pack_size", 1) > 0);
--> statement-breakpoint
INSERT INTO reason_codes (code, description) VALUES ('opening_balance', 'Opening stock brought in by a catalogue import');
