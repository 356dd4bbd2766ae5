CREATE TABLE "availability_changes" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"txid" bigint NOT NULL,
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"available" integer NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "channel_locations" (
	"channel_id" text NOT NULL,
	"location_id" integer NOT NULL,
	CONSTRAINT "channel_locations_channel_id_location_id_pk" PRIMARY KEY("channel_id","location_id")
);
--> statement-breakpoint
CREATE TABLE "channel_pending" (
	"channel_id" text NOT NULL,
	"variant_id" integer NOT NULL,
	"version" bigint NOT NULL,
	"first_changed_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "channel_pending_channel_id_variant_id_pk" PRIMARY KEY("channel_id","variant_id")
);
--> statement-breakpoint
CREATE TABLE "channel_publications" (
	"channel_id" text NOT NULL,
	"variant_id" integer NOT NULL,
	"published" integer NOT NULL,
	"version" bigint NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_publications_channel_id_variant_id_pk" PRIMARY KEY("channel_id","variant_id")
);
--> statement-breakpoint
CREATE TABLE "channel_skus" (
	"channel_id" text NOT NULL,
	"variant_id" integer NOT NULL,
	"external_id" text NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "channel_skus_channel_id_variant_id_pk" PRIMARY KEY("channel_id","variant_id"),
	CONSTRAINT "channel_skus_external_once" UNIQUE("channel_id","external_id")
);
--> statement-breakpoint
CREATE TABLE "channels" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"owner_id" text NOT NULL,
	"buffer" jsonb NOT NULL,
	"settings" jsonb NOT NULL,
	"secret_ref" text NOT NULL,
	"staleness_seconds" integer NOT NULL,
	"cursor_txid" bigint DEFAULT 0 NOT NULL,
	"cursor_seq" bigint DEFAULT 0 NOT NULL,
	"last_push_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channels_kind" CHECK ("channels"."kind" IN ('shopify', 'webhook')),
	CONSTRAINT "channels_staleness_positive" CHECK ("channels"."staleness_seconds" > 0)
);
--> statement-breakpoint
ALTER TABLE "channel_locations" ADD CONSTRAINT "channel_locations_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_locations" ADD CONSTRAINT "channel_locations_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_pending" ADD CONSTRAINT "channel_pending_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_pending" ADD CONSTRAINT "channel_pending_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_publications" ADD CONSTRAINT "channel_publications_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_publications" ADD CONSTRAINT "channel_publications_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_skus" ADD CONSTRAINT "channel_skus_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_skus" ADD CONSTRAINT "channel_skus_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "availability_changes_cursor_idx" ON "availability_changes" USING btree ("txid","seq");--> statement-breakpoint
CREATE INDEX "channel_locations_location_idx" ON "channel_locations" USING btree ("location_id");--> statement-breakpoint
-- The outbox is written by the database itself, in the transaction of the ledger write: no code
-- path that changes a balance (db/ledger.ts, a count block, a migration) can forget it.
-- Statement-level with transition tables, so a batch of a thousand balances costs one INSERT.
-- changed_at is the statement's clock, not the transaction's start: the lag is measured from it.
CREATE FUNCTION record_availability_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO availability_changes (txid, variant_id, location_id, available, changed_at)
    SELECT pg_current_xact_id()::text::bigint, n.variant_id, n.location_id, n.available, clock_timestamp() FROM new_rows n;
  ELSE
    INSERT INTO availability_changes (txid, variant_id, location_id, available, changed_at)
    SELECT pg_current_xact_id()::text::bigint, n.variant_id, n.location_id, n.available, clock_timestamp()
    FROM new_rows n JOIN old_rows o ON o.variant_id = n.variant_id AND o.location_id = n.location_id
    WHERE n.available IS DISTINCT FROM o.available;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER stock_balances_availability_inserted AFTER INSERT ON stock_balances
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_availability_changes();
--> statement-breakpoint
CREATE TRIGGER stock_balances_availability_updated AFTER UPDATE ON stock_balances
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_availability_changes();
--> statement-breakpoint
-- Archiving or restoring a SKU changes what every channel may offer (an archived SKU publishes 0)
-- without changing a balance: its balances go through the outbox too, in the archival's transaction.
CREATE FUNCTION record_archival_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO availability_changes (txid, variant_id, location_id, available, changed_at)
  SELECT pg_current_xact_id()::text::bigint, b.variant_id, b.location_id, b.available, clock_timestamp()
  FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN stock_balances b ON b.variant_id = n.id
  WHERE n.archived_at IS DISTINCT FROM o.archived_at;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER variants_archival_published AFTER UPDATE ON variants
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_archival_changes();
