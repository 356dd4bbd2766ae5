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
CREATE INDEX "stock_movements_time_idx" ON "stock_movements" USING btree ("created_at");--> statement-breakpoint
-- Rolls up every settled UTC day not rolled up yet, and returns the last day rolled up. A day is
-- settled two days on: a movement carries its transaction's start time, so one dated that day
-- commits later only if its transaction ran for a day. One caller at a time; calling it again
-- changes nothing until another day settles.
CREATE FUNCTION roll_up_movement_days() RETURNS date LANGUAGE plpgsql AS $$
DECLARE
  settled date := (now() AT TIME ZONE 'UTC')::date - 2;
  done date;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rollups:movement_days'));
  SELECT through INTO done FROM rollups WHERE name = 'movement_days';
  IF done IS NULL THEN
    SELECT (min(created_at) AT TIME ZONE 'UTC')::date - 1 INTO done FROM stock_movements;
  END IF;
  IF done IS NULL OR done >= settled THEN
    RETURN done;
  END IF;
  INSERT INTO movement_days (day, location_id, net_on_hand, issued)
  SELECT (created_at AT TIME ZONE 'UTC')::date, location_id, sum(delta_on_hand),
         coalesce(-sum(delta_on_hand) FILTER (WHERE kind IN ('issue', 'ship')), 0)
  FROM stock_movements
  WHERE created_at >= (done + 1)::timestamp AT TIME ZONE 'UTC' AND created_at < (settled + 1)::timestamp AT TIME ZONE 'UTC'
  GROUP BY 1, 2;
  INSERT INTO rollups (name, through) VALUES ('movement_days', settled)
  ON CONFLICT (name) DO UPDATE SET through = excluded.through;
  RETURN settled;
END $$;
--> statement-breakpoint
SELECT roll_up_movement_days();
