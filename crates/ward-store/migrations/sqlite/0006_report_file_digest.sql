-- For a report that came whole from one large file (one XML document, or one gzip of
-- it): a digest of that file (CRC-32 and length). With the report's key, read from the
-- first bytes, it lets a second ingestion of the same file skip it without reading its
-- body. NULL for every other report.
ALTER TABLE reports ADD COLUMN file_digest TEXT;
