-- As migrations/sqlite/0005_report_digest.sql.
ALTER TABLE reports ADD COLUMN digest TEXT COLLATE "C";
