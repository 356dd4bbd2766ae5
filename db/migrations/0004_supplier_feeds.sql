CREATE TABLE "feed_lines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feed_pk" bigint NOT NULL,
	"line_no" integer NOT NULL,
	"supplier_sku" text,
	"variant_id" integer,
	"sequence" bigint,
	"quantity" integer,
	"outcome" text NOT NULL,
	"reason" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feed_lines_once" UNIQUE("feed_pk","line_no")
);
--> statement-breakpoint
CREATE TABLE "feed_sequences" (
	"supplier_id" text NOT NULL,
	"variant_id" integer NOT NULL,
	"last_sequence" bigint NOT NULL,
	"last_quantity" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feed_sequences_supplier_id_variant_id_pk" PRIMARY KEY("supplier_id","variant_id")
);
--> statement-breakpoint
CREATE TABLE "supplier_feeds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"supplier_id" text NOT NULL,
	"feed_id" text NOT NULL,
	"format" text NOT NULL,
	"content_hash" text NOT NULL,
	"body" text NOT NULL,
	"line_count" integer NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"workflow_id" text NOT NULL,
	"summary" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "supplier_feeds_once" UNIQUE("supplier_id","feed_id"),
	CONSTRAINT "supplier_feeds_format" CHECK ("supplier_feeds"."format" IN ('csv', 'json')),
	CONSTRAINT "supplier_feeds_status" CHECK ("supplier_feeds"."status" IN ('received', 'processing', 'applied', 'quarantined', 'discarded'))
);
--> statement-breakpoint
CREATE TABLE "supplier_sku_map" (
	"supplier_id" text NOT NULL,
	"supplier_sku" text NOT NULL,
	"variant_id" integer NOT NULL,
	"unit_factor" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "supplier_sku_map_supplier_id_supplier_sku_pk" PRIMARY KEY("supplier_id","supplier_sku"),
	CONSTRAINT "supplier_sku_map_unit_factor_positive" CHECK ("supplier_sku_map"."unit_factor" > 0)
);
--> statement-breakpoint
CREATE TABLE "suppliers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"location_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "feed_lines" ADD CONSTRAINT "feed_lines_feed_pk_supplier_feeds_id_fk" FOREIGN KEY ("feed_pk") REFERENCES "public"."supplier_feeds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed_lines" ADD CONSTRAINT "feed_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed_sequences" ADD CONSTRAINT "feed_sequences_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed_sequences" ADD CONSTRAINT "feed_sequences_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_feeds" ADD CONSTRAINT "supplier_feeds_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_sku_map" ADD CONSTRAINT "supplier_sku_map_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_sku_map" ADD CONSTRAINT "supplier_sku_map_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;