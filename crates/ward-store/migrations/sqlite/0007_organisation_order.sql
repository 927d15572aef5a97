-- The order organisations were given in (the inventory's), as a column: PostgreSQL has
-- no rowid to keep it, and `ward db copy` copies it like any other value. Rows stored
-- before this column keep the order they were inserted in.
ALTER TABLE organisations ADD COLUMN position INTEGER;
UPDATE organisations SET position = rowid;
