CREATE TABLE "stated_totals" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "stated_totals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"scope" text NOT NULL,
	"scope_key" text NOT NULL,
	"registry_project_id" text,
	"vintage_year" integer,
	"vintage_start" date,
	"vintage_end" date,
	"measure" text NOT NULL,
	"quantity" numeric(20, 3) NOT NULL,
	"source" text NOT NULL,
	"stated_as" text NOT NULL,
	"stated_on" date,
	"raw_record_id" bigint,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"first_batch_id" bigint,
	"last_batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stated_totals_natural_key" UNIQUE NULLS NOT DISTINCT("registry_id","scope_key","measure","source","owner_organization_id"),
	CONSTRAINT "stated_totals_scope" CHECK ("stated_totals"."scope" in ('registry', 'project', 'project-vintage')),
	CONSTRAINT "stated_totals_measure" CHECK ("stated_totals"."measure" in ('issued', 'retired', 'cancelled', 'records')),
	CONSTRAINT "stated_totals_quantity" CHECK ("stated_totals"."quantity" >= 0),
	CONSTRAINT "stated_totals_private_has_owner" CHECK (not "stated_totals"."is_private" or "stated_totals"."owner_organization_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "stated_totals" ADD CONSTRAINT "stated_totals_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stated_totals" ADD CONSTRAINT "stated_totals_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stated_totals" ADD CONSTRAINT "stated_totals_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stated_totals" ADD CONSTRAINT "stated_totals_first_batch_id_batches_id_fk" FOREIGN KEY ("first_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stated_totals" ADD CONSTRAINT "stated_totals_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stated_totals_registry" ON "stated_totals" USING btree ("registry_id","scope");