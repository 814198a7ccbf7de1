CREATE TABLE "organization_parties" (
	"organization_id" bigint NOT NULL,
	"party" varchar(3) NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organization_parties_organization_id_party_pk" PRIMARY KEY("organization_id","party"),
	CONSTRAINT "organization_parties_party_format" CHECK ("organization_parties"."party" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
ALTER TABLE "projects" DROP CONSTRAINT "projects_registry_project";--> statement-breakpoint
ALTER TABLE "projects" DROP CONSTRAINT "projects_key";--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_natural_key";--> statement-breakpoint
ALTER TABLE "unit_blocks" DROP CONSTRAINT "unit_blocks_natural_key";--> statement-breakpoint
ALTER TABLE "aef_actions" DROP CONSTRAINT "aef_actions_natural_key";--> statement-breakpoint
ALTER TABLE "aef_authorizations" DROP CONSTRAINT "aef_authorizations_natural_key";--> statement-breakpoint
ALTER TABLE "aef_authorized_entities" DROP CONSTRAINT "aef_authorized_entities_natural_key";--> statement-breakpoint
ALTER TABLE "aef_holdings" DROP CONSTRAINT "aef_holdings_natural_key";--> statement-breakpoint
ALTER TABLE "aef_submissions" DROP CONSTRAINT "aef_submissions_natural_key";--> statement-breakpoint
ALTER TABLE "corresponding_adjustments" DROP CONSTRAINT "corresponding_adjustments_natural_key";--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "runner_token" integer;--> statement-breakpoint
ALTER TABLE "organization_parties" ADD CONSTRAINT "organization_parties_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "projects_key" ON "projects" USING btree ("key");--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_identity" UNIQUE NULLS NOT DISTINCT("registry_id","registry_project_id","owner_organization_id");--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_natural_key" UNIQUE NULLS NOT DISTINCT("registry_id","event_key","owner_organization_id");--> statement-breakpoint
ALTER TABLE "unit_blocks" ADD CONSTRAINT "unit_blocks_natural_key" UNIQUE NULLS NOT DISTINCT("registry_id","block_key","owner_organization_id");--> statement-breakpoint
ALTER TABLE "aef_actions" ADD CONSTRAINT "aef_actions_natural_key" UNIQUE NULLS NOT DISTINCT("party","row_key","owner_organization_id");--> statement-breakpoint
ALTER TABLE "aef_authorizations" ADD CONSTRAINT "aef_authorizations_natural_key" UNIQUE NULLS NOT DISTINCT("party","authorization_id","version","owner_organization_id");--> statement-breakpoint
ALTER TABLE "aef_authorized_entities" ADD CONSTRAINT "aef_authorized_entities_natural_key" UNIQUE NULLS NOT DISTINCT("party","entity_id","cooperative_approach_id","owner_organization_id");--> statement-breakpoint
ALTER TABLE "aef_holdings" ADD CONSTRAINT "aef_holdings_natural_key" UNIQUE NULLS NOT DISTINCT("party","row_key","owner_organization_id");--> statement-breakpoint
ALTER TABLE "aef_submissions" ADD CONSTRAINT "aef_submissions_natural_key" UNIQUE NULLS NOT DISTINCT("party","report_year","version","owner_organization_id");--> statement-breakpoint
ALTER TABLE "corresponding_adjustments" ADD CONSTRAINT "corresponding_adjustments_natural_key" UNIQUE NULLS NOT DISTINCT("party","year","direction","cooperative_approach_id","owner_organization_id");