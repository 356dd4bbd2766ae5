-- An exception's history is evidence of who decided what: append-only, like the ledger.
CREATE TRIGGER exception_events_append_only BEFORE UPDATE OR DELETE ON exception_events
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER exception_events_no_truncate BEFORE TRUNCATE ON exception_events
  FOR EACH STATEMENT EXECUTE FUNCTION stockflow_refuse_rewrite();
