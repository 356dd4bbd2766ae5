CREATE TABLE "exception_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"exception_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "exception_events_once" UNIQUE("exception_id","seq")
);
--> statement-breakpoint
CREATE TABLE "exceptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"type" text NOT NULL,
	"subject" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"owner_id" text NOT NULL,
	"assignee_id" text NOT NULL,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"sku" text,
	"location" text,
	"supplier_id" text,
	"order_id" text,
	"held_change" jsonb,
	"requires_evidence" boolean DEFAULT false NOT NULL,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"decided_by" text,
	"decision_reason" text,
	"evidence" text,
	"apply_result" jsonb,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "exceptions_run_id_unique" UNIQUE("run_id"),
	CONSTRAINT "exceptions_status" CHECK ("exceptions"."status" IN ('open', 'acknowledged', 'approved', 'rejected')),
	CONSTRAINT "exceptions_severity" CHECK ("exceptions"."severity" IN ('low', 'medium', 'high', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"exception_id" bigint NOT NULL,
	"level" integer NOT NULL,
	"channel" text NOT NULL,
	"recipient_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"delivered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_once" UNIQUE("exception_id","level","channel")
);
--> statement-breakpoint
CREATE TABLE "owners" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"contact" text NOT NULL,
	"roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ownership_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"position" integer NOT NULL,
	"exception_type" text,
	"sku_prefix" text,
	"location" text,
	"supplier_id" text,
	"owner_id" text NOT NULL,
	"backup_id" text NOT NULL,
	"escalation_id" text NOT NULL,
	"ack_sla_seconds" integer NOT NULL,
	"resolution_sla_seconds" integer NOT NULL,
	CONSTRAINT "ownership_rules_slas_positive" CHECK ("ownership_rules"."ack_sla_seconds" > 0 AND "ownership_rules"."resolution_sla_seconds" > 0)
);
--> statement-breakpoint
ALTER TABLE "exception_events" ADD CONSTRAINT "exception_events_exception_id_exceptions_id_fk" FOREIGN KEY ("exception_id") REFERENCES "public"."exceptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exceptions" ADD CONSTRAINT "exceptions_assignee_id_owners_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_exception_id_exceptions_id_fk" FOREIGN KEY ("exception_id") REFERENCES "public"."exceptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_rules" ADD CONSTRAINT "ownership_rules_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_rules" ADD CONSTRAINT "ownership_rules_backup_id_owners_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_rules" ADD CONSTRAINT "ownership_rules_escalation_id_owners_id_fk" FOREIGN KEY ("escalation_id") REFERENCES "public"."owners"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exceptions_status_owner_idx" ON "exceptions" USING btree ("status","assignee_id");--> statement-breakpoint
CREATE UNIQUE INDEX "exceptions_one_unresolved_per_key" ON "exceptions" USING btree ("workflow_id") WHERE "exceptions"."status" IN ('open', 'acknowledged');--> statement-breakpoint
CREATE UNIQUE INDEX "ownership_rules_one_default" ON "ownership_rules" USING btree ((true)) WHERE "ownership_rules"."exception_type" IS NULL AND "ownership_rules"."sku_prefix" IS NULL AND "ownership_rules"."location" IS NULL AND "ownership_rules"."supplier_id" IS NULL;