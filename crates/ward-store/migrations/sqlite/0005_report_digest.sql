-- A digest of each report's content (ward_model::report_rows::ReportRows::digest), so
-- that a second copy with the same key is told apart from an exact duplicate: the copy
-- with more records replaces a shorter one (a report stored cut off by an older ward),
-- and any other difference is named. NULL for reports stored before this column.
ALTER TABLE reports ADD COLUMN digest TEXT;
