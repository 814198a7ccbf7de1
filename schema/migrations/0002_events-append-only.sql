-- Events are the ledger's history (DESIGN §3): rows are added, never changed or removed.
CREATE FUNCTION tally_refuse_event_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % of event % refused', TG_OP, OLD.id
    USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_event_rewrite();
