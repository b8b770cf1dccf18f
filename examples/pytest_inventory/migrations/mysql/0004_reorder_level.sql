-- Below this total quantity a product shows up in the low-stock report.
ALTER TABLE products ADD COLUMN reorder_level INT NOT NULL DEFAULT 0,
    ADD CONSTRAINT products_reorder_check CHECK (reorder_level >= 0);

CREATE INDEX movements_product_idx ON movements (product_id, id);
