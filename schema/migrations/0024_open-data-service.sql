CREATE TABLE "tags" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "tags_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"project_id" bigint NOT NULL,
	"issuance_id" bigint,
	"block_id" bigint,
	"raw_record_id" bigint,
	"label_id" bigint,
	"aef_action_id" bigint,
	"aef_holding_id" bigint,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"batch_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tags_identity" UNIQUE NULLS NOT DISTINCT("code","project_id","issuance_id","block_id","label_id","aef_action_id","aef_holding_id","owner_organization_id"),
	CONSTRAINT "tags_one_subject" CHECK (num_nonnulls("tags"."issuance_id", "tags"."block_id") <= 1),
	CONSTRAINT "tags_has_source" CHECK (num_nonnulls("tags"."raw_record_id", "tags"."label_id", "tags"."aef_action_id", "tags"."aef_holding_id") >= 1),
	CONSTRAINT "tags_code_format" CHECK ("tags"."code" ~ '^[a-z0-9-]+:[a-z0-9-]+$'),
	CONSTRAINT "tags_private_has_owner" CHECK (not "tags"."is_private" or "tags"."owner_organization_id" is not null)
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"webhook_id" bigint NOT NULL,
	"event" text NOT NULL,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"response_status" integer,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_once" UNIQUE("webhook_id","subject"),
	CONSTRAINT "webhook_deliveries_status" CHECK ("webhook_deliveries"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhooks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" bigint NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"secret" text NOT NULL,
	"created_by_key_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhooks_url_is_http" CHECK ("webhooks"."url" ~ '^https?://'),
	CONSTRAINT "webhooks_has_events" CHECK (cardinality("webhooks"."events") > 0)
);
--> statement-breakpoint
ALTER TABLE "issuances" ADD COLUMN "eligibility" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "title_message" jsonb;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_issuance_id_issuances_id_fk" FOREIGN KEY ("issuance_id") REFERENCES "public"."issuances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_block_id_unit_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."unit_blocks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_raw_record_id_raw_records_id_fk" FOREIGN KEY ("raw_record_id") REFERENCES "public"."raw_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_label_id_labels_id_fk" FOREIGN KEY ("label_id") REFERENCES "public"."labels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_aef_action_id_aef_actions_id_fk" FOREIGN KEY ("aef_action_id") REFERENCES "public"."aef_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_aef_holding_id_aef_holdings_id_fk" FOREIGN KEY ("aef_holding_id") REFERENCES "public"."aef_holdings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tags" ADD CONSTRAINT "tags_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_created_by_key_id_api_keys_id_fk" FOREIGN KEY ("created_by_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tags_project" ON "tags" USING btree ("project_id","code");--> statement-breakpoint
CREATE INDEX "tags_code" ON "tags" USING btree ("code","project_id");--> statement-breakpoint
CREATE INDEX "tags_project_own" ON "tags" USING btree ("project_id") WHERE "tags"."block_id" is null and "tags"."issuance_id" is null;--> statement-breakpoint
CREATE INDEX "tags_block" ON "tags" USING btree ("block_id") WHERE "tags"."block_id" is not null;--> statement-breakpoint
CREATE INDEX "tags_issuance" ON "tags" USING btree ("issuance_id") WHERE "tags"."issuance_id" is not null;--> statement-breakpoint
CREATE INDEX "tags_private" ON "tags" USING btree ("owner_organization_id") WHERE "tags"."is_private";--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook" ON "webhook_deliveries" USING btree ("webhook_id","id");--> statement-breakpoint
CREATE INDEX "webhooks_organization" ON "webhooks" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "projects_last_batch" ON "projects" USING btree ("last_batch_id");--> statement-breakpoint
CREATE INDEX "issuances_last_batch" ON "issuances" USING btree ("last_batch_id");