CREATE TABLE "catalogue_import_staged" (
	"import_pk" bigint NOT NULL,
	"chunk_no" integer NOT NULL,
	"records" jsonb NOT NULL,
	CONSTRAINT "catalogue_import_staged_import_pk_chunk_no_pk" PRIMARY KEY("import_pk","chunk_no")
);
--> statement-breakpoint
ALTER TABLE "catalogue_import_staged" ADD CONSTRAINT "catalogue_import_staged_import_pk_catalogue_imports_id_fk" FOREIGN KEY ("import_pk") REFERENCES "public"."catalogue_imports"("id") ON DELETE no action ON UPDATE no action;