CREATE TABLE "mirror_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mirror_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"registry_id" text NOT NULL,
	"reported_by" text NOT NULL,
	"mirror_key" text NOT NULL,
	"kind" text NOT NULL,
	"registry_project_id" text,
	"project_ref" text,
	"project_name" text,
	"country" text,
	"number_space" text,
	"serial_start" bigint,
	"serial_end" bigint,
	"serial_range" "int8range" GENERATED ALWAYS AS (case when serial_end >= serial_start then int8range(serial_start, serial_end, '[]') end) STORED,
	"serial_raw" text,
	"quantity" numeric(20, 3),
	"vintage_year" integer,
	"credit_type" text,
	"status" "unit_status",
	"status_date" date,
	"raw_record_id" bigint,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"first_batch_id" bigint,
	"last_batch_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mirror_records_natural_key" UNIQUE NULLS NOT DISTINCT("reported_by","mirror_key","owner_organization_id"),
	CONSTRAINT "mirror_records_kind" CHECK ("mirror_records"."kind" in ('project', 'units')),
	CONSTRAINT "mirror_records_units_complete" CHECK ("mirror_records"."kind" = 'project' or ("mirror_records"."quantity" > 0 and "mirror_records"."status" is not null)),
	CONSTRAINT "mirror_records_serial_order" CHECK ("mirror_records"."serial_end" >= "mirror_records"."serial_start"),
	CONSTRAINT "mirror_records_quantity_matches_serials" CHECK ("mirror_records"."serial_start" is null or "mirror_records"."quantity" = "mirror_records"."serial_end" - "mirror_records"."serial_start" + 1),
	CONSTRAINT "mirror_records_private_has_owner" CHECK (not "mirror_records"."is_private" or "mirror_records"."owner_organization_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "mirror_records" ADD CONSTRAINT "mirror_records_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mirror_records" ADD CONSTRAINT "mirror_records_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mirror_records" ADD CONSTRAINT "mirror_records_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mirror_records" ADD CONSTRAINT "mirror_records_first_batch_id_batches_id_fk" FOREIGN KEY ("first_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mirror_records" ADD CONSTRAINT "mirror_records_last_batch_id_batches_id_fk" FOREIGN KEY ("last_batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mirror_records_serial_range" ON "mirror_records" USING gist ("number_space","serial_range");--> statement-breakpoint
CREATE INDEX "mirror_records_registry_project" ON "mirror_records" USING btree ("registry_id","registry_project_id");--> statement-breakpoint
CREATE INDEX "mirror_records_project_ref" ON "mirror_records" USING btree ("project_ref");--> statement-breakpoint
CREATE INDEX "mirror_records_batch" ON "mirror_records" USING btree ("last_batch_id");