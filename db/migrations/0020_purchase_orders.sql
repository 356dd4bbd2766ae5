CREATE TABLE "purchase_order_lines" (
	"po_number" text NOT NULL,
	"line_no" integer NOT NULL,
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"quantity" integer NOT NULL,
	"unit_cost" numeric(14, 4),
	"received" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "purchase_order_lines_po_number_line_no_pk" PRIMARY KEY("po_number","line_no"),
	CONSTRAINT "purchase_order_lines_one_per_place" UNIQUE("po_number","variant_id","location_id"),
	CONSTRAINT "purchase_order_lines_quantities" CHECK ("purchase_order_lines"."quantity" > 0 AND "purchase_order_lines"."received" >= 0)
);
--> statement-breakpoint
CREATE TABLE "purchase_order_receipts" (
	"po_number" text NOT NULL,
	"receipt_id" text NOT NULL,
	"request_hash" text NOT NULL,
	"lines" jsonb NOT NULL,
	"received_by" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_order_receipts_po_number_receipt_id_pk" PRIMARY KEY("po_number","receipt_id")
);
--> statement-breakpoint
CREATE TABLE "purchase_orders" (
	"po_number" text PRIMARY KEY NOT NULL,
	"supplier_id" text NOT NULL,
	"currency" text,
	"status" text DEFAULT 'open' NOT NULL,
	"suggestion_id" bigint,
	"request_hash" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expected_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"closed_by" text,
	"closed_at" timestamp with time zone,
	"close_reason" text,
	CONSTRAINT "purchase_orders_suggestion_id_unique" UNIQUE("suggestion_id"),
	CONSTRAINT "purchase_orders_status" CHECK ("purchase_orders"."status" IN ('open', 'received', 'closed'))
);
--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "order_webhook_url" text;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_po_number_purchase_orders_po_number_fk" FOREIGN KEY ("po_number") REFERENCES "public"."purchase_orders"("po_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_receipts" ADD CONSTRAINT "purchase_order_receipts_po_number_purchase_orders_po_number_fk" FOREIGN KEY ("po_number") REFERENCES "public"."purchase_orders"("po_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_orders" ADD CONSTRAINT "purchase_orders_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_orders" ADD CONSTRAINT "purchase_orders_suggestion_id_purchase_suggestions_id_fk" FOREIGN KEY ("suggestion_id") REFERENCES "public"."purchase_suggestions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "purchase_orders_status_idx" ON "purchase_orders" USING btree ("status","supplier_id","po_number");