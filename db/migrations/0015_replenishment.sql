CREATE TABLE "purchase_suggestion_lines" (
	"suggestion_id" bigint NOT NULL,
	"line_no" integer NOT NULL,
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"suggested_quantity" integer NOT NULL,
	"quantity" integer NOT NULL,
	"unit_cost" numeric(14, 4),
	"velocity" numeric(14, 4) NOT NULL,
	"reorder_point" numeric(14, 4) NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "purchase_suggestion_lines_suggestion_id_line_no_pk" PRIMARY KEY("suggestion_id","line_no"),
	CONSTRAINT "purchase_suggestion_lines_quantities" CHECK ("purchase_suggestion_lines"."suggested_quantity" > 0 AND "purchase_suggestion_lines"."quantity" >= 0)
);
--> statement-breakpoint
CREATE TABLE "purchase_suggestions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_key" text NOT NULL,
	"supplier_id" text NOT NULL,
	"currency" text,
	"value" numeric(16, 4) NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_suggestions_one_per_run_and_supplier" UNIQUE("run_key","supplier_id"),
	CONSTRAINT "purchase_suggestions_status" CHECK ("purchase_suggestions"."status" IN ('open', 'approved', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "reorder_policies" (
	"variant_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"supplier_id" text NOT NULL,
	"kind" text NOT NULL,
	"reorder_point" integer,
	"order_quantity" integer,
	"safety_days" integer,
	"target_days" integer,
	"window_days" integer,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reorder_policies_variant_id_location_id_pk" PRIMARY KEY("variant_id","location_id"),
	CONSTRAINT "reorder_policies_shape" CHECK (("reorder_policies"."kind" = 'static' AND "reorder_policies"."reorder_point" >= 0 AND "reorder_policies"."order_quantity" > 0) OR ("reorder_policies"."kind" = 'dynamic' AND "reorder_policies"."safety_days" >= 0 AND "reorder_policies"."target_days" > 0 AND coalesce("reorder_policies"."window_days", 1) > 0))
);
--> statement-breakpoint
CREATE TABLE "replenishment_runs" (
	"run_key" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "purchase_suggestion_lines" ADD CONSTRAINT "purchase_suggestion_lines_suggestion_id_purchase_suggestions_id_fk" FOREIGN KEY ("suggestion_id") REFERENCES "public"."purchase_suggestions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_suggestion_lines" ADD CONSTRAINT "purchase_suggestion_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_suggestion_lines" ADD CONSTRAINT "purchase_suggestion_lines_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_suggestions" ADD CONSTRAINT "purchase_suggestions_run_key_replenishment_runs_run_key_fk" FOREIGN KEY ("run_key") REFERENCES "public"."replenishment_runs"("run_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_suggestions" ADD CONSTRAINT "purchase_suggestions_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_policies" ADD CONSTRAINT "reorder_policies_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_policies" ADD CONSTRAINT "reorder_policies_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reorder_policies" ADD CONSTRAINT "reorder_policies_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "purchase_suggestions_status_idx" ON "purchase_suggestions" USING btree ("status","supplier_id");