-- Products, identified by their SKU.
CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    sku              TEXT NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name             TEXT NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0)
) STRICT;
