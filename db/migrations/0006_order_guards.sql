-- An order's transitions are its audit trail (who moved it, when, who owned the new state):
-- append-only, like the ledger.
CREATE TRIGGER order_transitions_append_only BEFORE UPDATE OR DELETE ON order_transitions
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER order_transitions_no_truncate BEFORE TRUNCATE ON order_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION stockflow_refuse_rewrite();
