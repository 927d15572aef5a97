-- As migrations/sqlite/0004_dmarc_phase.sql.
ALTER TABLE scan_assets ADD COLUMN dmarc_phase TEXT COLLATE "C";
