-- As migrations/sqlite/0006_report_file_digest.sql.
ALTER TABLE reports ADD COLUMN file_digest TEXT COLLATE "C";
