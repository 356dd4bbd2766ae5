CREATE TABLE "abc_classes" (
	"variant_id" integer PRIMARY KEY NOT NULL,
	"abc_class" text NOT NULL,
	"revenue" numeric(18, 4) NOT NULL,
	"rank" integer NOT NULL,
	"window_days" integer NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "abc_classes_class" CHECK ("abc_classes"."abc_class" IN ('A', 'B', 'C'))
);
--> statement-breakpoint
CREATE TABLE "count_task_lines" (
	"task_id" bigint NOT NULL,
	"variant_id" integer NOT NULL,
	"abc_class" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'to_count' NOT NULL,
	"first_counted" integer,
	"first_by" text,
	"first_at" timestamp with time zone,
	"within_tolerance" boolean,
	"recount_counted" integer,
	"recount_by" text,
	"recount_at" timestamp with time zone,
	"posted_outcome" text,
	"posted_at" timestamp with time zone,
	CONSTRAINT "count_task_lines_task_id_variant_id_pk" PRIMARY KEY("task_id","variant_id"),
	CONSTRAINT "count_task_lines_status" CHECK ("count_task_lines"."status" IN ('to_count', 'recount', 'posting', 'posted')),
	CONSTRAINT "count_task_lines_class" CHECK ("count_task_lines"."abc_class" IN ('A', 'B', 'C')),
	CONSTRAINT "count_task_lines_counts" CHECK (coalesce("count_task_lines"."first_counted", 0) >= 0 AND coalesce("count_task_lines"."recount_counted", 0) >= 0),
	CONSTRAINT "count_task_lines_recount_by_other" CHECK ("count_task_lines"."recount_by" IS NULL OR "count_task_lines"."recount_by" <> "count_task_lines"."first_by")
);
--> statement-breakpoint
CREATE TABLE "count_tasks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"task_key" text NOT NULL,
	"location_id" integer NOT NULL,
	"day" text NOT NULL,
	"exception_workflow_id" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "count_tasks_task_key_unique" UNIQUE("task_key"),
	CONSTRAINT "count_tasks_status" CHECK ("count_tasks"."status" IN ('open', 'done')),
	CONSTRAINT "count_tasks_day" CHECK ("count_tasks"."day" ~ '^\d{4}-\d{2}-\d{2}$')
);
--> statement-breakpoint
ALTER TABLE "abc_classes" ADD CONSTRAINT "abc_classes_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "count_task_lines" ADD CONSTRAINT "count_task_lines_task_id_count_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."count_tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "count_task_lines" ADD CONSTRAINT "count_task_lines_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "count_tasks" ADD CONSTRAINT "count_tasks_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "abc_classes_class_idx" ON "abc_classes" USING btree ("abc_class");--> statement-breakpoint
CREATE INDEX "count_task_lines_variant_idx" ON "count_task_lines" USING btree ("variant_id");--> statement-breakpoint
CREATE INDEX "count_tasks_day_idx" ON "count_tasks" USING btree ("day","location_id");