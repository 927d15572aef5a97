-- As migrations/sqlite/0007_organisation_order.sql: the inventory's order of
-- organisations as a column (PostgreSQL keeps no insertion order).
ALTER TABLE organisations ADD COLUMN position BIGINT;
