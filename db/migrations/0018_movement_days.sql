CREATE TABLE "movement_days" (
	"day" date NOT NULL,
	"location_id" integer NOT NULL,
	"net_on_hand" bigint NOT NULL,
	"issued" bigint NOT NULL,
	CONSTRAINT "movement_days_day_location_id_pk" PRIMARY KEY("day","location_id")
);
--> statement-breakpoint
CREATE TABLE "rollups" (
	"name" text PRIMARY KEY NOT NULL,
	"through" date NOT NULL
);
--> statement-breakpoint
ALTER TABLE "movement_days" ADD CONSTRAINT "movement_days_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stock_movements_time_idx" ON "stock_movements" USING btree ("created_at");
