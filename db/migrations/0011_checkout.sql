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
