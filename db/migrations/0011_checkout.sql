CREATE TABLE "carts" (
	"cart_id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'held' NOT NULL,
	"parts" jsonb NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"order_ref" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "carts_workflow_id_unique" UNIQUE("workflow_id"),
	CONSTRAINT "carts_status" CHECK ("carts"."status" IN ('held', 'converted', 'released', 'expired'))
);
--> statement-breakpoint
CREATE TABLE "order_placements" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"channel" text NOT NULL,
	"order_id" text NOT NULL,
	"event_id" text NOT NULL,
	"answer" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_placements_workflow_id_unique" UNIQUE("workflow_id")
);
