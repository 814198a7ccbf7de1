CREATE TABLE "trend_facts" (
	"project_id" bigint NOT NULL,
	"kind" "event_kind" NOT NULL,
	"year" integer,
	"vintage_year" integer,
	"credit_type" text,
	"counterparty_registry_id" text,
	"owner_organization_id" bigint,
	"is_private" boolean DEFAULT false NOT NULL,
	"quantity" numeric(20, 3) NOT NULL,
	"events" integer NOT NULL,
	CONSTRAINT "trend_facts_key" UNIQUE NULLS NOT DISTINCT("project_id","kind","year","vintage_year","credit_type","counterparty_registry_id","owner_organization_id","is_private"),
	CONSTRAINT "trend_facts_private_has_owner" CHECK (not "trend_facts"."is_private" or "trend_facts"."owner_organization_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "trend_facts" ADD CONSTRAINT "trend_facts_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trend_facts" ADD CONSTRAINT "trend_facts_counterparty_registry_id_registries_id_fk" FOREIGN KEY ("counterparty_registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trend_facts" ADD CONSTRAINT "trend_facts_owner_organization_id_organizations_id_fk" FOREIGN KEY ("owner_organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Every statement that adds events adds their sums here, in the same transaction.
CREATE FUNCTION tally_add_trend_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO trend_facts (project_id, kind, year, vintage_year, credit_type, counterparty_registry_id, owner_organization_id, is_private, quantity, events)
  SELECT e.project_id, e.kind, extract(year FROM e.occurred_on)::int, e.vintage_year, coalesce(b.credit_type, i.credit_type),
    e.counterparty_registry_id, e.owner_organization_id, e.is_private, sum(e.quantity), count(*)
  FROM added_events e
  LEFT JOIN unit_blocks b ON b.id = e.block_id
  LEFT JOIN issuances i ON i.id = e.issuance_id
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT ON CONSTRAINT trend_facts_key
  DO UPDATE SET quantity = trend_facts.quantity + excluded.quantity, events = trend_facts.events + excluded.events;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER events_trend_facts AFTER INSERT ON events REFERENCING NEW TABLE AS added_events
  FOR EACH STATEMENT EXECUTE FUNCTION tally_add_trend_facts();--> statement-breakpoint
-- The events already in the ledger.
INSERT INTO trend_facts (project_id, kind, year, vintage_year, credit_type, counterparty_registry_id, owner_organization_id, is_private, quantity, events)
SELECT e.project_id, e.kind, extract(year FROM e.occurred_on)::int, e.vintage_year, coalesce(b.credit_type, i.credit_type),
  e.counterparty_registry_id, e.owner_organization_id, e.is_private, sum(e.quantity), count(*)
FROM events e
LEFT JOIN unit_blocks b ON b.id = e.block_id
LEFT JOIN issuances i ON i.id = e.issuance_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
