-- The ledger, the audit trail and the records they explain are append-only. Enforced here, not in
-- application code, so no code path (or psql session) can rewrite history.
CREATE FUNCTION stockflow_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation', HINT = 'Post a correcting movement instead.';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
  FOR EACH STATEMENT EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER adjustments_append_only BEFORE UPDATE OR DELETE ON adjustments
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
CREATE TRIGGER cycle_counts_append_only BEFORE UPDATE OR DELETE ON cycle_counts
  FOR EACH ROW EXECUTE FUNCTION stockflow_refuse_rewrite();
--> statement-breakpoint
INSERT INTO reason_codes (code, description) VALUES
  ('damaged', 'Damaged and no longer sellable'),
  ('lost', 'Missing, cause unknown'),
  ('found', 'Found stock that was not on record'),
  ('theft', 'Stolen'),
  ('expired', 'Past its sell-by date'),
  ('returned', 'Returned by a customer into stock'),
  ('correction', 'Correction of an earlier mistake'),
  ('count_variance', 'Difference found by a cycle count'),
  ('supplier_feed', 'Set by a supplier stock feed');
