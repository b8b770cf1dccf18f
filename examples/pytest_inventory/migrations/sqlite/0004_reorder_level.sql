-- Below this total quantity a product shows up in the low-stock report.
ALTER TABLE products ADD COLUMN reorder_level INTEGER NOT NULL DEFAULT 0 CHECK (reorder_level >= 0);

CREATE INDEX movements_product_idx ON movements (product_id, id);
